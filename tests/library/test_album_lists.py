"""Album lists at scale: every order (the user's own too), descending, year ranges, random paging."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from common.errors import InvalidPayload
from library import selectors
from library.models import Album, Play
from library.userdata import favourites, plays, ratings

from . import factories as f

pytestmark = pytest.mark.django_db


def titles(page: dict) -> list[str]:
    return [item["title"] for item in page["items"]]


@pytest.fixture
def shelf(make_user):
    """Five albums by three artists over four years (one undated), one track each."""
    f.library("Main")
    zed, abba, moby = f.artist("Zed"), f.artist("ABBA"), f.artist("Moby")
    albums = {
        "Arrival": f.album("Arrival", abba, year=1976, genres=["Pop"]),
        "Voulez-Vous": f.album("Voulez-Vous", abba, year=1979, genres=["Pop"]),
        "Play": f.album("Play", moby, year=1999, genres=["Electronic"]),
        "Beta": f.album("Beta", zed, year=1990, genres=["Electronic"]),
        "Undated": f.album("Undated", zed),
    }
    tracks = {title: f.track(f"{title} 1", album, number=1) for title, album in albums.items()}
    base = timezone.now()
    for minutes, title in enumerate(["Play", "Arrival", "Undated", "Beta", "Voulez-Vous"]):
        Album.objects.filter(pk=albums[title].pk).update(created=base + timedelta(minutes=minutes))
    return {"albums": albums, "tracks": tracks, "alice": make_user("alice"), "bob": make_user("bob")}


@pytest.mark.parametrize("order, expected", [
    ("name", ["Arrival", "Beta", "Play", "Undated", "Voulez-Vous"]),
    ("year", ["Arrival", "Voulez-Vous", "Beta", "Play", "Undated"]),
    ("recent", ["Voulez-Vous", "Beta", "Undated", "Arrival", "Play"]),
    ("artist", ["Arrival", "Voulez-Vous", "Play", "Beta", "Undated"]),
])
def test_orders_and_their_reverse(shelf, order, expected):
    assert titles(selectors.album_list(order=order)) == expected
    reverse = titles(selectors.album_list(order=order, descending=True))
    if order == "year":  # undated albums stay last either way
        assert reverse == ["Play", "Beta", "Voulez-Vous", "Arrival", "Undated"]
    elif order == "artist":  # Z to A, each artist's newest first, undated last
        assert reverse == ["Beta", "Undated", "Play", "Voulez-Vous", "Arrival"]
    else:
        assert reverse == expected[::-1]


def test_year_range_and_genre(shelf):
    assert titles(selectors.album_list(year_from=1979, year_to=1999, order="year")) == ["Voulez-Vous", "Beta", "Play"]
    assert titles(selectors.album_list(year_from=1990)) == ["Beta", "Play"]
    assert titles(selectors.album_list(year_to=1980, genre="pop", descending=True)) == ["Voulez-Vous", "Arrival"]


def test_random_is_a_shuffle_its_seed_pages_through(shelf):
    first = selectors.album_list(order="random", limit=2)
    seed = first["seed"]
    rest = [selectors.album_list(order="random", seed=seed, offset=offset, limit=2) for offset in (2, 4)]
    seen = titles(first) + [t for page in rest for t in titles(page)]
    assert sorted(seen) == sorted(shelf["albums"])  # every album once
    assert titles(selectors.album_list(order="random", seed=seed, limit=5)) == seen  # the same seed, the same shuffle
    orders = {tuple(titles(selectors.album_list(order="random", seed=s))) for s in range(1, 40)}  # noqa: C401
    assert len(orders) > 3  # other seeds, other shuffles


def test_personal_orders_list_only_the_users_own_albums(shelf):
    alice, bob, albums, tracks = shelf["alice"], shelf["bob"], shelf["albums"], shelf["tracks"]
    now = timezone.now()
    for title, count in (("Play", 3), ("Beta", 1), ("Arrival", 2)):
        for n in range(count):
            plays.play_record(alice, tracks[title].pk, played_at=now - timedelta(hours=10 - n))
    plays.play_record(alice, tracks["Beta"].pk, played_at=now - timedelta(minutes=1))
    plays.play_record(bob, tracks["Undated"].pk)
    favourites.favourite_set(alice, "album", albums["Undated"].pk, True)
    favourites.favourite_set(alice, "album", albums["Arrival"].pk, True)
    ratings.rating_set(alice, "album", albums["Play"].pk, 3)
    ratings.rating_set(alice, "album", albums["Voulez-Vous"].pk, 5)

    def listed(order, **kw):
        return titles(selectors.album_list(order=order, user=alice, **kw))

    assert listed("most_played") == ["Play", "Beta", "Arrival"]  # Beta and Arrival: 2 each, Beta the latest
    assert listed("most_played", descending=True) == ["Arrival", "Beta", "Play"]
    assert listed("recently_played") == ["Beta", "Play", "Arrival"]
    assert listed("starred") == ["Arrival", "Undated"]
    assert listed("top_rated") == ["Voulez-Vous", "Play"]
    assert listed("top_rated", year_to=1980) == ["Voulez-Vous"]
    assert selectors.album_list(order="most_played", user=alice)["total"] == 3
    assert titles(selectors.album_list(order="most_played", user=shelf["bob"])) == ["Undated"]
    assert Play.objects.filter(user=alice).count() == 7


def test_personal_orders_need_a_user_and_unknown_orders_are_refused(shelf):
    with pytest.raises(InvalidPayload):
        selectors.album_list(order="starred")
    with pytest.raises(InvalidPayload):
        selectors.album_list(order="size")
