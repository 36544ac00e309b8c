"""The start-up data: fixture files and seeded fake records."""
