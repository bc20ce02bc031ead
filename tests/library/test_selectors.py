"""The shared catalogue queries: shapes, paging, filters, ordering, not-found, bounded queries."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from common.errors import InvalidPayload, NotFound
from library import selectors
from library.models import Album

from . import factories as f

pytestmark = pytest.mark.django_db


def titles(page: dict) -> list[str]:
    return [item["title"] for item in page["items"]]


@pytest.fixture
def catalogue():
    """Two libraries; Björk (2 albums), Portishead (1), a compilation Björk appears on."""
    main, other = f.library("Main"), f.library("Other")
    bjork, portishead = f.artist("Björk"), f.artist("Portishead")
    red, blue = f.cover("red"), f.cover("blue")
    debut = f.album("Debut", bjork, year=1993, genres=["Pop"], cover=red)
    homogenic = f.album("Homogenic", bjork, year=1997, genres=["Electronic", "Pop"])
    dummy = f.album("Dummy", portishead, year=1994, genres=["Trip Hop"], cover=blue)
    mix = f.album("A Mix", "Various Artists", compilation=True)
    f.track("Human Behaviour", debut, number=1, lib=main)
    f.track("Venus as a Boy", debut, number=3, lib=main)
    f.track("Crying", debut, number=2, lib=main)
    f.track("Jóga", homogenic, number=2, disc=2, lib=main, genres=["Electronic"])
    f.track("Hunter", homogenic, number=1, disc=1, lib=main, cover=blue)
    f.track("Roads", dummy, number=5, lib=other)
    f.track("Together", mix, artists=[bjork, portishead], number=1, lib=other)
    f.genre("Unused")
    # "recent" order follows ``created``: make it distinct.
    base = timezone.now()
    for offset, album in enumerate([debut, dummy, homogenic, mix]):
        Album.objects.filter(pk=album.pk).update(created=base + timedelta(minutes=offset))
    return {"bjork": bjork, "portishead": portishead, "debut": debut, "homogenic": homogenic, "dummy": dummy,
            "mix": mix, "main": main, "other": other, "red": red, "blue": blue}


class TestPaging:
    def test_bounds_are_clamped(self):
        assert selectors.page_bounds(None, None) == (0, 50)
        assert selectors.page_bounds(-5, 0) == (0, 1)
        assert selectors.page_bounds(10, 10_000) == (10, 500)

    def test_page_shape_and_past_the_end(self, catalogue):
        page = selectors.album_list(offset=1, limit=2)
        assert set(page) == {"items", "total", "offset", "limit"}
        assert (page["total"], page["offset"], page["limit"], len(page["items"])) == (4, 1, 2, 2)
        assert selectors.album_list(offset=10)["items"] == []
        assert selectors.album_list(offset=10)["total"] == 4

    def test_unknown_order_is_invalid(self, catalogue):
        with pytest.raises(InvalidPayload):
            selectors.album_list(order="size")
        with pytest.raises(InvalidPayload):
            selectors.artist_list(order="year")


class TestArtists:
    def test_list_by_sort_name_with_album_counts(self, catalogue):
        page = selectors.artist_list()
        assert [(a["name"], a["album_count"]) for a in page["items"]] == [
            ("Björk", 2), ("Portishead", 1), ("Various Artists", 1),
        ]
        assert selectors.artist_list(order="recent")["items"][0]["name"] == "Various Artists"
        assert [a["name"] for a in selectors.artist_list(offset=1, limit=1)["items"]] == ["Portishead"]

    def test_get_with_albums_by_year_and_appearances(self, catalogue):
        artist = selectors.artist_get(catalogue["bjork"].pk)
        assert artist["name"] == "Björk" and artist["album_count"] == 2
        assert [a["title"] for a in artist["albums"]] == ["Debut", "Homogenic"]
        assert [a["title"] for a in artist["appears_on"]] == ["A Mix"]

    def test_get_missing(self, catalogue):
        with pytest.raises(NotFound):
            selectors.artist_get(999_999)


class TestAlbums:
    def test_album_shape(self, catalogue):
        album = next(a for a in selectors.album_list()["items"] if a["title"] == "Homogenic")
        assert album == {
            "id": catalogue["homogenic"].pk,
            "title": "Homogenic",
            "sort_title": "homogenic",
            "artist": {"id": catalogue["bjork"].pk, "name": "Björk"},
            "year": 1997,
            "genres": ["Electronic", "Pop"],
            "compilation": False,
            "disc_count": 1,
            "track_count": 0,
            "duration_ms": 0,
            "cover": None,
            "created": album["created"],
        }
        assert isinstance(album["created"], str) and "T" in album["created"]

    def test_orders(self, catalogue):
        assert titles(selectors.album_list()) == ["Debut", "Dummy", "Homogenic", "A Mix"]  # sort titles: "mix"
        assert titles(selectors.album_list(order="year")) == ["Debut", "Dummy", "Homogenic", "A Mix"]  # no year last
        assert titles(selectors.album_list(order="recent")) == ["A Mix", "Homogenic", "Dummy", "Debut"]

    def test_filters(self, catalogue):
        assert titles(selectors.album_list(artist=catalogue["bjork"].pk)) == ["Debut", "Homogenic"]
        pop = f.genre("Pop").pk
        assert titles(selectors.album_list(genre=pop)) == ["Debut", "Homogenic"]
        assert titles(selectors.album_list(genre="trip hop")) == ["Dummy"]
        assert titles(selectors.album_list(year=1997)) == ["Homogenic"]
        assert titles(selectors.album_list(library=catalogue["other"].pk)) == ["Dummy", "A Mix"]
        assert titles(selectors.album_list(library=catalogue["main"].pk, genre="Pop", year=1993)) == ["Debut"]
        assert selectors.album_list(artist=999_999) == {"items": [], "total": 0, "offset": 0, "limit": 50}

    def test_get_orders_tracks_by_disc_and_number(self, catalogue):
        album = selectors.album_get(catalogue["debut"].pk)
        assert album["cover"] == catalogue["red"].pk
        assert titles({"items": album["tracks"]}) == ["Human Behaviour", "Crying", "Venus as a Boy"]
        homogenic = selectors.album_get(catalogue["homogenic"].pk)
        assert [(t["disc_number"], t["track_number"], t["title"]) for t in homogenic["tracks"]] == [
            (1, 1, "Hunter"), (2, 2, "Jóga"),
        ]

    def test_get_missing(self, catalogue):
        with pytest.raises(NotFound):
            selectors.album_get(999_999)


class TestTracks:
    def test_get(self, catalogue):
        together = catalogue["mix"].tracks.get()
        track = selectors.track_get(together.pk)
        assert track["title"] == "Together"
        assert track["artist"] == "Björk, Portishead"
        assert [a["name"] for a in track["artists"]] == ["Björk", "Portishead"]
        assert track["album"] == {"id": catalogue["mix"].pk, "title": "A Mix"}
        assert track["album_artist"]["name"] == "Various Artists"
        assert track["library"] == catalogue["other"].pk
        assert {"lyrics", "musicbrainz", "replaygain", "track_total", "updated"} <= set(track)
        json.dumps(track)

    def test_artists_in_tag_order_and_genres_by_name(self, catalogue):
        """Neither alphabetical nor id order: Portishead before Björk, as tagged."""
        made = f.track("Reversed", catalogue["mix"], artists=[catalogue["portishead"], catalogue["bjork"]], number=2,
                       lib=catalogue["other"], genres=["Trip Hop", "Electronic"])
        track = selectors.track_get(made.pk)
        assert [a["name"] for a in track["artists"]] == ["Portishead", "Björk"]
        assert track["genres"] == ["Electronic", "Trip Hop"]
        [listed] = [t for t in selectors.album_get(catalogue["mix"].pk)["tracks"] if t["id"] == made.pk]
        assert (listed["artists"], listed["genres"]) == (track["artists"], track["genres"])
        [found] = selectors.tracks_by_ids([made.pk])
        assert (found["artists"], found["genres"]) == (track["artists"], track["genres"])

    def test_cover_falls_back_to_the_album_cover(self, catalogue):
        debut_track = catalogue["debut"].tracks.first()
        hunter = catalogue["homogenic"].tracks.get(title="Hunter")
        jóga = catalogue["homogenic"].tracks.get(title="Jóga")
        assert selectors.track_get(debut_track.pk)["cover"] == catalogue["red"].pk
        assert selectors.track_get(hunter.pk)["cover"] == catalogue["blue"].pk
        assert selectors.track_get(jóga.pk)["cover"] is None
        assert selectors.track_get(jóga.pk)["genres"] == ["Electronic"]

    def test_get_missing(self, catalogue):
        with pytest.raises(NotFound):
            selectors.track_get(999_999)


def test_genre_list_counts_and_leaves_out_unused(catalogue):
    assert selectors.genre_list() == [
        {"id": f.genre("Electronic").pk, "name": "Electronic", "album_count": 1, "track_count": 1},
        {"id": f.genre("Pop").pk, "name": "Pop", "album_count": 2, "track_count": 0},
        {"id": f.genre("Trip Hop").pk, "name": "Trip Hop", "album_count": 1, "track_count": 0},
    ]


class TestSearch:
    def test_all_three_kinds_as_pages(self, catalogue):
        result = selectors.search("bjork")
        assert set(result) == {"artists", "albums", "tracks"}
        assert [a["name"] for a in result["artists"]["items"]] == ["Björk"]
        assert sorted(titles(result["albums"])) == ["Debut", "Homogenic"]
        assert sorted(titles(result["tracks"])) == ["Crying", "Human Behaviour", "Hunter", "Jóga", "Together", "Venus as a Boy"]
        assert result["tracks"]["total"] == 6
        json.dumps(result)

    def test_paging_is_shared(self, catalogue):
        result = selectors.search("bjork", offset=2, limit=2)
        assert result["tracks"]["offset"] == 2 and result["tracks"]["limit"] == 2
        assert len(result["tracks"]["items"]) == 2 and result["tracks"]["total"] == 6
        assert result["artists"]["items"] == [] and result["artists"]["total"] == 1

    def test_no_words_no_results(self, catalogue):
        empty = {"items": [], "total": 0, "offset": 0, "limit": 50, "total_exact": True}
        assert selectors.search("  */- ") == {"artists": empty, "albums": empty, "tracks": empty}


class TestQueryCounts:
    """List calls do a fixed number of queries, however many rows they return."""

    @pytest.fixture
    def big(self):
        lib = f.library()
        for a in range(8):
            artist = f.artist(f"Artist {a}")
            for b in range(5):
                album = f.album(f"Album {a}-{b}", artist, year=1990 + b, genres=["Rock", f"G{b}"], cover=f.cover(f"{a}{b}"))
                for t in range(3):
                    f.track(f"Song {a}-{b}-{t}", album, number=t + 1, lib=lib, artists=[artist, "Guest"], genres=["Rock"])
        return lib

    # Reading tracks or albums first asks whether any library is disabled (one tiny query per
    # ``playable()``: with none disabled the hiding filter is left out, see library.models).

    def test_lists(self, big, django_assert_max_num_queries):
        with django_assert_max_num_queries(2):
            assert len(selectors.artist_list(limit=500)["items"]) == 9
        # album_list: any disabled?, count, the page's ids, those albums, their genres
        with django_assert_max_num_queries(5):
            assert len(selectors.album_list(limit=500)["items"]) == 40
        with django_assert_max_num_queries(5):
            assert len(selectors.album_list(genre="rock", library=big.pk, order="year")["items"]) == 40
        with django_assert_max_num_queries(1):
            assert len(selectors.genre_list()) == 6

    def test_gets(self, big, django_assert_max_num_queries):
        artist = f.artist("Artist 0")
        album = Album.objects.filter(album_artist=artist).first()
        track = album.tracks.first()
        with django_assert_max_num_queries(6):
            assert len(selectors.artist_get(artist.pk)["albums"]) == 5
        with django_assert_max_num_queries(6):
            assert len(selectors.album_get(album.pk)["tracks"]) == 3
        with django_assert_max_num_queries(4):
            selectors.track_get(track.pk)

    def test_search(self, big, django_assert_max_num_queries):
        # per kind: count + page of ids, the rows, their prefetches (artists 0, albums 1, tracks 2)
        with django_assert_max_num_queries(3 * 3 + 1 + 2):
            result = selectors.search("song", limit=500)
        assert result["tracks"]["total"] == 120 and len(result["tracks"]["items"]) == 120
        assert result["artists"]["total"] == 0
