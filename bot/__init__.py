"""Telegram interface of Kooperationsbörse: app factory, handlers, texts, schedules, CLI."""
