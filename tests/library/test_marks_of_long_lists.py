"""A long list decorated with the user's marks: read whole (few marks) or looked up by id
(many), the same answer either way."""
from __future__ import annotations

import pytest

from library.userdata import favourites, plays, ratings, shared

from . import factories as f

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("whole_set", [shared.WHOLE_SET, 2])  # 2: fewer than alice has: looked up by id
def test_stars_ratings_and_plays_of_a_long_list(make_user, monkeypatch, whole_set):
    monkeypatch.setattr(shared, "WHOLE_SET", whole_set)
    alice, bob = make_user("alice"), make_user("bob")
    album = f.album("Long", "Someone")
    tracks = [f.track(f"T{n}", album, number=n).pk for n in range(1, 81)]
    listed = tracks[:70]  # more than FEW_IDS
    for pk in (tracks[0], tracks[10], tracks[75]):
        favourites.favourite_set(alice, "track", pk, True)
    favourites.favourite_set(bob, "track", tracks[1], True)
    for pk, stars in ((tracks[2], 4), (tracks[11], 2), (tracks[79], 5)):
        ratings.rating_set(alice, "track", pk, stars)
    ratings.rating_set(bob, "track", tracks[3], 1)
    for pk in (tracks[5], tracks[5], tracks[6], tracks[78]):
        plays.play_record(alice, pk)
    plays.play_record(bob, tracks[7])
    assert set(favourites.favourite_ids(alice, "track", listed)) == {tracks[0], tracks[10]}
    assert ratings.rating_get_many(alice, "track", listed) == {tracks[2]: 4, tracks[11]: 2}
    assert plays.play_counts(alice, listed) == {tracks[5]: 2, tracks[6]: 1}
