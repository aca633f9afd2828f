"""Simulated services whose state lives in SQLite rows, and the faults a user switches on them."""
