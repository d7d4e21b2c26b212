"""Persistence: SQLAlchemy models, the database engine, migrations, seed data."""
