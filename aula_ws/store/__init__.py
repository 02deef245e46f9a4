"""Persistence: tables, migrations, the unit of work and the queries services need."""
