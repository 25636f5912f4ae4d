"""CLI SECURE fault line."""
