"""Catalogue text: cleaned for the database, and keys for sorting and searching (case- and
accent-insensitive)."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

_ARTICLES = ("the ", "a ", "an ")
_SPACES = re.compile(r"\s+")
# Letters Unicode does not decompose into a base letter and a mark (so NFKD keeps them), folded
# by hand as readers type them: "lodz" finds "Łódź", "oresund" finds "Øresund". (ß, ﬁ: casefold.)
_LETTERS = str.maketrans({
    "ł": "l", "ø": "o", "đ": "d", "ð": "d", "æ": "ae", "œ": "oe", "þ": "th", "ħ": "h", "ı": "i",
    "ŧ": "t", "ŋ": "n", "ĸ": "k", "ǥ": "g", "ƀ": "b", "ɨ": "i", "ʉ": "u",
})


def fold(text: str) -> str:
    """Lower case, accents removed, letters such as Ł, Ø, Đ, Æ, ß made plain, spaces collapsed:
    "Sigur Rós" -> "sigur ros", "Łódź" -> "lodz"."""
    if text.isascii():  # nothing to decompose (most names): the same result, several times faster
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFKD", text.casefold()).translate(_LETTERS)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped).strip()


def sort_key(text: str) -> str:
    """A sort name: folded, leading English article moved away ("The Band" -> "band")."""
    return sort_key_of_folded(fold(text))


def sort_key_of_folded(folded: str) -> str:
    """``sort_key`` of text already folded."""
    for article in _ARTICLES:
        if folded.startswith(article) and len(folded) > len(article):
            return folded[len(article):]
    return folded


def search_key(*parts: str | None) -> str:
    """The folded text a search matches against, from several fields."""
    return " ".join(fold(part) for part in parts if part)


def clean(value: Any, limit: int) -> str:
    """Text a database accepts: no lone surrogates, no NUL, at most ``limit`` characters."""
    if value is None:
        return ""
    text = value if type(value) is str else str(value)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text[:limit]
