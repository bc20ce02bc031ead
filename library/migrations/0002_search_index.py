"""The search index: FTS5 tables and triggers on SQLite, GIN indexes on PostgreSQL.

The statements live in ``library.search`` (``install``/``uninstall``), which also repairs
SQLite triggers after later migrations rebuild a table.
"""
from django.db import migrations


def forwards(apps, schema_editor):
    from library import search

    search.install(schema_editor)


def backwards(apps, schema_editor):
    from library import search

    search.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
