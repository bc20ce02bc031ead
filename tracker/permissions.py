"""Who may read and act on a tracker: one rule per kind, in two dispatch tables.

- ``player`` (owned, one per device): the owner, and the users the owner made controllers.
- ``party`` (shared): members read and act (the reducer also enforces host-only actions
  and the host's "members may control" switch); anyone may join. Once the party has
  ended nobody reads it.
- ``library.scan`` (shared): every user reads; only the server writes (staff cancel
  through ``library.scan.cancel``).

Server code (``via="server"``) may do everything.

When read access changes, ``tracker.access`` tells the affected users' connections;
``lost_readers`` finds who lost it through a tracker's own state (parties).
"""
from __future__ import annotations

from typing import Callable

from common.errors import Forbidden
from common.messages import Context

from .models import Tracker

# Why a user lost read access (sent to their connections by ``tracker.access``).
CONTROLLER_REMOVED = "controller_removed"
PARTY_LEFT = "party_left"
PARTY_ENDED = "party_ended"
ACCOUNT_CHANGED = "account_changed"


def is_owner_or_controller(context: Context, tracker: Tracker) -> bool:
    if tracker.owner_id is not None and tracker.owner_id == context.user_id:
        return True
    return tracker.controllers.filter(pk=context.user_id).exists()


def is_member(context: Context, tracker: Tracker) -> bool:
    return context.user_id in tracker.state.get("members", [])


def read_player(context, tracker):
    return is_owner_or_controller(context, tracker)


def party_readers(state: dict) -> set[int]:
    """Who may read a party in this state: its members, until it has ended."""
    return set() if state.get("ended") else set(state.get("members", []))


def read_party(context, tracker):
    return context.user_id in party_readers(tracker.state)


def read_scan(context, tracker):
    return context.user_id is not None


def act_player(context, tracker, name):
    return is_owner_or_controller(context, tracker)


def act_party(context, tracker, name):
    return name == "party.session.join" or is_member(context, tracker)


def act_scan(context, tracker, name):
    return name == "library.scan.cancel" and context.is_staff


READ: dict[str, Callable[[Context, Tracker], bool]] = {"player": read_player, "party": read_party, "library.scan": read_scan}
ACT: dict[str, Callable[[Context, Tracker, str], bool]] = {"player": act_player, "party": act_party, "library.scan": act_scan}


def lost_readers(kind: str, before: dict, after: dict) -> dict[int, str]:
    """Users who could read a tracker in state ``before`` and cannot in ``after``, each with
    the reason. Only parties keep their readers in their state."""
    if kind != "party":
        return {}
    reason = PARTY_ENDED if after.get("ended") else PARTY_LEFT
    return {user: reason for user in party_readers(before) - party_readers(after)}


def check_read(context: Context, tracker: Tracker) -> None:
    if context.via == "server":
        return
    if not READ[tracker.kind](context, tracker):
        raise Forbidden("You may not see this tracker; its owner can make you a controller.")


def check_act(context: Context, tracker: Tracker, name: str) -> None:
    if context.via == "server":
        return
    if not ACT[tracker.kind](context, tracker, name):
        raise Forbidden(f"You may not send {name} to this tracker; its owner can make you a controller.")
