"""Two changes that make scans cheaper.

- The SQLite track search index drops ``artist_display``: ``search_key`` already holds the
  folded artists, and the duplicate tokens only cost time on every insert. PostgreSQL's
  trigram index is unchanged.
- ``Track.fingerprint`` is now made from the size, audio properties and tags the parser
  reads anyway, instead of a second read of the file (only its help text changes here;
  the next full scan rewrites the values).
"""
from django.db import migrations, models


def forwards(apps, schema_editor):
    from library import search

    search.rebuild(schema_editor, "track")


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
