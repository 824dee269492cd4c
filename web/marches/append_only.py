"""The audit trail is append-only in the database itself: UPDATE and DELETE on its table are refused by triggers.

The application never changes an entry (``Journal.save`` and its queryset refuse it too); the triggers make the
rule hold for any other client of the database. Only a restore of a whole backup into the same database
(``clausier db restaurer --remplacer``) lifts them, for the time of the restore, and puts them back.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

TABLE = "marches_journal"
MESSAGE = "journal en ajout seul : aucune entrée ne se modifie ni ne se supprime"

SQLITE_CREATE = [
    f"CREATE TRIGGER IF NOT EXISTS journal_sans_modification BEFORE UPDATE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    f"CREATE TRIGGER IF NOT EXISTS journal_sans_effacement BEFORE DELETE ON {TABLE} "
    f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS journal_sans_modification", "DROP TRIGGER IF EXISTS journal_sans_effacement"]

POSTGRES_CREATE = [
    f"""CREATE OR REPLACE FUNCTION journal_en_ajout_seul() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$""",
    f"DROP TRIGGER IF EXISTS journal_sans_modification ON {TABLE}",
    f"CREATE TRIGGER journal_sans_modification BEFORE UPDATE OR DELETE ON {TABLE} "
    "FOR EACH ROW EXECUTE FUNCTION journal_en_ajout_seul()",
    f"DROP TRIGGER IF EXISTS journal_sans_vidage ON {TABLE}",
    f"CREATE TRIGGER journal_sans_vidage BEFORE TRUNCATE ON {TABLE} "
    "FOR EACH STATEMENT EXECUTE FUNCTION journal_en_ajout_seul()",
]
POSTGRES_DROP = [f"DROP TRIGGER IF EXISTS journal_sans_modification ON {TABLE}",
                 f"DROP TRIGGER IF EXISTS journal_sans_vidage ON {TABLE}",
                 "DROP FUNCTION IF EXISTS journal_en_ajout_seul()"]


def statements(vendor: str, create: bool = True) -> list[str]:
    if vendor == "sqlite":
        return SQLITE_CREATE if create else SQLITE_DROP
    if vendor == "postgresql":
        return POSTGRES_CREATE if create else POSTGRES_DROP
    return []


def install(connection) -> None:
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor):
            cursor.execute(sql)


def remove(connection) -> None:
    with connection.cursor() as cursor:
        for sql in statements(connection.vendor, create=False):
            cursor.execute(sql)


@contextmanager
def lifted(connection) -> Iterator[None]:
    """For a whole-database restore only: the triggers removed, then installed again, whatever happens."""
    remove(connection)
    try:
        yield
    finally:
        install(connection)
