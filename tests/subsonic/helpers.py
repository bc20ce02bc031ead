"""Element schemas and an XML <-> JSON comparison for the Subsonic structural tests."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

NS = "{http://subsonic.org/restapi}"

# name -> type; "?" before a name marks it optional.
SONG = {
    "id": str, "parent": str, "isDir": bool, "title": str, "album": str, "artist": str, "coverArt": str,
    "size": int, "contentType": str, "suffix": str, "duration": int, "path": str, "isVideo": bool,
    "albumId": str, "artistId": str, "type": str, "mediaType": str, "playCount": int, "displayArtist": str,
    "displayAlbumArtist": str, "genres": list, "artists": list, "albumArtists": list,
    "?track": int, "?year": int, "?genre": str, "?bitRate": int, "?discNumber": int, "?samplingRate": int,
    "?channelCount": int, "?starred": str, "?userRating": int, "?created": str, "?musicBrainzId": str,
    "?replayGain": dict,
}
ALBUM_ID3 = {
    "id": str, "name": str, "artist": str, "artistId": str, "songCount": int, "duration": int, "created": str,
    "isCompilation": bool, "displayArtist": str, "genres": list, "artists": list, "sortName": str,
    "?coverArt": str, "?year": int, "?genre": str, "?starred": str, "?userRating": int, "?musicBrainzId": str,
    "?song": list,
}
ALBUM_DIR = {
    "id": str, "parent": str, "isDir": bool, "title": str, "album": str, "artist": str,
    "duration": int, "albumId": str, "artistId": str, "mediaType": str,
    "?coverArt": str, "?year": int, "?genre": str, "?starred": str, "?userRating": int, "?created": str,
}
ARTIST_ID3 = {"id": str, "name": str, "albumCount": int, "coverArt": str, "sortName": str,
              "?starred": str, "?musicBrainzId": str, "?album": list}
ARTIST = {"id": str, "name": str, "?starred": str, "?userRating": int}
PLAYLIST = {"id": str, "name": str, "owner": str, "public": bool, "songCount": int, "duration": int,
            "created": str, "changed": str, "?comment": str, "?coverArt": str, "?entry": list}


def check(element: dict[str, Any], schema: dict[str, type], where: str = "") -> None:
    """The JSON element has every required field with its type, optional ones typed when present."""
    assert isinstance(element, dict), (where, element)
    for key, kind in schema.items():
        optional = key.startswith("?")
        name = key.lstrip("?")
        if name not in element:
            assert optional, f"{where}: missing {name} in {element}"
            continue
        value = element[name]
        if kind is int:
            assert isinstance(value, int) and not isinstance(value, bool), f"{where}.{name}={value!r} is not an int"
        else:
            assert isinstance(value, kind), f"{where}.{name}={value!r} is not {kind.__name__}"


def check_all(items: list[dict[str, Any]], schema: dict[str, type], where: str = "") -> None:
    assert isinstance(items, list), (where, items)
    for index, item in enumerate(items):
        check(item, schema, f"{where}[{index}]")


# -- the same data in both formats ---------------------------------------------------------------


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _text_children(name: str) -> frozenset[str]:
    """Children of ``name`` that XML writes as text elements (strings in JSON); per the XSD."""
    from . import schema

    return schema._text_children().get(name, frozenset())


def from_json(value: Any, name: str = "subsonic-response") -> dict[str, Any]:
    """A JSON element in a neutral form: attributes (as text), children (lists), text."""
    if not isinstance(value, dict):
        return {"attrs": {}, "children": {}, "text": _text(value)}
    attrs, kids, text = {}, {}, None
    text_children = _text_children(name)
    for key, item in value.items():
        if key == "value":
            text = _text(item) or None  # XML cannot tell empty text from none
        elif isinstance(item, dict):
            kids[key] = [from_json(item, key)]
        elif isinstance(item, list):
            if item:
                kids[key] = [from_json(entry, key) for entry in item]
        elif key in text_children:
            kids[key] = [{"attrs": {}, "children": {}, "text": _text(item) or None}]
        else:
            attrs[key] = _text(item)
    return {"attrs": attrs, "children": kids, "text": text}


def from_xml(element: ET.Element) -> dict[str, Any]:
    kids: dict[str, list] = {}
    for node in element:
        kids.setdefault(node.tag.removeprefix(NS), []).append(from_xml(node))
    text = element.text if element.text not in (None, "") else None
    return {"attrs": dict(element.attrib), "children": kids, "text": text}


def assert_same(body: dict[str, Any], root: ET.Element) -> None:
    """A JSON ``subsonic-response`` and an XML one carry the same elements and values."""
    assert from_json(body) == from_xml(root)
