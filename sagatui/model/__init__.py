"""Pydantic types shared by every layer: definitions, statuses, errors, faults and events. No I/O."""
