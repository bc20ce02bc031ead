"""REST catalogue endpoints: each parses its parameters, calls one selector and returns its result."""
from __future__ import annotations

import pytest

from library import selectors

from .conftest import assert_error

pytestmark = [pytest.mark.django_db, pytest.mark.asgi]

LIST_URLS = ["/api/v1/artists/", "/api/v1/albums/", "/api/v1/genres/", "/api/v1/search/?q=a"]


def names(page: dict, key: str = "title") -> list[str]:
    return [item[key] for item in page["items"]]


# -- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", LIST_URLS + ["/api/v1/artists/1/", "/api/v1/albums/1/", "/api/v1/tracks/1/"])
def test_anonymous_callers_get_401_unauthenticated_with_a_token_challenge(anon, url):
    response = anon.get(url)
    assert_error(response, 401, "unauthenticated")
    assert response["WWW-Authenticate"] == "Token"


def test_a_wrong_token_is_401(client_for, catalogue):
    client = client_for(None)
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_error(client.get("/api/v1/albums/"), 401, "unauthenticated")


def test_a_token_works_until_it_is_deleted_or_its_user_deactivated(client_for, alice, catalogue):
    from rest_framework.authtoken.models import Token

    client = client_for(alice)
    body = client.get("/api/v1/albums/")
    assert body.status_code == 200
    alice.is_active = False
    alice.save()
    assert_error(client.get("/api/v1/albums/"), 401, "unauthenticated")
    alice.is_active = True
    alice.save()
    assert client.get("/api/v1/albums/").status_code == 200
    Token.objects.filter(user=alice).delete()
    assert_error(client.get("/api/v1/albums/"), 401, "unauthenticated")


def test_a_session_user_may_read(client, alice, catalogue):
    client.force_login(alice)
    assert client.get("/api/v1/albums/").status_code == 200


@pytest.mark.parametrize("url", LIST_URLS)
def test_any_signed_in_user_reads_the_catalogue(as_alice, as_admin, catalogue, url):
    assert as_alice.get(url).status_code == 200
    assert as_admin.get(url).json() == as_alice.get(url).json()


# -- artists ----------------------------------------------------------------------------------


def test_artists_are_a_page_by_sort_name(as_alice, catalogue):
    page = as_alice.get("/api/v1/artists/").json()
    assert set(page) == {"items", "total", "offset", "limit"}
    assert (page["total"], page["offset"], page["limit"]) == (4, 0, 50)
    assert names(page, "name") == ["Björk", "Boards of Canada", "Sigur Rós", "Various Artists"]
    assert page == selectors.artist_list()


def test_artists_page_and_order(as_alice, catalogue):
    page = as_alice.get("/api/v1/artists/?offset=1&limit=2&order=recent").json()
    assert (page["total"], page["offset"], page["limit"]) == (4, 1, 2)
    assert page == selectors.artist_list(offset=1, limit=2, order="recent")


def test_artist_detail_has_albums_and_appearances(as_alice, catalogue):
    bjork = catalogue.artists["bjork"]
    body = as_alice.get(f"/api/v1/artists/{bjork.pk}/").json()
    assert body["name"] == "Björk"
    assert [a["title"] for a in body["albums"]] == ["Homogenic"]
    assert [a["title"] for a in body["appears_on"]] == ["A Mix"]
    assert body == selectors.artist_get(bjork.pk)


def test_a_missing_artist_is_404_not_found(as_alice, catalogue):
    assert_error(as_alice.get("/api/v1/artists/999999/"), 404, "not_found")


# -- albums -----------------------------------------------------------------------------------


def test_albums_by_name_by_default(as_alice, catalogue):
    page = as_alice.get("/api/v1/albums/").json()
    assert names(page) == ["Ágætis byrjun", "Geogaddi", "Homogenic", "A Mix", "Music Has the Right to Children"]
    assert page == selectors.album_list()


@pytest.mark.parametrize(
    "query, expected",
    [
        ("order=year", ["Homogenic", "Music Has the Right to Children", "Ágætis byrjun", "Geogaddi", "A Mix"]),
        ("year=1999", ["Ágætis byrjun"]),
        ("genre=electronic", ["Geogaddi", "Homogenic", "Music Has the Right to Children"]),
        ("genre=Pop", ["Homogenic"]),
        ("genre=Jazz", []),
        ("order=year&limit=2&offset=1", ["Music Has the Right to Children", "Ágætis byrjun"]),
    ],
)
def test_album_filters_order_and_paging(as_alice, catalogue, query, expected):
    assert names(as_alice.get(f"/api/v1/albums/?{query}").json()) == expected


def test_albums_by_artist_genre_id_and_library(as_alice, catalogue):
    boc = catalogue.artists["boc"]
    assert names(as_alice.get(f"/api/v1/albums/?artist={boc.pk}").json()) == ["Geogaddi", "Music Has the Right to Children"]
    pop = catalogue.albums["homogenic"].genres.get(name="Pop")
    assert names(as_alice.get(f"/api/v1/albums/?genre={pop.pk}").json()) == ["Homogenic"]
    other = catalogue.other_library
    assert names(as_alice.get(f"/api/v1/albums/?library={other.pk}").json()) == ["Ágætis byrjun", "A Mix"]


def test_album_page_totals_do_not_depend_on_the_page(as_alice, catalogue):
    first = as_alice.get("/api/v1/albums/?limit=2").json()
    past_the_end = as_alice.get("/api/v1/albums/?offset=10&limit=2").json()
    assert first["total"] == past_the_end["total"] == 5
    assert past_the_end["items"] == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("offset=1.5", "offset"),
        ("year=nineteen", "year"),
        ("year=10000", "year"),
        ("artist=0", "artist"),
        ("artist=abc", "artist"),
        ("library=-3", "library"),
        ("order=size", "order"),
        ("genre=" + "x" * 201, "genre"),
        ("genre=99999999999999999999", "genre"),
    ],
)
def test_bad_album_parameters_are_400_invalid_payload_naming_the_field(as_alice, catalogue, query, field):
    error = assert_error(as_alice.get(f"/api/v1/albums/?{query}"), 400, "invalid_payload")
    assert [d["field"] for d in error["details"]] == [field]
    assert field in error["message"]


def test_album_detail_has_tracks_in_order(as_alice, catalogue):
    album = catalogue.albums["geogaddi"]
    body = as_alice.get(f"/api/v1/albums/{album.pk}/").json()
    assert [t["title"] for t in body["tracks"]] == ["Ready Lets Go", "Music Is Math"]
    assert body == selectors.album_get(album.pk)


@pytest.mark.parametrize("url", ["/api/v1/albums/999999/", "/api/v1/albums/0/", "/api/v1/albums/99999999999999999999999/",
                                 "/api/v1/albums/abc/", "/api/v1/albums/-1/"])
def test_missing_or_malformed_album_ids_are_404_in_the_api_format(as_alice, catalogue, url):
    assert_error(as_alice.get(url), 404, "not_found")


# -- tracks, genres ---------------------------------------------------------------------------


def test_track_detail(as_alice, catalogue):
    track = catalogue.tracks["mixed"]
    body = as_alice.get(f"/api/v1/tracks/{track.pk}/").json()
    assert body["title"] == "Hunter"
    assert [a["name"] for a in body["artists"]] == ["Björk", "Boards of Canada"]
    assert body == selectors.track_get(track.pk)


def test_a_missing_track_is_404(as_alice, catalogue):
    assert_error(as_alice.get("/api/v1/tracks/424242/"), 404, "not_found")


def test_genres_in_use_with_counts(as_alice, catalogue):
    body = as_alice.get("/api/v1/genres/").json()
    assert [(g["name"], g["album_count"], g["track_count"]) for g in body] == [
        ("Electronic", 3, 0), ("Pop", 1, 1), ("Post-Rock", 1, 0)]
    assert body == selectors.genre_list()


# -- search -----------------------------------------------------------------------------------


def test_search_finds_word_prefixes_in_any_case_and_accent(as_alice, catalogue):
    body = as_alice.get("/api/v1/search/?q=BJOR").json()
    assert names(body["artists"], "name") == ["Björk"]
    assert names(body["albums"]) == ["Homogenic"]  # albums match their artist's name too
    body = as_alice.get("/api/v1/search/?q=sig ros").json()
    assert names(body["artists"], "name") == ["Sigur Rós"]
    assert names(body["albums"]) == ["Ágætis byrjun"]
    assert body == selectors.search("sig ros")


def test_search_pages_each_kind(as_alice, catalogue):
    body = as_alice.get("/api/v1/search/?q=boards&limit=1&offset=1").json()
    assert body["albums"]["total"] == 2 and len(body["albums"]["items"]) == 1
    assert (body["albums"]["offset"], body["albums"]["limit"]) == (1, 1)


def test_search_with_no_usable_words_finds_nothing(as_alice, catalogue):
    body = as_alice.get("/api/v1/search/?q=%2A%2A%22").json()
    assert all(body[kind]["total"] == 0 for kind in ("artists", "albums", "tracks"))


@pytest.mark.parametrize("query", ["", "?q=", "?q=%20%20", "?q=" + "a" * 201, "?q=a&limit=0", "?q=a%00b"])
def test_bad_searches_are_400_invalid_payload(as_alice, catalogue, query):
    assert_error(as_alice.get(f"/api/v1/search/{query}"), 400, "invalid_payload")


# -- the rest of the address space ------------------------------------------------------------


@pytest.mark.parametrize("url", ["/api/v1/nothing/", "/api/v1/albums", "/api/v1/albums/1/tracks/"])
def test_unknown_api_addresses_are_404_in_the_api_format(as_alice, url):
    assert_error(as_alice.get(url), 404, "not_found")


def test_writes_to_read_only_endpoints_are_405(as_alice, catalogue):
    response = as_alice.post("/api/v1/albums/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "bad_request"


def test_albums_in_the_asking_users_own_order(as_alice, catalogue, django_user_model):
    from library.userdata import favourites

    alice = django_user_model.objects.get(username="alice")
    favourites.favourite_set(alice, "album", catalogue.albums["homogenic"].pk, True)
    page = as_alice.get("/api/v1/albums/?order=starred").json()
    assert names(page) == ["Homogenic"] and page["total"] == 1
    assert names(as_alice.get("/api/v1/albums/?order=name&descending=true&year_from=1999").json()) == ["Geogaddi", "Ágætis byrjun"]
    shuffled = as_alice.get("/api/v1/albums/?order=random&limit=2").json()
    rest = as_alice.get(f"/api/v1/albums/?order=random&limit=3&offset=2&seed={shuffled['seed']}").json()
    assert sorted(names(shuffled) + names(rest)) == sorted(names(as_alice.get("/api/v1/albums/").json()))
    assert_error(as_alice.get("/api/v1/albums/?order=random&seed=0"), 400, "invalid_payload")


def test_a_tracks_file_path_is_shown_to_staff_only(as_alice, as_admin, catalogue):
    track = next(iter(catalogue.tracks.values()))
    assert "path" not in as_alice.get(f"/api/v1/tracks/{track.pk}/").json()
    shown = as_admin.get(f"/api/v1/tracks/{track.pk}/").json()["path"]
    assert shown == f"{track.library.root}/{track.path}"
