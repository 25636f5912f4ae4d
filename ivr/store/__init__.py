"""The database: every table, its migrations, and plain functions that take a session.

Only this package imports SQLAlchemy and Alembic (checked by .importlinter).
"""
