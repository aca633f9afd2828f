"""The saga and resilience engine. Imports no Textual and no SQLite: it talks to ports."""
