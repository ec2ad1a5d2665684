"""Embeddings, scoring and matching rounds. Pure Python + numpy; never imports Telegram."""
