"""One scan per library at a time: a lease on ``Library.lease_holder``/``lease_expires``.

Taken with a conditional UPDATE (an expired lease may be taken over), renewed at every
batch and released at the end. A scan that cannot take the lease does not run.
"""
from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from common.process import process_id
from library.models import Library

LEASE_SECONDS = 300  # a scan that stops renewing for this long may be taken over


class LeaseLost(Exception):
    """Another scan took the library's lease over (ours expired)."""


def holder_for(scan_id: int | None) -> str:
    """The lease holder name of a scan run: this process and the run."""
    return f"{process_id()}/scan-{scan_id}"[:100]


def acquire_lease(library: Library, holder: str, seconds: int = LEASE_SECONDS) -> bool:
    """Take the library's scan lease if it is free, expired or already ours (one conditional UPDATE)."""
    now = timezone.now()
    taken = Library.objects.filter(pk=library.pk).filter(
        Q(lease_holder="") | Q(lease_expires__isnull=True) | Q(lease_expires__lt=now) | Q(lease_holder=holder)
    ).update(lease_holder=holder, lease_expires=now + timedelta(seconds=seconds))
    return taken == 1


def renew_lease(library: Library, holder: str, seconds: int = LEASE_SECONDS) -> bool:
    return Library.objects.filter(pk=library.pk, lease_holder=holder).update(
        lease_expires=timezone.now() + timedelta(seconds=seconds)) == 1


def release_lease(library: Library, holder: str) -> None:
    Library.objects.filter(pk=library.pk, lease_holder=holder).update(lease_holder="", lease_expires=None)


def lease_active(library: Library) -> bool:
    return Library.objects.filter(pk=library.pk, lease_expires__gte=timezone.now()).exclude(lease_holder="").exists()
