"""Lyrics as stored (a tag's text): LRC with time stamps gives timed lines, anything else
plain lines. Shared by the Subsonic lyrics methods and the web player's lyrics view."""
from __future__ import annotations

import re
from typing import Any

_TIME = re.compile(r"\[(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?\]")
_TAG = re.compile(r"^\[([a-zA-Z#]+):(.*)\]\s*$")


def parse_lyrics(text: str) -> tuple[bool, list[dict[str, Any]]]:
    """``(synced, lines)`` of stored lyrics: LRC (``[mm:ss.xx]`` stamps, ``[offset:ms]``) gives
    timed lines in time order; anything else one line per line of text."""
    offset = 0
    timed: list[tuple[int, str]] = []
    plain: list[str] = []
    for raw in text.splitlines():
        stamps = list(_TIME.finditer(raw))
        if stamps and raw.startswith("["):
            words = _TIME.sub("", raw).strip()
            for stamp in stamps:
                minutes, secs, fraction = stamp.groups()
                ms = int((fraction or "0").ljust(3, "0")[:3])
                timed.append(((int(minutes) * 60 + int(secs)) * 1000 + ms, words))
            continue
        tag = _TAG.match(raw.strip())
        if tag:
            if tag.group(1).lower() == "offset":
                try:
                    offset = int(tag.group(2).strip())
                except ValueError:
                    pass
            continue
        plain.append(raw.rstrip())
    if timed:
        return True, [{"start": max(0, start - offset), "value": words} for start, words in sorted(timed, key=lambda t: t[0])]
    while plain and not plain[-1]:
        plain.pop()
    return False, [{"value": line} for line in plain]


def plain_lyrics(text: str) -> str:
    _synced, lines = parse_lyrics(text)
    return "\n".join(line["value"] for line in lines)
