"""SQLite persistence: schema and migrations, the group-commit event writer, read queries and the
run invariants. The only package that speaks SQL."""
