"""Internet radio: getInternetRadioStations for everyone; createInternetRadioStation,
updateInternetRadioStation and deleteInternetRadioStation for staff (``library.radio``;
http and https URLs only)."""
from __future__ import annotations

from typing import Any

from common.bounds import parse_int
from library import radio

from ..responses import NotFoundError
from . import Call, method


def _station_id(call: Call) -> int:
    value = call.params.required("id")
    number = parse_int(value.strip(), minimum=1)
    if number is None:
        raise NotFoundError(f"No internet radio station {value[:60]!r}.")
    return number


def _fields(call: Call) -> dict[str, str]:
    return {"name": call.params.required("name"), "stream_url": call.params.required("streamUrl"),
            "homepage_url": call.params.get("homepageUrl") or ""}


@method("getInternetRadioStations")
def get_internet_radio_stations(call: Call) -> dict[str, Any]:
    return {"internetRadioStations": {"internetRadioStation": [
        {"id": str(station["id"]), "name": station["name"], "streamUrl": station["stream_url"],
         "homePageUrl": station["homepage_url"] or None}
        for station in radio.station_list()
    ]}}


@method("createInternetRadioStation", staff=True)
def create_internet_radio_station(call: Call) -> dict[str, Any]:
    radio.station_create(**_fields(call))
    return {}


@method("updateInternetRadioStation", staff=True)
def update_internet_radio_station(call: Call) -> dict[str, Any]:
    radio.station_update(_station_id(call), **_fields(call))
    return {}


@method("deleteInternetRadioStation", staff=True)
def delete_internet_radio_station(call: Call) -> dict[str, Any]:
    radio.station_delete(_station_id(call))
    return {}
