"""Remove queue entries that name no track from stored player and party states.

Older versions accepted any integer as a track id (2**70 broke every reader of the state)
and tracks that did not exist. Each tracker whose ``state`` or ``base_state`` holds such an
entry gets both cleaned (``tracker.reducers.playback.keep_entries``: the index and play
order follow the remaining entries), and its log folded into ``base_state``, so that the
log still replays to the state (subscribers behind it get a snapshot, as after compaction).
"""
from django.db import migrations

from common.bounds import MAX_INT
from tracker.reducers.playback import keep_entries

CHUNK = 500


def _usable(entry) -> bool:
    return type(entry) is int and 1 <= entry <= MAX_INT


def _queue(state) -> list:
    queue = state.get("queue") if isinstance(state, dict) else None
    return queue if isinstance(queue, list) else []


def clean_stored_queues(apps, schema_editor) -> None:
    Tracker = apps.get_model("tracker", "Tracker")
    Track = apps.get_model("library", "Track")
    trackers = list(Tracker.objects.filter(kind__in=("player", "party")))
    wanted = sorted({entry for t in trackers for state in (t.state, t.base_state) for entry in _queue(state) if _usable(entry)})
    existing: set[int] = set()
    for start in range(0, len(wanted), CHUNK):
        existing.update(Track.objects.filter(pk__in=wanted[start:start + CHUNK]).values_list("pk", flat=True))

    def keep(entry) -> bool:
        return _usable(entry) and entry in existing

    for tracker in trackers:
        if all(keep(entry) for entry in _queue(tracker.state) + _queue(tracker.base_state)):
            continue
        state = keep_entries(tracker.state, keep)
        tracker.actions.all().delete()
        Tracker.objects.filter(pk=tracker.pk).update(state=state, base_state=state, base_version=tracker.version)


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0001_initial"),
        ("library", "0006_sort_indexes"),
    ]

    operations = [migrations.RunPython(clean_stored_queues, migrations.RunPython.noop)]
