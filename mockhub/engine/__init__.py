"""Sessions and what they hold (journal, fault rules, overrides), the Control service, errors; no HTTP library."""
