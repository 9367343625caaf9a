"""A substring index over short texts, keyed by the primary key of the row they describe: the same interface on
SQLite (an FTS5 table with the trigram tokenizer) and PostgreSQL (a table with a ``pg_trgm`` GIN index).

Why trigrams: analysts search for parts of names, domains and hashes (``hugesoft`` in ``hugesoft.org``), which a
word index does not find, and trigrams need no word boundaries, so Japanese and Korean text (issue 14) is indexed
the same way. The owner of an index writes its texts in the transaction that writes the rows (lower-cased by the
caller: both databases then compare case-sensitively, so SQLite and PostgreSQL agree to the character), deletes them
when the rows stop being searchable, and filters its rows with ``TrigramIndex.matching`` (a subquery of keys) or
``contains`` (the same as a condition), to put inside a query that already applies the label rule
(``kizuna.core.access``); this module never decides visibility. For rows reached another way (a walk of a date
index), ``probe`` checks one row's text by key, and ``count_upto`` says whether a needle is rare enough for its whole
match list to be read.

A needle is searched only when it holds at least ``MIN_RUN`` letters or digits in a row (``searchable``): shorter
needles give no trigram to look up, and both databases would then read the whole index. Callers fall back to exact
look-ups for those. Only the first ``MAX_NEEDLE`` characters narrow the search; a longer needle is still compared
whole (``instr``/``strpos``), so the answer stays exact and the cost bounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL

MIN_RUN = 3  # letters or digits in a row: a trigram
MAX_NEEDLE = 200  # characters of a needle given to the index; the rest is compared by the database as it reads rows
_CHUNK = 500  # keys per DELETE (SQLite's parameter limit may be 999)
_GLOB_SPECIAL = {"*": "[*]", "?": "[?]", "[": "[[]"}
_COPY_ROWS = 100  # rows per write to a COPY stream


def copy_text(value: str) -> str:
    """A text value in PostgreSQL COPY's text format: backslash, tab, newline and carriage return escaped."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def searchable(needle: str) -> bool:
    """True when ``needle`` holds ``MIN_RUN`` letters or digits in a row (any script): the index can narrow it."""
    run = 0
    for ch in needle:
        run = run + 1 if ch.isalnum() else 0
        if run >= MIN_RUN:
            return True
    return False


def _glob_pattern(needle: str) -> str:
    """``*needle*`` for SQLite's GLOB with the needle's wildcards written literally (GLOB has no ESCAPE clause;
    ``[*]`` matches a star). FTS5 answers GLOB from the trigram index when the table is case-sensitive."""
    return "*" + "".join(_GLOB_SPECIAL.get(ch, ch) for ch in needle) + "*"


def _like_pattern(needle: str) -> str:
    """``%needle%`` for PostgreSQL's LIKE (backslash is its default escape character)."""
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class TrigramIndex:
    """One substring index: a table ``table`` of (key, text). Created and filled by the owner's migrations
    (``create_sql``), written by its store (``insert``, ``delete``), read with ``matching``."""

    table: str

    # --- schema -----------------------------------------------------------------------------------------------------

    def create_sql(self, vendor: str) -> list[str]:
        """The statements that create the index on this database vendor."""
        if vendor == "sqlite":
            # A normal FTS5 table (it keeps its own copy of each text): SQLite 3.40 has no contentless delete, and
            # FTS5 rechecks every GLOB candidate against the stored text, so detail=none (no positions, a smaller
            # and faster index) still answers exactly. case_sensitive 1: texts and needles are lower-cased by the
            # caller, and only then does FTS5 use the index for GLOB. columnsize=0: no ranking, so no per-row sizes
            # to write (measured: 10% of the insert time).
            return [f"CREATE VIRTUAL TABLE {self.table} USING fts5(body, tokenize='trigram case_sensitive 1', "
                    "detail=none, columnsize=0)"]
        if vendor == "postgresql":
            return [
                "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                f"CREATE TABLE {self.table} (obj_id bigint PRIMARY KEY, body text NOT NULL)",
                f"CREATE INDEX {self.table}_trgm ON {self.table} USING gin (body gin_trgm_ops)",
            ]
        raise NotImplementedError(f"no trigram index for {vendor}")

    def drop_sql(self, vendor: str) -> list[str]:
        return [f"DROP TABLE IF EXISTS {self.table}"]

    @property
    def key(self) -> str:
        """The key column as queries name it."""
        return "rowid" if connection.vendor == "sqlite" else "obj_id"

    # --- writes -----------------------------------------------------------------------------------------------------

    def insert(self, rows: Sequence[tuple[int, str]]) -> None:
        """Add (key, text) rows; the caller's transaction. Texts should be lower-cased (see the module docstring)."""
        if not rows:
            return
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY's text format made here: psycopg's write_row looks up a dumper for every value (measured for
                # the store's own rows: most of the importing process's time, kizuna.threats.store._insert_objects).
                with cursor.cursor.copy(f"COPY {self.table} (obj_id, body) FROM STDIN") as copy:
                    for start in range(0, len(rows), _COPY_ROWS):
                        copy.write("".join([f"{int(key)}\t{copy_text(body)}\n"
                                            for key, body in rows[start : start + _COPY_ROWS]]))
                return
            cursor.executemany(f"INSERT INTO {self.table} (rowid, body) VALUES (%s, %s)", rows)  # noqa: S608

    def delete(self, keys: Iterable[int]) -> None:
        """Remove the texts of these keys (absent keys are ignored)."""
        wanted = list(keys)
        column = self.key
        with connection.cursor() as cursor:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                marks = ",".join(["%s"] * len(chunk))
                cursor.execute(f"DELETE FROM {self.table} WHERE {column} IN ({marks})", chunk)  # noqa: S608

    # --- reads ------------------------------------------------------------------------------------------------------

    def matching_sql(self, needle: str) -> tuple[str, list[Any]]:
        """``SELECT <key> FROM <index> WHERE <text contains needle>``, with its parameters. ``needle`` must be
        lower-cased and ``searchable``. User text only ever travels as a parameter, and never as FTS syntax."""
        head = needle[:MAX_NEEDLE]
        if connection.vendor == "sqlite":
            sql = f"SELECT rowid FROM {self.table} WHERE body GLOB %s"  # noqa: S608 - fixed names
            params: list[Any] = [_glob_pattern(head)]
            if head != needle:
                sql += " AND instr(body, %s) > 0"
                params.append(needle)
            return sql, params
        sql = f"SELECT obj_id FROM {self.table} WHERE body LIKE %s"  # noqa: S608 - fixed names
        params = [_like_pattern(head)]
        if head != needle:
            sql += " AND strpos(body, %s) > 0"
            params.append(needle)
        return sql, params

    def matching(self, needle: str) -> RawSQL:
        """The keys whose text contains ``needle``, as a subquery for ``pk__in``."""
        return RawSQL(*self.matching_sql(needle))  # noqa: S611 - fixed names; the needle is a parameter

    def contains(self, outer_key: str, needle: str) -> RawSQL:
        """True for the outer row (``outer_key``: its quoted key column) whose text contains ``needle`` (lower-cased,
        ``searchable``), from the index: a condition for the query that reads every match. On PostgreSQL the matches
        are an array made once by a query of its own (``= ANY(ARRAY(...))``), so they are always read from the
        trigram index: inside a join, PostgreSQL's estimate of a LIKE, off by up to 100 times either way, made it
        read the whole table for some words (a word in 1% of 1,000,000 texts: 233 ms, against 35 ms)."""
        sql, params = self.matching_sql(needle)
        if connection.vendor == "postgresql":
            return RawSQL(f"{outer_key} = ANY(ARRAY({sql}))", params, output_field=BooleanField())  # noqa: S611
        return RawSQL(f"{outer_key} IN ({sql})", params, output_field=BooleanField())  # noqa: S611

    def count_upto(self, needle: str, cap: int) -> int:
        """How many texts contain ``needle`` (``searchable``, lower-cased), counted up to ``cap``: whether a needle is
        rare enough for its whole match list to be read. Both databases stop at ``cap`` (FTS5 reads the trigram
        lists lazily; PostgreSQL stops re-checking rows at the limit)."""
        sql, params = self.matching_sql(needle)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({sql} LIMIT %s) kz_c", [*params, int(cap)])  # noqa: S608
            return int(cursor.fetchone()[0])

    def probe(self, outer_key: str, every: Sequence[str] = (), anyof: Sequence[str] = ()) -> RawSQL:
        """True for the outer row whose text (looked up by key: ``outer_key`` is the quoted key column of the outer
        query, e.g. ``"search_searchentry"."id"``) contains all of ``every`` or any of ``anyof`` — one look-up of
        the row's text, compared with ``instr``/``strpos``: for rows reached by another index (a walk newest first),
        and for needles too short for the index. Needles must be lower-cased."""
        find = "instr(kz_p.body, %s) > 0" if connection.vendor == "sqlite" else "strpos(kz_p.body, %s) > 0"
        branches = []
        if every:
            branches.append("(" + " AND ".join([find] * len(every)) + ")")
        branches.extend([find] * len(anyof))
        condition = " OR ".join(branches) if branches else "1 = 0"
        # A scalar subquery of the one row (the key is unique), not EXISTS: PostgreSQL may run an EXISTS as a hash of
        # the whole table, matched once, when it expects many outer rows — a scan of every text for a walk that
        # stops after a few thousand rows (measured: 311 ms at 1,000,000 texts).
        if connection.vendor == "sqlite":
            # The FTS5 table's own copy of the texts, its documented shadow table "<name>_content" (id, c0): read by
            # key as a plain table, it answers in a third of the time of the virtual table's rowid look-up.
            condition = condition.replace("kz_p.body", "kz_p.c0")
            sql = (f"COALESCE((SELECT {condition} FROM {self.table}_content kz_p "  # noqa: S608
                   f"WHERE kz_p.id = {outer_key}), 0)")
        else:
            sql = (f"COALESCE((SELECT {condition} FROM {self.table} kz_p "  # noqa: S608
                   f"WHERE kz_p.obj_id = {outer_key}), false)")
        return RawSQL(sql, [*every, *anyof], output_field=BooleanField())  # noqa: S611 - needles are parameters
