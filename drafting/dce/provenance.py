"""What a manifest records about how a market was made, and whether a rerun would change it.

Kept apart from the writers so that ``batch`` can decide « inchangé » for a whole
portfolio without importing the drafting engine.
"""

from __future__ import annotations

from typing import Any, Iterable

from drafting.library import Library, drafted_fragments, included_ids, pending_changes
from drafting.library.fragments import DRAFTED_PIECES


def library_record(library: Library) -> dict[str, Any]:
    """The release used; a working folder that differs from it says how, so nobody mistakes it.

    Computed once per loaded library (it reads the lock file): a batch writes it into
    every market's manifest. A library is immutable, and an edited folder loads as a new one.
    """
    record = library.memo.get("record")
    if record is None:
        record = library.memo["record"] = _library_record(library)
    return record


def _library_record(library: Library) -> dict[str, Any]:
    record: dict[str, Any] = {"version": library.version,
                              "donnees": {k: v for k, v in sorted(library.data_hashes.items()) if k != "bibliotheque.yaml"}}
    if library.release is None:
        changes = pending_changes(library)
        if changes:
            record["modifications_non_publiees"] = [str(c) for c in changes]
    return record


def fragments_used(library: Library, types: Iterable[str]) -> dict[str, str]:
    """id → hash of every fragment a market with these drafted types is made from.

    The same rule as composing (``drafted_fragments``), plus what those fragments include and
    the annex sheets meant for these types: a fragment added, changed or withdrawn for one of
    them changes this set.
    """
    retained = tuple(types)
    used: dict[str, str] = {}
    for piece in DRAFTED_PIECES:
        for _, fragments in drafted_fragments(library, retained, piece):
            for fragment in fragments:
                used[fragment.id] = fragment.sha256
                for name in included_ids(fragment, library.fragments):
                    if name in library.fragments:
                        used[name] = library.fragments[name].sha256
    for fragment in library.annexes_for(retained):
        used[fragment.id] = fragment.sha256
    return dict(sorted(used.items()))
