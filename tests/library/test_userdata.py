"""Per-user data services: playlists (order, permissions, limits), favourites, ratings,
plays and now playing (expiry), album rankings by rating and plays, bookmarks; cascades
when a track goes."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.errors import Forbidden, InvalidPayload, NotFound
from library.userdata import bookmarks, favourites, playlists, plays, ratings
from library.models import Album, Bookmark, Favourite, NowPlaying, Play, Playlist, PlaylistEntry, Rating, Track

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def cat():
    """Five tracks: a..e; Debut has a cover, so does track d itself."""
    f.library("Main")
    bjork = f.artist("Björk")
    red, blue = f.cover("red"), f.cover("blue")
    debut = f.album("Debut", bjork, year=1993, cover=red)
    post = f.album("Post", bjork, year=1995)
    tracks = {
        "a": f.track("Human Behaviour", post, number=1, duration_ms=250_000),
        "b": f.track("Crying", post, number=2, duration_ms=300_000),
        "c": f.track("Venus as a Boy", debut, number=3, duration_ms=280_000),
        "d": f.track("Army of Me", post, number=4, duration_ms=200_000, cover=blue),
        "e": f.track("Hyperballad", post, number=5, duration_ms=0),
    }
    return {"bjork": bjork, "debut": debut, "post": post, "red": red, "blue": blue, **tracks}


def ids(cat, names: str) -> list[int]:
    return [cat[name].pk for name in names]


def names_of(cat, playlist: dict) -> str:
    by_id = {cat[name].pk: name for name in "abcde"}
    if "tracks" in playlist:
        return "".join(by_id[track["id"]] for track in playlist["tracks"])
    return "".join(by_id[track_id] for track_id in playlist["track_ids"])


def make_playlist(user, cat, names: str = "abcde", **kwargs) -> dict:
    return playlists.playlist_create(user, "Mix", track_ids=ids(cat, names), **kwargs)


# -- playlists ------------------------------------------------------------------------------


class TestPlaylistReads:
    def test_create_then_get_keeps_order_and_sums(self, alice, cat):
        created = make_playlist(alice, cat, "cab", comment="for the bus")
        assert names_of(cat, created) == "cab"
        playlist = playlists.playlist_get(alice, created["id"])
        assert names_of(cat, playlist) == "cab"
        assert playlist["track_count"] == 3 and playlist["duration_ms"] == 280_000 + 250_000 + 300_000
        assert playlist["owner"] == {"id": alice.pk, "username": "alice"}
        assert (playlist["name"], playlist["comment"], playlist["public"]) == ("Mix", "for the bus", False)
        assert playlist["cover"] == cat["red"].pk  # c is on Debut: the first entry with a cover
        assert playlist["tracks"][0]["album"]["title"] == "Debut"  # the catalogue's track shape
        json.dumps(playlist)

    def test_cover_prefers_the_tracks_own_art_and_skips_entries_without(self, alice, cat):
        assert make_playlist(alice, cat, "abd")["cover"] == cat["blue"].pk
        assert make_playlist(alice, cat, "ab")["cover"] is None
        empty = playlists.playlist_create(alice, "Empty")
        assert (empty["track_count"], empty["duration_ms"], empty["cover"], empty["track_ids"]) == (0, 0, None, [])

    def test_the_same_track_may_appear_twice(self, alice, cat):
        playlist = playlists.playlist_get(alice, make_playlist(alice, cat, "aba")["id"])
        assert names_of(cat, playlist) == "aba" and playlist["track_count"] == 3

    def test_list_shows_own_and_others_public_by_name(self, alice, bob, cat):
        playlists.playlist_create(alice, "zebra")
        playlists.playlist_create(alice, "Alpha")
        playlists.playlist_create(bob, "Bob's shared", public=True)
        playlists.playlist_create(bob, "Bob's secret")
        assert [p["name"] for p in playlists.playlist_list(alice)] == ["Alpha", "Bob's shared", "zebra"]
        assert [p["name"] for p in playlists.playlist_list(bob)] == ["Bob's secret", "Bob's shared"]

    def test_list_does_a_fixed_number_of_queries(self, alice, cat):
        for n in range(5):
            make_playlist(alice, cat, "abc"[: n % 3 + 1])
        with CaptureQueriesContext(connection) as queries:
            assert len(playlists.playlist_list(alice)) == 5
        assert len(queries) == 1

    def test_get_does_a_fixed_number_of_queries(self, alice, cat):
        playlist = make_playlist(alice, cat, "abcdeabcde")
        with CaptureQueriesContext(connection) as queries:
            playlists.playlist_get(alice, playlist["id"])
        assert len(queries) <= 7  # with "is any library disabled?" (library.models)


class TestPlaylistPermissions:
    @pytest.fixture
    def private(self, alice, cat):
        return make_playlist(alice, cat, "ab")

    @pytest.fixture
    def shared(self, alice, cat):
        return make_playlist(alice, cat, "ab", public=True)

    def test_others_private_playlist_does_not_exist_for_you(self, bob, private):
        with pytest.raises(NotFound):
            playlists.playlist_get(bob, private["id"])

    def test_others_public_playlist_can_be_read(self, bob, shared, cat):
        assert names_of(cat, playlists.playlist_get(bob, shared["id"])) == "ab"

    @pytest.mark.parametrize("change", [
        lambda user, pid, cat: playlists.playlist_update(user, pid, name="Mine now"),
        lambda user, pid, cat: playlists.playlist_add(user, pid, [cat["c"].pk]),
        lambda user, pid, cat: playlists.playlist_remove(user, pid, [0]),
        lambda user, pid, cat: playlists.playlist_move(user, pid, 0, 1),
        lambda user, pid, cat: playlists.playlist_delete(user, pid),
    ], ids=["update", "add", "remove", "move", "delete"])
    def test_changing_others_playlists(self, bob, alice, private, shared, cat, change):
        with pytest.raises(Forbidden):
            change(bob, shared["id"], cat)
        with pytest.raises(NotFound):
            change(bob, private["id"], cat)
        assert names_of(cat, playlists.playlist_get(alice, shared["id"])) == "ab"
        assert playlists.playlist_get(alice, shared["id"])["name"] == "Mix"

    def test_missing_playlist(self, alice):
        with pytest.raises(NotFound):
            playlists.playlist_get(alice, 999_999)
        with pytest.raises(NotFound):
            playlists.playlist_delete(alice, 999_999)

    def test_delete(self, alice, private):
        playlists.playlist_delete(alice, private["id"])
        assert not Playlist.objects.exists() and not PlaylistEntry.objects.exists()


class TestPlaylistEdits:
    @pytest.mark.parametrize("position, expected", [
        (None, "abcde"), (0, "deabc"), (1, "adebc"), (3, "abcde"),
    ])
    def test_add_at_position(self, alice, cat, position, expected):
        playlist = make_playlist(alice, cat, "abc")
        changed = playlists.playlist_add(alice, playlist["id"], ids(cat, "de"), position=position)
        assert names_of(cat, changed) == expected
        assert names_of(cat, playlists.playlist_get(alice, playlist["id"])) == expected

    @pytest.mark.parametrize("indexes, expected", [
        ([0], "bcde"), ([4], "abcd"), ([1, 3], "ace"), ([3, 1, 3], "ace"), ([0, 1, 2, 3, 4], ""),
    ])
    def test_remove_indexes(self, alice, cat, indexes, expected):
        playlist = make_playlist(alice, cat)
        assert names_of(cat, playlists.playlist_remove(alice, playlist["id"], indexes)) == expected

    @pytest.mark.parametrize("from_index, to_index, expected", [
        (0, 4, "bcdea"), (4, 0, "eabcd"), (1, 3, "acdbe"), (3, 1, "adbce"), (2, 2, "abcde"),
    ])
    def test_move(self, alice, cat, from_index, to_index, expected):
        playlist = make_playlist(alice, cat)
        assert names_of(cat, playlists.playlist_move(alice, playlist["id"], from_index, to_index)) == expected
        assert names_of(cat, playlists.playlist_get(alice, playlist["id"])) == expected

    def test_update_removes_first_then_appends_and_edits_fields(self, alice, cat):
        playlist = make_playlist(alice, cat, "abc")
        changed = playlists.playlist_update(alice, playlist["id"], name="  Renamed ", comment="new", public=True,
                                           add_track_ids=ids(cat, "ea"), remove_indexes=[0, 2])
        assert names_of(cat, changed) == "bea"
        assert (changed["name"], changed["comment"], changed["public"]) == ("Renamed", "new", True)
        assert changed["updated"] >= playlist["updated"]

    def test_update_leaves_unnamed_fields_alone(self, alice, cat):
        playlist = make_playlist(alice, cat, "ab", comment="keep", public=True)
        changed = playlists.playlist_update(alice, playlist["id"], name="New")
        assert (changed["comment"], changed["public"], names_of(cat, changed)) == ("keep", True, "ab")

    @pytest.mark.parametrize("call", [
        lambda u, pid, cat: playlists.playlist_remove(u, pid, [3]),
        lambda u, pid, cat: playlists.playlist_remove(u, pid, [-1]),
        lambda u, pid, cat: playlists.playlist_move(u, pid, 0, 3),
        lambda u, pid, cat: playlists.playlist_move(u, pid, "0", 1),
        lambda u, pid, cat: playlists.playlist_add(u, pid, [cat["d"].pk], position=4),
        lambda u, pid, cat: playlists.playlist_update(u, pid, name="   "),
        lambda u, pid, cat: playlists.playlist_update(u, pid, name="x" * 501),
        lambda u, pid, cat: playlists.playlist_update(u, pid, public="yes"),
        lambda u, pid, cat: playlists.playlist_update(u, pid, remove_indexes=[0], add_track_ids=[True]),
        lambda u, pid, cat: playlists.playlist_update(u, pid, name="ok", remove_indexes=[7]),
    ], ids=["remove-past-end", "remove-negative", "move-past-end", "move-str", "add-past-end", "blank-name",
            "long-name", "public-str", "bool-id", "bad-index-with-rename"])
    def test_bad_input_changes_nothing(self, alice, cat, call):
        playlist = make_playlist(alice, cat, "abc")
        with pytest.raises(InvalidPayload):
            call(alice, playlist["id"], cat)
        after = playlists.playlist_get(alice, playlist["id"])
        assert names_of(cat, after) == "abc" and after["name"] == "Mix"

    def test_missing_tracks_are_not_found_and_nothing_is_written(self, alice, cat):
        with pytest.raises(NotFound) as caught:
            playlists.playlist_create(alice, "Mix", track_ids=[cat["a"].pk, 999_998, 999_999])
        assert "999998" in caught.value.message and caught.value.details == {"missing": [999_998, 999_999]}
        assert not Playlist.objects.exists()
        playlist = make_playlist(alice, cat, "ab")
        with pytest.raises(NotFound):
            playlists.playlist_add(alice, playlist["id"], [999_999])
        with pytest.raises(NotFound):
            playlists.playlist_update(alice, playlist["id"], remove_indexes=[0], add_track_ids=[999_999])
        assert names_of(cat, playlists.playlist_get(alice, playlist["id"])) == "ab"

    def test_a_playlist_holds_at_most_10000_entries(self, alice, cat):
        with pytest.raises(InvalidPayload):
            playlists.playlist_create(alice, "Huge", track_ids=[cat["a"].pk] * 10_001)
        full = playlists.playlist_create(alice, "Full", track_ids=[cat["a"].pk] * 10_000)
        assert full["track_count"] == 10_000
        with pytest.raises(InvalidPayload, match="at most 10,000"):
            playlists.playlist_add(alice, full["id"], [cat["b"].pk])
        with pytest.raises(InvalidPayload):
            playlists.playlist_update(alice, full["id"], add_track_ids=[cat["b"].pk])
        # Room made in the same update counts.
        changed = playlists.playlist_update(alice, full["id"], remove_indexes=[0], add_track_ids=[cat["b"].pk])
        assert changed["track_count"] == 10_000 and changed["track_ids"][-1] == cat["b"].pk

    def test_positions_are_renumbered_before_they_overflow(self, alice, cat, monkeypatch):
        monkeypatch.setattr(playlists, "MAX_POSITION", 5)
        playlist = make_playlist(alice, cat, "abc")
        for name in "deab":
            playlists.playlist_remove(alice, playlist["id"], [0])
            playlists.playlist_add(alice, playlist["id"], [cat[name].pk])
        # The third append would pass position 5: everything was renumbered from 0.
        assert names_of(cat, playlists.playlist_get(alice, playlist["id"])) == "eab"
        assert sorted(PlaylistEntry.objects.values_list("position", flat=True)) == [1, 2, 3]


class TestTrackDeletion:
    def test_deleting_a_track_cascades_to_user_data(self, alice, bob, cat):
        playlist = make_playlist(alice, cat, "abcb")
        favourites.favourite_set(alice, "track", cat["b"].pk, True)
        ratings.rating_set(alice, "track", cat["b"].pk, 4)
        plays.play_record(alice, cat["b"].pk)
        plays.play_record(bob, cat["b"].pk, submission=False, device="phone")
        bookmarks.bookmark_set(alice, cat["b"].pk, 1000)
        Track.objects.filter(pk=cat["b"].pk).delete()
        assert not Favourite.objects.exists() and not Rating.objects.exists() and not Play.objects.exists()
        assert not NowPlaying.objects.exists() and not Bookmark.objects.exists()
        got = playlists.playlist_get(alice, playlist["id"])
        assert names_of(cat, got) == "ac" and got["track_count"] == 2

    def test_indexes_are_ranks_after_gaps(self, alice, cat):
        playlist = make_playlist(alice, cat, "abcde")
        Track.objects.filter(pk__in=ids(cat, "bd")).delete()
        assert names_of(cat, playlists.playlist_move(alice, playlist["id"], 2, 0)) == "eac"
        assert names_of(cat, playlists.playlist_remove(alice, playlist["id"], [1])) == "ec"
        assert names_of(cat, playlists.playlist_add(alice, playlist["id"], ids(cat, "a"), position=1)) == "eac"


# -- favourites and ratings -----------------------------------------------------------------


class TestFavourites:
    def test_star_unstar_and_list(self, alice, bob, cat):
        first = favourites.favourite_set(alice, "track", cat["a"].pk, True)
        assert first["starred"] and first["starred_at"]
        again = favourites.favourite_set(alice, "track", cat["a"].pk, True)
        assert again["starred_at"] == first["starred_at"]  # starring again keeps the first time
        favourites.favourite_set(alice, "album", cat["debut"].pk, True)
        favourites.favourite_set(alice, "artist", cat["bjork"].pk, True)
        favourites.favourite_set(alice, "track", cat["c"].pk, True)
        listed = favourites.favourite_list(alice)
        assert [t["title"] for t in listed["tracks"]] == ["Venus as a Boy", "Human Behaviour"]  # latest first
        assert listed["tracks"][1]["starred_at"] == first["starred_at"]
        assert listed["albums"][0]["title"] == "Debut" and listed["artists"][0]["name"] == "Björk"
        assert listed["albums"][0]["starred_at"] and listed["artists"][0]["album_count"] == 2
        json.dumps(listed)
        assert favourites.favourite_list(bob) == {"artists": [], "albums": [], "tracks": []}

        gone = favourites.favourite_set(alice, "track", cat["a"].pk, False)
        assert gone == {"kind": "track", "id": cat["a"].pk, "starred": False, "starred_at": None}
        assert favourites.favourite_set(alice, "track", cat["a"].pk, False)["starred"] is False  # idempotent
        assert [t["title"] for t in favourites.favourite_list(alice)["tracks"]] == ["Venus as a Boy"]

    def test_favourite_ids(self, alice, bob, cat):
        starred = favourites.favourite_set(alice, "track", cat["b"].pk, True)["starred_at"]
        favourites.favourite_set(alice, "album", cat["post"].pk, True)
        favourites.favourite_set(bob, "track", cat["a"].pk, True)
        assert favourites.favourite_ids(alice, "track", ids(cat, "abc")) == {cat["b"].pk: starred}
        assert list(favourites.favourite_ids(alice, "album", [cat["post"].pk, cat["debut"].pk])) == [cat["post"].pk]
        assert favourites.favourite_ids(alice, "artist", []) == {}

    @pytest.mark.parametrize("kind, object_id, error", [
        ("song", 1, InvalidPayload), ("track", 999_999, NotFound), ("album", 999_999, NotFound),
        ("artist", 999_999, NotFound), ("track", 0, InvalidPayload), ("track", "1", InvalidPayload),
    ])
    def test_bad_targets(self, alice, cat, kind, object_id, error):
        with pytest.raises(error):
            favourites.favourite_set(alice, kind, object_id, True)
        assert not Favourite.objects.exists()

    def test_album_and_artist_marks_go_with_them(self, alice, cat):
        lonely = f.album("Lonely", "Nobody")
        favourites.favourite_set(alice, "album", lonely.pk, True)
        ratings.rating_set(alice, "artist", lonely.album_artist_id, 3)
        artist = lonely.album_artist
        lonely.delete()
        artist.delete()
        assert not Favourite.objects.exists() and not Rating.objects.exists()


class TestRatings:
    def test_set_change_clear(self, alice, bob, cat):
        assert ratings.rating_set(alice, "track", cat["a"].pk, 3) == {"kind": "track", "id": cat["a"].pk, "rating": 3}
        ratings.rating_set(alice, "track", cat["a"].pk, 5)
        ratings.rating_set(alice, "track", cat["b"].pk, 1)
        ratings.rating_set(alice, "album", cat["post"].pk, 2)
        ratings.rating_set(bob, "track", cat["c"].pk, 4)
        assert ratings.rating_get_many(alice, "track", ids(cat, "abc")) == {cat["a"].pk: 5, cat["b"].pk: 1}
        assert ratings.rating_get_many(alice, "album", [cat["post"].pk]) == {cat["post"].pk: 2}
        assert ratings.rating_set(alice, "track", cat["a"].pk, 0)["rating"] == 0
        assert ratings.rating_get_many(alice, "track", ids(cat, "abc")) == {cat["b"].pk: 1}
        assert Rating.objects.count() == 3

    @pytest.mark.parametrize("rating", [-1, 6, True, "3", 2.5, None])
    def test_out_of_range(self, alice, cat, rating):
        with pytest.raises(InvalidPayload):
            ratings.rating_set(alice, "track", cat["a"].pk, rating)
        assert not Rating.objects.exists()

    def test_bad_kind_and_missing_object(self, alice, cat):
        with pytest.raises(InvalidPayload):
            ratings.rating_set(alice, "genre", 1, 3)
        with pytest.raises(NotFound):
            ratings.rating_set(alice, "album", 999_999, 3)
        with pytest.raises(InvalidPayload):
            ratings.rating_get_many(alice, "genre", [1])


# -- plays and now playing ------------------------------------------------------------------


class TestPlays:
    def test_record_list_and_count(self, alice, bob, cat):
        base = timezone.now() - timedelta(hours=1)
        for minutes, name in enumerate("abab"):
            plays.play_record(alice, cat[name].pk, played_at=base + timedelta(minutes=minutes), device="phone")
        plays.play_record(bob, cat["a"].pk)
        page = plays.play_list(alice, limit=3)
        assert (page["total"], page["offset"], page["limit"]) == (4, 0, 3)
        assert [p["track"]["title"] for p in page["items"]] == ["Crying", "Human Behaviour", "Crying"]
        assert page["items"][0]["device"] == "phone" and page["items"][0]["submission"] is True
        assert plays.play_list(alice, offset=3)["items"][0]["played_at"] == base.isoformat()
        assert plays.play_list(alice, offset=10)["items"] == []
        assert plays.play_counts(alice, ids(cat, "abc")) == {cat["a"].pk: 2, cat["b"].pk: 2}
        assert plays.play_counts(bob, ids(cat, "ab")) == {cat["a"].pk: 1}
        stats = plays.play_stats(alice, ids(cat, "a"))
        assert stats == {cat["a"].pk: {"count": 2, "last_played": (base + timedelta(minutes=2)).isoformat()}}
        json.dumps(page)

    def test_times_ahead_of_the_clock_count_as_now_and_naive_times_are_utc(self, alice, cat):
        ahead = plays.play_record(alice, cat["a"].pk, played_at=timezone.now() + timedelta(days=3))
        assert datetime.fromisoformat(ahead["played_at"]) <= timezone.now()
        naive = plays.play_record(alice, cat["a"].pk, played_at=datetime(2020, 5, 1, 12, 0))
        assert naive["played_at"] == datetime(2020, 5, 1, 12, 0, tzinfo=dt_timezone.utc).isoformat()

    @pytest.mark.parametrize("kwargs, error", [
        ({"track_id": 999_999}, NotFound),
        ({"track_id": "1"}, InvalidPayload),
        ({"played_at": "yesterday"}, InvalidPayload),
        ({"device": "x" * 101}, InvalidPayload),
        ({"submission": "true"}, InvalidPayload),
    ])
    def test_bad_input(self, alice, cat, kwargs, error):
        kwargs = {"track_id": cat["a"].pk, **kwargs}
        with pytest.raises(error):
            plays.play_record(alice, kwargs.pop("track_id"), **kwargs)
        assert not Play.objects.exists() and not NowPlaying.objects.exists()


class TestAlbumRankings:
    """``album_ids_by_rating`` / ``album_ids_by_plays``: Subsonic's highest, frequent, recent."""

    @pytest.fixture
    def more(self, cat):
        """Four more albums of Björk's, one track each (ids ascending in this order)."""
        albums = {name: f.album(name, cat["bjork"]) for name in ("Homogenic", "Vespertine", "Medulla", "Volta")}
        return {name: (album, f.track(f"{name} track", album, number=1)) for name, album in albums.items()}

    BASE = datetime(2024, 5, 1, 12, 0, tzinfo=dt_timezone.utc)

    def play(self, user, track, minute: int, *, submission: bool = True) -> None:
        Play.objects.create(user=user, track=track, played_at=self.BASE + timedelta(minutes=minute), submission=submission)

    def test_by_rating_highest_then_latest_rated_then_id(self, alice, bob, cat, more, django_assert_num_queries):
        debut, post, homogenic, vespertine = cat["debut"], cat["post"], more["Homogenic"][0], more["Vespertine"][0]
        for album, rating in ((post, 5), (homogenic, 5), (debut, 3), (vespertine, 3)):
            ratings.rating_set(alice, "album", album.pk, rating)
        base = self.BASE
        stamps = {post: base + timedelta(minutes=1), homogenic: base + timedelta(minutes=2), debut: base, vespertine: base}
        for album, when in stamps.items():
            Rating.objects.filter(user=alice, album=album).update(updated=when)
        ratings.rating_set(alice, "track", cat["c"].pk, 5)  # a track's rating is not its album's
        ratings.rating_set(bob, "album", more["Volta"][0].pk, 5)  # another user's rating does not count
        albums = Album.objects.all()
        with django_assert_num_queries(1):
            found = ratings.album_ids_by_rating(alice, albums, offset=0, size=50)
        assert found == [homogenic.pk, post.pk, debut.pk, vespertine.pk]
        assert ratings.album_ids_by_rating(alice, albums, offset=1, size=2) == [post.pk, debut.pk]
        assert ratings.album_ids_by_rating(alice, albums, offset=4, size=10) == []
        assert ratings.album_ids_by_rating(alice, albums, offset=0, size=0) == []
        assert ratings.album_ids_by_rating(bob, albums, offset=0, size=10) == [more["Volta"][0].pk]
        assert ratings.album_ids_by_rating(bob, Album.objects.none(), offset=0, size=10) == []
        restricted = Album.objects.exclude(pk=homogenic.pk)
        assert ratings.album_ids_by_rating(alice, restricted, offset=0, size=50) == [post.pk, debut.pk, vespertine.pk]

    def test_by_plays_frequent_and_recent(self, alice, bob, cat, more, django_assert_num_queries):
        post, debut = cat["post"], cat["debut"]
        (homogenic, h), (vespertine, v), (medulla, m), (volta, vo) = more.values()
        for minute, track in ((1, cat["a"]), (2, cat["b"]), (3, cat["a"])):
            self.play(alice, track, minute)  # Post: 3 plays, the last at 3
        for minute in (4, 5):
            self.play(alice, cat["c"], minute)  # Debut: 2 plays, the last at 5
        for minute in (1, 2):
            self.play(alice, h, minute)  # Homogenic: 2 plays, the last at 2
        self.play(alice, m, 0)  # Medulla and Volta: 1 play each, at the same time
        self.play(alice, vo, 0)
        self.play(alice, v, 9, submission=False)  # Vespertine: the latest play, but not submitted
        for minute in range(10, 20):
            self.play(bob, vo, minute)  # another user's plays do not count
        albums = Album.objects.all()
        with django_assert_num_queries(1):
            frequent = plays.album_ids_by_plays(alice, albums, order="frequent", offset=0, size=50)
        assert frequent == [post.pk, debut.pk, homogenic.pk, medulla.pk, volta.pk]
        with django_assert_num_queries(1):
            recent = plays.album_ids_by_plays(alice, albums, order="recent", offset=0, size=50)
        assert recent == [vespertine.pk, debut.pk, post.pk, homogenic.pk, medulla.pk, volta.pk]
        assert plays.album_ids_by_plays(alice, albums, order="frequent", offset=1, size=2) == [debut.pk, homogenic.pk]
        assert plays.album_ids_by_plays(alice, albums, order="recent", offset=6, size=5) == []
        assert plays.album_ids_by_plays(bob, albums, order="frequent", offset=0, size=50) == [volta.pk]
        assert plays.album_ids_by_plays(bob, albums, order="recent", offset=0, size=50) == [volta.pk]
        restricted = Album.objects.exclude(pk__in=[post.pk, vespertine.pk])
        assert plays.album_ids_by_plays(alice, restricted, order="frequent", offset=0, size=50) == [
            debut.pk, homogenic.pk, medulla.pk, volta.pk]
        assert plays.album_ids_by_plays(alice, restricted, order="recent", offset=0, size=50) == [
            debut.pk, homogenic.pk, medulla.pk, volta.pk]

    @pytest.mark.parametrize("call", [
        lambda user: ratings.album_ids_by_rating(user, Album.objects.all(), offset=-1, size=10),
        lambda user: ratings.album_ids_by_rating(user, Album.objects.all(), offset=0, size="10"),
        lambda user: plays.album_ids_by_plays(user, Album.objects.all(), order="newest", offset=0, size=10),
        lambda user: plays.album_ids_by_plays(user, Album.objects.all(), order="recent", offset=None, size=10),
        lambda user: plays.album_ids_by_plays(user, Album.objects.all(), order="frequent", offset=0, size=-5),
    ])
    def test_bad_input(self, alice, call):
        with pytest.raises(InvalidPayload):
            call(alice)


class TestNowPlaying:
    def test_one_entry_per_device_replaced_by_the_next_track(self, alice, bob, cat):
        result = plays.play_record(alice, cat["a"].pk, submission=False, device="phone")
        assert result["id"] is None and result["submission"] is False
        plays.play_record(alice, cat["b"].pk, submission=False, device="phone")
        plays.play_record(alice, cat["c"].pk, submission=False, device="desk")
        plays.play_record(bob, cat["d"].pk, submission=False)
        assert not Play.objects.exists()  # "now playing" is not a play
        now = plays.now_playing_list()
        assert sorted((n["user"]["username"], n["device"], n["track"]["title"]) for n in now) == [
            ("alice", "desk", "Venus as a Boy"), ("alice", "phone", "Crying"), ("bob", "", "Army of Me"),
        ]
        assert all(n["minutes_ago"] == 0 for n in now)
        json.dumps(now)

    def test_entries_expire_after_the_duration_and_a_margin(self, alice, bob, cat):
        now = timezone.now()
        margin = plays.NOW_PLAYING_MARGIN
        # a: 250 s long, started just inside its window; b: 300 s, started just past it.
        plays.play_record(alice, cat["a"].pk, submission=False, device="phone",
                             played_at=now - timedelta(seconds=250) - margin + timedelta(seconds=30))
        plays.play_record(bob, cat["b"].pk, submission=False, device="phone",
                             played_at=now - timedelta(seconds=300) - margin - timedelta(seconds=1))
        listed = plays.now_playing_list()
        assert [(n["user"]["username"], n["minutes_ago"]) for n in listed] == [("alice", 8)]

    def test_unknown_duration_lasts_the_default(self, alice, cat):
        unknown = plays.NOW_PLAYING_UNKNOWN
        plays.play_record(alice, cat["e"].pk, submission=False,
                             played_at=timezone.now() - unknown + timedelta(seconds=30))
        assert len(plays.now_playing_list()) == 1
        plays.play_record(alice, cat["e"].pk, submission=False,
                             played_at=timezone.now() - unknown - timedelta(seconds=1))
        assert plays.now_playing_list() == []

    def test_expired_rows_are_cleared_on_the_next_write(self, alice, bob, cat):
        plays.play_record(alice, cat["a"].pk, submission=False, played_at=timezone.now() - timedelta(hours=2))
        assert NowPlaying.objects.count() == 1
        plays.play_record(bob, cat["b"].pk, submission=False)
        assert list(NowPlaying.objects.values_list("user__username", flat=True)) == ["bob"]


# -- bookmarks ------------------------------------------------------------------------------


class TestBookmarks:
    def test_set_move_list_delete(self, alice, bob, cat):
        made = bookmarks.bookmark_set(alice, cat["a"].pk, 1_000, "chapter 1")
        assert (made["track"]["id"], made["position_ms"], made["comment"]) == (cat["a"].pk, 1_000, "chapter 1")
        bookmarks.bookmark_set(alice, cat["b"].pk, 5)
        moved = bookmarks.bookmark_set(alice, cat["a"].pk, 2_000)
        assert moved["position_ms"] == 2_000 and moved["comment"] == "" and moved["created"] == made["created"]
        listed = bookmarks.bookmark_list(alice)
        assert [(b["track"]["title"], b["position_ms"]) for b in listed] == [("Human Behaviour", 2_000), ("Crying", 5)]
        assert bookmarks.bookmark_list(bob) == []
        bookmarks.bookmark_delete(alice, cat["a"].pk)
        bookmarks.bookmark_delete(alice, cat["a"].pk)  # nothing left to delete: fine
        assert [b["track"]["title"] for b in bookmarks.bookmark_list(alice)] == ["Crying"]
        json.dumps(listed)

    @pytest.mark.parametrize("call, error", [
        (lambda u, cat: bookmarks.bookmark_set(u, 999_999, 0), NotFound),
        (lambda u, cat: bookmarks.bookmark_set(u, cat["a"].pk, -1), InvalidPayload),
        (lambda u, cat: bookmarks.bookmark_set(u, cat["a"].pk, 8 * 24 * 3600 * 1000), InvalidPayload),
        (lambda u, cat: bookmarks.bookmark_set(u, cat["a"].pk, 10, "x" * 5001), InvalidPayload),
        (lambda u, cat: bookmarks.bookmark_delete(u, 999_999), NotFound),
    ])
    def test_bad_input(self, alice, cat, call, error):
        with pytest.raises(error):
            call(alice, cat)
        assert not Bookmark.objects.exists()


class TestIdsPastTheDatabaseRange:
    """No row has an id past 2**63 - 1: such ids are not found (never a database overflow)."""

    @pytest.mark.parametrize("call", [
        lambda u: playlists.playlist_get(u, 2**70),
        lambda u: playlists.playlist_create(u, "x", track_ids=[2**70]),
        lambda u: favourites.favourite_set(u, "track", 2**70, True),
        lambda u: ratings.rating_set(u, "album", 2**70, 3),
        lambda u: plays.play_record(u, 2**70),
        lambda u: bookmarks.bookmark_delete(u, 2**70),
    ], ids=["playlist", "playlist-tracks", "favourite", "rating", "play", "bookmark"])
    def test_not_found(self, alice, call):
        with pytest.raises(NotFound):
            call(alice)

    def test_lookups_leave_them_out(self, alice, cat):
        plays.play_record(alice, cat["a"].pk)
        assert plays.play_counts(alice, [cat["a"].pk, 2**70]) == {cat["a"].pk: 1}
        assert favourites.favourite_ids(alice, "track", [2**70]) == {}
        assert ratings.rating_get_many(alice, "artist", [2**70]) == {}
