"""Telegram handlers, one module per flow; each has `register(application)`."""
