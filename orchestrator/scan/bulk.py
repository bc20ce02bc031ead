"""Bulk SQL for the scan: the only code that uses the Django backend's internals
(``connection.ops``, the driver's own cursor), tested on SQLite and PostgreSQL.

- ``load_catalogue``: a library's tracks as ``{path: (size, mtime_ns, id, album_id)}``;
- ``insert_rows``: multi-row ``INSERT`` (optionally ignoring conflicts, returning columns);
- ``update_rows``: ``UPDATE ... WHERE id = %s`` for many rows;
- ``db_now``: the current time as the database stores it.
"""
from __future__ import annotations

import contextlib
import sqlite3

from django.db import connection
from django.db.models.constants import OnConflict
from django.utils import timezone

from library.models import Track


def load_catalogue(library_id: int) -> dict[str, tuple[int, int, int, int]]:
    """``{path: (size, mtime_ns, id, album_id)}`` of a library's tracks (one query, no model overhead)."""
    table, columns = _table(Track, ["path", "size", "mtime_ns", "id", "album", "library"])
    sql = f"SELECT {', '.join(columns[:5])} FROM {table} WHERE {columns[5]} = %s"
    catalogue: dict[str, tuple[int, int, int, int]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [library_id])
        while True:
            rows = cursor.fetchmany(5000)
            if not rows:
                break
            for path, size, mtime, pk, album in rows:
                catalogue[path] = (size, mtime, pk, album)
    return catalogue


def _table(model, fields: list[str]) -> tuple[str, list[str]]:
    qn = connection.ops.quote_name
    return qn(model._meta.db_table), [qn(model._meta.get_field(name).column) for name in fields]


def insert_rows(model, fields: list[str], rows: list[list | tuple], *, ignore_conflicts: bool = False,
                returning: list[str] | None = None) -> list[tuple]:
    """``INSERT`` plain values (ints, text, floats, None, database-ready dates), many rows per statement.

    Multi-row ``VALUES`` rather than ``executemany``: on SQLite every statement of an
    executemany is its own statement savepoint, and FTS5 flushes its pending index data at
    each one, so the search-index triggers made a row-by-row insert about six times slower.
    ``returning``: columns of the inserted rows to return (in no promised order).
    """
    if not rows:
        return []
    table, columns = _table(model, fields)
    conflict = OnConflict.IGNORE if ignore_conflicts else None
    suffix = connection.ops.on_conflict_suffix_sql(
        [model._meta.get_field(f) for f in fields], conflict, None, None) if conflict else ""
    placeholder, driver_cursor = _driver_cursor()
    row_sql = f"({', '.join([placeholder] * len(columns))})"
    per_statement = max(1, min(500, _max_query_params() // len(columns)))
    head = f"{connection.ops.insert_statement(on_conflict=conflict)} {table} ({', '.join(columns)}) VALUES "
    tail = f" RETURNING {', '.join(_table(model, returning)[1])}" if returning else ""
    out: list[tuple] = []
    with driver_cursor as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            cursor.execute(f"{head}{', '.join([row_sql] * len(chunk))} {suffix}".rstrip() + tail,
                           [value for row in chunk for value in row])
            if returning:
                out.extend(cursor.fetchall())
    return out


def _driver_cursor():
    """The placeholder and a cursor for the scanner's bulk statements.

    On SQLite, the driver's own cursor with ``?`` placeholders: Django's cursor rewrites
    ``%s`` to ``?`` with a regular expression over the whole statement, which for a
    500-row insert cost more than the insert itself. Same connection, same transaction.
    """
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return "?", contextlib.closing(connection.connection.cursor())
    return "%s", connection.cursor()


def _max_query_params() -> int:
    """Parameters one statement may carry (Django says 999 for SQLite; the library's real limit is higher)."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 65535


def update_rows(model, fields: list[str], rows: list[list | tuple]) -> None:
    """``UPDATE ... WHERE id = %s`` for rows of ``fields`` values followed by the id (one executemany;
    faster than ``bulk_update``'s CASE expressions)."""
    if not rows:
        return
    table, columns = _table(model, fields)
    pk = connection.ops.quote_name(model._meta.pk.column)
    sql = f"UPDATE {table} SET {', '.join(f'{c} = %s' for c in columns)} WHERE {pk} = %s"
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def db_now():
    """Now, ready for a date column of a bulk statement."""
    return Track._meta.get_field("updated").get_db_prep_save(timezone.now(), connection)
