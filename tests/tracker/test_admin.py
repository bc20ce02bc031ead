import pytest

from tracker import store


@pytest.mark.django_db
def test_staff_sees_tracker_state_and_log_but_cannot_change_them(admin_client, admin_user):
    tracker = store.get_or_create("player", owner=admin_user, key="desk")
    store.dispatch(tracker.pk, "player.queue.replace", {"tracks": [3, 4]})
    page = admin_client.get(f"/admin/tracker/tracker/{tracker.pk}/change/", HTTP_HOST="127.0.0.1")
    assert page.status_code == 200
    assert b"player.queue.replace" in page.content
    assert admin_client.get("/admin/tracker/tracker/add/", HTTP_HOST="127.0.0.1").status_code == 403
    response = admin_client.post(f"/admin/tracker/tracker/{tracker.pk}/change/", {"key": "x"}, HTTP_HOST="127.0.0.1")
    assert response.status_code == 403
    tracker.refresh_from_db()
    assert tracker.key == "desk"
