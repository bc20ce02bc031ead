"""The catalogue's search index: word-prefix, case- and accent-insensitive, never a table scan.

A query is folded (``library.text.fold``) and split into words; a row matches when every
word starts a word of the row ("bjo" finds "Björk", "sig ros" finds "Sigur Rós"). Only
letters and digits reach the database, so no user input is ever query syntax.

SQLite: one FTS5 table per kind (``library_artist_fts``, ``library_album_fts``,
``library_track_fts``), *external content* over the catalogue table (the index stores
tokens only; rowid = the row's id), tokenizer ``unicode61 remove_diacritics 2``, with
prefix indexes for two- and three-character prefixes (what search-as-you-type sends). It
indexes the display name or title and ``search_key`` (which already holds a track's
folded artists and album: indexing them twice only slowed the scanner's writes). Triggers on the catalogue tables keep it in
step with every INSERT, UPDATE of an indexed column and DELETE, so the scanner's
``bulk_create``/``bulk_update``/``delete`` need not call anything. Queries are
``"word"*`` prefix terms, ranked by bm25 when at most ``RANKED_MATCHES`` rows match.
Matches are counted up to ``COUNT_LIMIT`` (on both databases): a broader query says "at
least that many" (``Matches.exact`` False) rather than counting them all.
A broader query (a short prefix of a common word: "ven" matches 12% of a catalogue)
comes in catalogue order instead: bm25 costs about a microsecond per matching row,
while the first page in rowid order costs nothing more however many rows match.

PostgreSQL: a generated ``search_document`` column on each catalogue table holds the
words of ``search_key`` (folded text, written by the scanner), split exactly as above
(every run of characters other than letters and digits becomes a space, so "ac/dc" is
"ac" and "dc", as on SQLite), with a full-text GIN index; PostgreSQL keeps both in step.
A query is ``'word1':* & 'word2':*`` (prefix terms), ranked by ``ts_rank`` up to
``RANKED_MATCHES`` matches, as on SQLite. (Trigram indexes with ``~ '\\m<word>'`` were
four to six times slower on broad prefixes.)

Rows nobody may see (a disabled library's tracks, and albums with no other tracks: see
``library.models``) are left out inside these queries, so counts and pages agree.

Trap: on SQLite, Django migrations that alter one of these tables rebuild it (copy, drop,
rename), and dropping a table drops its triggers. ``repair`` (run after every
``migrate``) puts missing triggers back and rebuilds that index.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connections

from .models import any_library_disabled, hidden_album_ids, hidden_track_ids
from .text import fold

MAX_WORDS = 10  # words of a query that are used; the rest are ignored
RANKED_MATCHES = 2000  # rank by relevance up to this many matches, else catalogue order
# Matches counted: past this, a result says "at least COUNT_LIMIT" (``exact`` False)
# instead of reading every matching row to count them (a 12,000-row count took 7 ms of a
# PostgreSQL search, the capped one 3 ms). Nobody pages through thousands of results for
# three letters; they type a fourth.
COUNT_LIMIT = RANKED_MATCHES  # not below RANKED_MATCHES
_WORD = re.compile(r"[^\W_]+")  # letters and digits, as FTS5's unicode61 tokenizer splits


@dataclass(frozen=True)
class Index:
    table: str  # the catalogue table
    columns: tuple[str, ...]  # text columns in the SQLite FTS table
    sort: str  # tie-break order among equally relevant rows

    @property
    def fts(self) -> str:
        return f"{self.table}_fts"

    @property
    def trgm(self) -> str:  # the trigram index of migration 0002, replaced by ``pg_fts`` in 0005
        return f"{self.table}_search_trgm"

    @property
    def pg_fts(self) -> str:
        return f"{self.table}_search_fts"

    def triggers(self) -> dict[str, str]:
        """Trigger name -> CREATE statement (SQLite)."""
        cols = ", ".join(self.columns)
        new = ", ".join(f"new.{c}" for c in self.columns)
        old = ", ".join(f"old.{c}" for c in self.columns)
        add = f"INSERT INTO {self.fts}(rowid, {cols}) VALUES (new.id, {new});"
        remove = f"INSERT INTO {self.fts}({self.fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"
        return {
            f"{self.table}_fts_insert": f"CREATE TRIGGER IF NOT EXISTS {self.table}_fts_insert AFTER INSERT ON {self.table} BEGIN {add} END",
            f"{self.table}_fts_delete": f"CREATE TRIGGER IF NOT EXISTS {self.table}_fts_delete AFTER DELETE ON {self.table} BEGIN {remove} END",
            f"{self.table}_fts_update": (
                f"CREATE TRIGGER IF NOT EXISTS {self.table}_fts_update AFTER UPDATE OF {cols} ON {self.table} "
                f"BEGIN {remove} {add} END"
            ),
        }


INDEXES: dict[str, Index] = {
    "artist": Index("library_artist", ("name", "search_key"), "sort_name"),
    "album": Index("library_album", ("title", "search_key"), "sort_title"),
    # search_key holds the folded title, artists and album; the title column ranks title matches first.
    "track": Index("library_track", ("title", "search_key"), "sort_title"),
}


def words(query: str) -> list[str]:
    """The folded words of a query (letters and digits only), at most ``MAX_WORDS``."""
    return _WORD.findall(fold(query or ""))[:MAX_WORDS]


# PostgreSQL: the words of a row's search_key, kept by PostgreSQL in a generated column
# (not a model field: the ORM never writes it) that the GIN index covers. Stored rather
# than computed in the query: ranking and rechecking a broad prefix read it instead of
# re-parsing every matching row (a 12,000-row count: 15 ms computed, 6 ms stored).
PG_DOCUMENT = "search_document"
PG_DOCUMENT_EXPRESSION = "to_tsvector('simple', regexp_replace(search_key, '[^[:alnum:]]+', ' ', 'g'))"


def pg_tsquery(terms: list[str]) -> str:
    """A ``to_tsquery`` text: every word (letters and digits only) as a prefix term, all required."""
    return " & ".join(f"{term}:*" for term in terms)


def fts_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression: every word as a quoted prefix term (implicit AND)."""
    return " ".join('"' + term.replace('"', '""') + '"*' for term in terms)


class Matches(NamedTuple):
    ids: list[int]  # the page, best first
    total: int  # rows matching, at most COUNT_LIMIT
    exact: bool  # False: COUNT_LIMIT or more match (``total`` is COUNT_LIMIT)


def search_ids(kind: str, query: str, *, limit: int, offset: int = 0, library: int | None = None,
               using: str = "default") -> Matches:
    """A page of ids of the ``kind`` rows matching ``query``, best first, and how many match
    (counted up to ``COUNT_LIMIT``); with ``library``, only rows with a track in that library."""
    index = INDEXES[kind]
    terms = words(query)
    if not terms:
        return Matches([], 0, True)
    connection = connections[using]
    hidden = _hidden(kind, using)
    if library is not None:
        sql, params = _in_library(kind, library)
        combined, params = _combine(*hidden, sql, params)
        hidden = combined.replace("{table}", INDEXES[kind].table), params
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            return _sqlite_ids(cursor, index, fts_query(terms), limit, offset, hidden)
        if connection.vendor == "postgresql":
            return _pg_ids(cursor, index, pg_tsquery(terms), limit, offset, hidden)
    raise NotImplementedError(f"search is not implemented for {connection.vendor}")  # pragma: no cover


def _hidden(kind: str, using: str) -> tuple[str, tuple]:
    """SQL (and its parameters) for the ids of ``kind`` rows nobody may see; ``("", ())``
    for artists. Used as ``id NOT IN (...)``."""
    subquery = {"track": hidden_track_ids, "album": hidden_album_ids}.get(kind)
    return (subquery(), ()) if subquery and any_library_disabled(using) else ("", ())


_LIBRARY_ROWS = {
    "track": "SELECT id FROM library_track WHERE library_id = %s",
    "album": "SELECT album_id FROM library_track WHERE library_id = %s",
    "artist": ("SELECT a.album_artist_id FROM library_album a JOIN library_track t ON t.album_id = a.id "
               "WHERE t.library_id = %s UNION SELECT ta.artist_id FROM library_trackartist ta "
               "JOIN library_track t ON t.id = ta.track_id WHERE t.library_id = %s"),
}


def _in_library(kind: str, library: int) -> tuple[str, tuple]:
    """SQL (and parameters) for the ids of ``kind`` rows with a track in ``library``."""
    sql = _LIBRARY_ROWS[kind]
    return sql, (library,) * sql.count("%s")


def _combine(hidden_sql: str, hidden_params: tuple, library_sql: str, library_params: tuple) -> tuple[str, tuple]:
    """One ``NOT IN`` subquery for what is hidden or outside the library."""
    outside = f"SELECT id FROM {{table}} WHERE id NOT IN ({library_sql})"
    if hidden_sql:
        return f"{hidden_sql} UNION {outside}", (*hidden_params, *library_params)
    return outside, library_params


def _counted(counted: int) -> tuple[int, bool]:
    """(total, exact) from a count of at most COUNT_LIMIT + 1 matches."""
    return min(counted, COUNT_LIMIT), counted <= COUNT_LIMIT


def _sqlite_ids(cursor, index: Index, match: str, limit: int, offset: int, hidden: tuple[str, tuple]) -> Matches:
    sql, params = hidden
    visible = f" AND rowid NOT IN ({sql})" if sql else ""
    visible_f = f" AND f.rowid NOT IN ({sql})" if sql else ""
    cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {index.fts} WHERE {index.fts} MATCH %s{visible} LIMIT %s)",
                   [match, *params, COUNT_LIMIT + 1])
    total, exact = _counted(cursor.fetchone()[0])
    if exact and total <= offset:
        return Matches([], total, exact)
    if exact and total <= RANKED_MATCHES:
        cursor.execute(f"SELECT f.rowid FROM {index.fts} f JOIN {index.table} t ON t.id = f.rowid "
                       f"WHERE f.{index.fts} MATCH %s{visible_f} "
                       f"ORDER BY f.rank, t.{index.sort}, t.id LIMIT %s OFFSET %s",
                       [match, *params, limit, offset])
    else:
        cursor.execute(f"SELECT rowid FROM {index.fts} WHERE {index.fts} MATCH %s{visible} "
                       "ORDER BY rowid LIMIT %s OFFSET %s", [match, *params, limit, offset])
    return Matches([row[0] for row in cursor.fetchall()], total, exact)


def _pg_ids(cursor, index: Index, tsquery: str, limit: int, offset: int, hidden: tuple[str, tuple]) -> Matches:
    sql, params = hidden
    where = f"{PG_DOCUMENT} @@ to_tsquery('simple', %s)" + (f" AND id NOT IN ({sql})" if sql else "")
    # One pass over the first COUNT_LIMIT + 1 matches counts them and, when they are few
    # enough, ranks them: the page comes with its count. (A broad query's filter is false,
    # so nothing is ranked; its page is then read in catalogue order.)
    cursor.execute(
        f"WITH m AS MATERIALIZED (SELECT id, {index.sort} AS sort, {PG_DOCUMENT} AS document "
        f"FROM {index.table} WHERE {where} LIMIT %s) "
        "SELECT (SELECT count(*) FROM m), ARRAY(SELECT id FROM m WHERE (SELECT count(*) FROM m) <= %s "
        "ORDER BY ts_rank(document, to_tsquery('simple', %s)) DESC, sort, id LIMIT %s OFFSET %s)",
        [tsquery, *params, COUNT_LIMIT + 1, RANKED_MATCHES, tsquery, limit, offset])
    counted, ranked = cursor.fetchone()
    total, exact = _counted(counted)
    if exact and (total <= RANKED_MATCHES or total <= offset):
        return Matches(list(ranked), total, exact)  # (empty past the last match)
    cursor.execute(f"SELECT id FROM {index.table} WHERE {where} ORDER BY id LIMIT %s OFFSET %s",
                   [tsquery, *params, limit, offset])
    return Matches([row[0] for row in cursor.fetchall()], total, exact)


# -- creating and dropping the index (migration 0002_search_index) ------------------------


def install(schema_editor) -> None:
    """Create the index for the connection's database and fill it from existing rows."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for index in INDEXES.values():
            _sqlite_create(schema_editor, index)
    elif vendor == "postgresql":
        for index in INDEXES.values():
            _pg_create(schema_editor, index)


def uninstall(schema_editor) -> None:
    """Drop the index (on PostgreSQL, also the trigram index of earlier versions)."""
    vendor = schema_editor.connection.vendor
    for index in INDEXES.values():
        if vendor == "sqlite":
            for trigger in index.triggers():
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {index.fts}")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {index.trgm}")
            schema_editor.execute(f"DROP INDEX IF EXISTS {index.pg_fts}")
            schema_editor.execute(f"ALTER TABLE {index.table} DROP COLUMN IF EXISTS {PG_DOCUMENT}")


def rebuild(schema_editor, kind: str) -> None:
    """Drop and create one kind's index (a migration that changes how it is made)."""
    index = INDEXES[kind]
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for trigger in index.triggers():
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        schema_editor.execute(f"DROP TABLE IF EXISTS {index.fts}")
        _sqlite_create(schema_editor, index)
    elif vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {index.trgm}")
        _pg_create(schema_editor, index)


def _pg_create(executor, index: Index) -> None:
    executor.execute(f"ALTER TABLE {index.table} ADD COLUMN IF NOT EXISTS {PG_DOCUMENT} tsvector "
                     f"GENERATED ALWAYS AS ({PG_DOCUMENT_EXPRESSION}) STORED")
    executor.execute(f"CREATE INDEX IF NOT EXISTS {index.pg_fts} ON {index.table} USING gin ({PG_DOCUMENT})")


def _sqlite_create(executor, index: Index) -> None:
    executor.execute(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {index.fts} USING fts5({', '.join(index.columns)}, "
        f"content='{index.table}', content_rowid='id', tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
    )
    for statement in index.triggers().values():
        executor.execute(statement)
    executor.execute(f"INSERT INTO {index.fts}({index.fts}) VALUES ('rebuild')")


def repair(using: str = "default") -> list[str]:
    """SQLite: put back triggers a table rebuild dropped, and rebuild those indexes.

    Only where the FTS table exists (so an unapplied migration stays unapplied). Returns
    the catalogue tables that were repaired.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return []
    repaired = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger')")
        present = {row[0] for row in cursor.fetchall()}
        for index in INDEXES.values():
            if index.fts in present and not set(index.triggers()) <= present:
                _sqlite_create(cursor, index)
                repaired.append(index.table)
    return repaired


def repair_after_migrate(sender, app_config=None, using: str = "default", **kwargs) -> None:
    if app_config is not None and app_config.label == "library":
        repair(using)


