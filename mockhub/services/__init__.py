"""Per-session services: sessions, their journal, fault rules and overrides, and the control plane."""
