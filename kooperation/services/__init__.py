"""Plain functions over a session, one per use case. Bot handlers and the CLI call these."""
