"""The kernel: errors, clock, seeded randomness, strict JSON, text, matching, signatures.

It imports nothing of mockhub; every other layer builds on it.
"""
