"""The dashboard's screens: the main board, a saga's timeline, help, and the small dialogs."""
