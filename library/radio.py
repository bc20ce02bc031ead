"""Internet radio stations: listed for everyone, changed by staff (the caller checks who).

Shape: ``{id, name, stream_url, homepage_url}``. URLs must be http or https
(``InvalidPayload`` otherwise, and nothing changes).
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from common.errors import InvalidPayload, NotFound

from .models import InternetRadioStation

MAX_NAME = 200


def _station(station: InternetRadioStation) -> dict[str, Any]:
    return {"id": station.pk, "name": station.name, "stream_url": station.stream_url,
            "homepage_url": station.homepage_url}


def _save(station: InternetRadioStation) -> dict[str, Any]:
    station.name = (station.name or "").strip()
    try:
        station.full_clean()
    except ValidationError as exc:
        fields = {name: [str(message) for message in messages] for name, messages in exc.message_dict.items()}
        first = next(iter(fields.items()))
        raise InvalidPayload(f"{first[0]}: {first[1][0]} (use an http or https URL)", details=fields) from None
    station.save()
    return _station(station)


def station_list() -> list[dict[str, Any]]:
    return [_station(station) for station in InternetRadioStation.objects.order_by("name", "id")]


def station_create(*, name: str, stream_url: str, homepage_url: str = "") -> dict[str, Any]:
    return _save(InternetRadioStation(name=name, stream_url=stream_url, homepage_url=homepage_url or ""))


def _get(station_id: int) -> InternetRadioStation:
    station = InternetRadioStation.objects.filter(pk=station_id).first()
    if station is None:
        raise NotFound(f"No internet radio station with id {station_id}.")
    return station


def station_update(station_id: int, *, name: str, stream_url: str, homepage_url: str = "") -> dict[str, Any]:
    station = _get(station_id)
    station.name, station.stream_url, station.homepage_url = name, stream_url, homepage_url or ""
    return _save(station)


def station_delete(station_id: int) -> None:
    _get(station_id).delete()
