"""Indexes for the name orderings with their tie-break: a deep page of albums or artists is an index-only scan."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('library', '0005_search_prefixes_and_fingerprint'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='album',
            index=models.Index(fields=['sort_title', 'id'], name='album_sort_title_id'),
        ),
        migrations.AddIndex(
            model_name='artist',
            index=models.Index(fields=['sort_name', 'id'], name='artist_sort_name_id'),
        ),
    ]
