"""Database: ORM tables, engine, migrations."""
