"""The CLI SECURE fault line: takes fault reports by phone and pages engineers."""

__version__ = "0.1.0"
