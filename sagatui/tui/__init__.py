"""The Textual dashboard: the only package that imports textual. It reads the event stream and store
queries, and sends every user action to the lab as a command."""
