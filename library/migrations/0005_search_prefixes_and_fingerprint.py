"""Search and scan speed.

- SQLite search indexes get prefix indexes for two- and three-character prefixes, and the
  track index drops ``artist_display``: ``search_key`` already holds the folded artists,
  and the duplicate tokens only cost time on every insert. On PostgreSQL the trigram
  indexes become full-text GIN indexes over a generated ``search_document`` column (see
  ``library.search``).
- ``Track.fingerprint`` is now made from the size, audio properties and tags the parser
  reads anyway, instead of a second read of the file (only its help text changes here;
  a full scan rewrites the values).
"""
from django.db import migrations, models


def forwards(apps, schema_editor):
    from library import search

    for kind in search.INDEXES:
        search.rebuild(schema_editor, kind)


class Migration(migrations.Migration):
    dependencies = [("library", "0004_subsonic_credentials")]

    operations = [
        migrations.AlterField(
            model_name="track",
            name="fingerprint",
            field=models.CharField(db_index=True, help_text="size + hash of the audio properties and tags, to follow moved files", max_length=64),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False),
    ]
