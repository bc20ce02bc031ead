"""REST views of libraries (music folders) and their scans; staff only.

- ``libraries/``: list (``orchestrator.services.libraries``), create (``library_add``: the
  folder must be an absolute path to an existing folder that overlaps no other library).
- ``libraries/{id}/``: one library, change its schedule or switch it off
  (``library_update``), remove it with what of the catalogue only it used
  (``library_remove``; ``?force=true`` even while it is being scanned).
- ``libraries/{id}/scan/``: queue a scan for the orchestrator (``scan_request``): 202 with
  the queued run and the library's ``library.scan`` tracker, whose state shows progress.
- ``scans/``, ``scans/{id}/``: recent scan runs with their counts and per-file errors.

``scan_list`` / ``scan_get`` are the scan-run queries; the orchestrator's services offer
none yet, and they belong there once it does.
"""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from common.errors import NotFound
from library.models import ScanRun
from library.selectors import page_bounds
from orchestrator import services

from .context import MAX_ID, StaffView, errors, parse, reject_unknown
from .pagination import PagingQuery, page_of

TAG = ["libraries"]
MAX_INTERVAL = 366 * 24 * 60  # minutes: a year
LIST_ERRORS = 20  # per-file errors shown per run in the list; the detail has them all


# -- scan runs ----------------------------------------------------------------------------


def scan_dict(scan: ScanRun, *, max_errors: int | None = None) -> dict[str, Any]:
    errors_ = scan.errors if isinstance(scan.errors, list) else []
    user = scan.requested_by
    return {
        "id": scan.pk,
        "library": {"id": scan.library_id, "name": scan.library.name},
        "trigger": scan.trigger,
        "full": scan.full,
        "status": scan.status,
        "requested_by": None if user is None else {"id": user.pk, "username": user.get_username()},
        "created": scan.created,
        "started": scan.started,
        "finished": scan.finished,
        "files_seen": scan.files_seen,
        "parsed": scan.parsed,
        "added": scan.added,
        "updated": scan.updated,
        "removed": scan.removed,
        "unchanged": scan.unchanged,
        "error_count": scan.error_count,
        "errors": errors_ if max_errors is None else errors_[:max_errors],
        "message": scan.message,
    }


def _scans():
    return ScanRun.objects.select_related("library", "requested_by")


def scan_list(*, library: int | None = None, offset: int = 0, limit: int = 50) -> dict[str, Any]:
    """A page of scan runs, newest first (optionally of one library); the first errors of each."""
    offset, limit = page_bounds(offset, limit)
    queryset = _scans().order_by("-created", "-id")
    if library is not None:
        queryset = queryset.filter(library_id=library)
    total = queryset.count()
    rows = list(queryset[offset:offset + limit]) if total > offset else []
    return {"items": [scan_dict(scan, max_errors=LIST_ERRORS) for scan in rows], "total": total,
            "offset": offset, "limit": limit}


def scan_get(scan_id: int) -> dict[str, Any]:
    scan = _scans().filter(pk=scan_id).first()
    if scan is None:
        raise NotFound(f"No scan with id {scan_id}.")
    return scan_dict(scan)


def library_get(library_id: int) -> dict[str, Any]:
    """One library as ``services.libraries`` describes it."""
    for row in services.libraries():
        if row["id"] == library_id:
            return row
    raise NotFound(f"No library with id {library_id}.")


# -- shapes -------------------------------------------------------------------------------


class LastScanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=[s for s, _ in ScanRun.STATUSES])
    finished = serializers.DateTimeField(allow_null=True)
    message = serializers.CharField(allow_blank=True)


class LibrarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    root = serializers.CharField(help_text="absolute path of the music folder")
    enabled = serializers.BooleanField()
    scan_interval = serializers.IntegerField(help_text="minutes between scheduled scans; 0 = never")
    tracks = serializers.IntegerField()
    scanning = serializers.BooleanField(help_text="a scan holds the library's lease")
    last_scan = LastScanSerializer(allow_null=True)


class LibraryCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    root = serializers.CharField(max_length=1000, help_text="absolute path of an existing folder")
    scan_interval = serializers.IntegerField(min_value=0, max_value=MAX_INTERVAL, default=60,
                                             help_text="minutes between scheduled scans; 0 = never")
    enabled = serializers.BooleanField(default=True)


class LibraryUpdateSerializer(serializers.Serializer):
    scan_interval = serializers.IntegerField(min_value=0, max_value=MAX_INTERVAL, required=False)
    enabled = serializers.BooleanField(required=False)


class LibraryRemovedSerializer(serializers.Serializer):
    library = serializers.CharField(help_text="the removed library's name")
    tracks = serializers.IntegerField(help_text="tracks removed with it")


class RemoveQuery(serializers.Serializer):
    force = serializers.BooleanField(default=False, help_text="remove it even while a scan of it runs")


class ScanRequestSerializer(serializers.Serializer):
    full = serializers.BooleanField(default=False, help_text="re-read every file, changed or not")


class ScanErrorSerializer(serializers.Serializer):
    path = serializers.CharField()
    error = serializers.CharField()


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class LibraryRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ScanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    library = LibraryRefSerializer()
    trigger = serializers.CharField(help_text="schedule, manual, command, api")
    full = serializers.BooleanField()
    status = serializers.ChoiceField(choices=[s for s, _ in ScanRun.STATUSES])
    requested_by = UserRefSerializer(allow_null=True)
    created = serializers.DateTimeField()
    started = serializers.DateTimeField(allow_null=True)
    finished = serializers.DateTimeField(allow_null=True)
    files_seen = serializers.IntegerField()
    parsed = serializers.IntegerField()
    added = serializers.IntegerField()
    updated = serializers.IntegerField()
    removed = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    error_count = serializers.IntegerField(help_text="files that could not be read")
    errors = ScanErrorSerializer(many=True, help_text=f"per-file errors (in lists: the first {LIST_ERRORS})")
    message = serializers.CharField(allow_blank=True)


class ScanQueuedSerializer(ScanSerializer):
    tracker = serializers.CharField(help_text="the library's library.scan tracker (trackers/{id}/): live progress")


class ScanListQuery(PagingQuery):
    library = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False)


# -- views --------------------------------------------------------------------------------


class LibraryListView(StaffView):
    """Libraries: the music folders the server catalogues. Staff only."""

    @extend_schema(operation_id="libraries_list", tags=TAG, responses={200: LibrarySerializer(many=True), **errors(403)},
                   summary="Every library with its track count, schedule and last scan")
    def get(self, request):
        return Response(services.libraries())

    @extend_schema(operation_id="libraries_create", tags=TAG, request=LibraryCreateSerializer,
                   responses={201: LibrarySerializer, **errors(400, 403, 409)},
                   summary="Add a music folder as a library (409 when the name is taken or the folder overlaps another)")
    def post(self, request):
        reject_unknown(request.data, {"name", "root", "scan_interval", "enabled"})
        data = parse(LibraryCreateSerializer, request.data)
        library = services.library_add(data["name"], data["root"], interval=data["scan_interval"], enabled=data["enabled"])
        return Response(library_get(library.pk), status=status.HTTP_201_CREATED)


class LibraryDetailView(StaffView):
    """One library. Staff only."""

    @extend_schema(operation_id="libraries_get", tags=TAG, responses={200: LibrarySerializer, **errors(403, 404)},
                   summary="One library")
    def get(self, request, library_id: int):
        return Response(library_get(library_id))

    @extend_schema(operation_id="libraries_update", tags=TAG, request=LibraryUpdateSerializer,
                   responses={200: LibrarySerializer, **errors(400, 403, 404)},
                   summary="Change a library's scan interval or switch it on or off (name and folder are fixed)")
    def patch(self, request, library_id: int):
        reject_unknown(request.data, {"scan_interval", "enabled"})
        data = parse(LibraryUpdateSerializer, request.data)
        services.library_update(library_id, interval=data.get("scan_interval"), enabled=data.get("enabled"))
        return Response(library_get(library_id))

    @extend_schema(operation_id="libraries_remove", tags=TAG, parameters=[RemoveQuery],
                   responses={200: LibraryRemovedSerializer, **errors(400, 403, 404, 409)},
                   summary="Remove a library, its tracks and what of the catalogue only it used")
    def delete(self, request, library_id: int):
        query = parse(RemoveQuery, request.query_params)
        return Response(services.library_remove(library_id, force=query["force"]))


class LibraryScanView(StaffView):
    """Queue a scan for the orchestrator; follow it on the returned `library.scan` tracker. Staff only."""

    @extend_schema(operation_id="libraries_scan", tags=TAG, request=ScanRequestSerializer,
                   responses={202: ScanQueuedSerializer, **errors(400, 403, 404, 409)},
                   summary="Queue a scan of the library (409 when it is disabled)")
    def post(self, request, library_id: int):
        reject_unknown(request.data, {"full"})
        data = parse(ScanRequestSerializer, request.data)
        scan = services.scan_request(library_id, trigger="api", user=request.user, full=data["full"])
        tracker = services.scan_tracker(scan.library)
        return Response({**scan_dict(scan), "tracker": str(tracker.pk)}, status=status.HTTP_202_ACCEPTED)


class ScanListView(StaffView):
    """Scan runs, newest first. Staff only."""

    @extend_schema(operation_id="scans_list", tags=TAG, parameters=[ScanListQuery],
                   responses={200: page_of(ScanSerializer), **errors(400, 403)},
                   summary="Recent scan runs, newest first, with counts and their first errors")
    def get(self, request):
        return Response(scan_list(**parse(ScanListQuery, request.query_params)))


class ScanDetailView(StaffView):
    """One scan run with every per-file error it recorded. Staff only."""

    @extend_schema(operation_id="scans_get", tags=TAG, responses={200: ScanSerializer, **errors(403, 404)},
                   summary="One scan run with all its recorded errors")
    def get(self, request, scan_id: int):
        return Response(scan_get(scan_id))
