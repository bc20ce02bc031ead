"""Sort and search keys made again with ``library.text.fold``, which now folds letters that have
no decomposition (Ł, Ø, Đ, Æ, Œ, Þ...): "lodz" finds "Łódź". A rescan would not do it (unchanged
files are not written again). Only rows whose text is not ASCII can change; each key is made as
the scanner makes it (``orchestrator.scan.parse``/``writer``)."""

from django.db import migrations

from library.text import clean, fold, search_key, sort_key

BATCH = 1000


def _save(model, rows, fields):
    if rows:
        model.objects.bulk_update(rows, fields, batch_size=BATCH)


def refold(apps, schema_editor):
    Artist = apps.get_model("library", "Artist")
    Album = apps.get_model("library", "Album")
    Track = apps.get_model("library", "Track")
    TrackArtist = apps.get_model("library", "TrackArtist")

    changed = []
    names = {}
    for artist in Artist.objects.only("id", "name", "sort_name", "search_key").iterator(chunk_size=BATCH):
        names[artist.pk] = artist.name
        if artist.name.isascii():
            continue
        artist.sort_name, artist.search_key = clean(sort_key(artist.name), 500), clean(search_key(artist.name), 500)
        changed.append(artist)
    _save(Artist, changed, ["sort_name", "search_key"])

    changed = []
    for album in Album.objects.only("id", "title", "album_artist_id", "sort_title", "search_key").iterator(chunk_size=BATCH):
        artist = names.get(album.album_artist_id, "")
        if album.title.isascii() and artist.isascii():
            continue
        album.sort_title = clean(sort_key(album.title), 500)
        album.search_key = clean(search_key(album.title, artist), 1000)
        changed.append(album)
    _save(Album, changed, ["sort_title", "search_key"])

    album_titles = dict(Album.objects.values_list("id", "title"))
    track_artists = {}
    for track_id, artist_id in TrackArtist.objects.order_by("track_id", "position").values_list("track_id", "artist_id"):
        track_artists.setdefault(track_id, []).append(names.get(artist_id, ""))
    changed = []
    for track in Track.objects.only("id", "title", "album_id", "sort_title", "search_key").iterator(chunk_size=BATCH):
        artists = track_artists.get(track.pk, [])
        album = album_titles.get(track.album_id, "")
        if track.title.isascii() and album.isascii() and all(name.isascii() for name in artists):
            continue
        folded_title = fold(track.title)
        track.sort_title = clean(sort_key(track.title), 500)
        track.search_key = clean(f"{folded_title} {search_key(*artists, album)}", 2000)
        changed.append(track)
        if len(changed) >= BATCH:
            _save(Track, changed, ["sort_title", "search_key"])
            changed = []
    _save(Track, changed, ["sort_title", "search_key"])


class Migration(migrations.Migration):

    dependencies = [
        ("library", "0009_shares_and_internet_radio"),
    ]

    operations = [
        migrations.RunPython(refold, migrations.RunPython.noop, elidable=True),
    ]
