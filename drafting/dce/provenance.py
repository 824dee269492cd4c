"""What a manifest records about how a market was made, and whether a rerun would change it.

Kept apart from the writers so that ``batch`` can decide « inchangé » for a whole
portfolio without importing the drafting engine.
"""

from __future__ import annotations

from typing import Any, Iterable

from drafting.common.build import engine_fingerprint
from drafting.library.core import CONSIDERATION_TYPES, CRITERION_FRAGMENT, CRITERION_TYPE, Library

DRAFTING_PIECES = ("ccap", "rc", "ae")


_RECORDS: dict[int, tuple[Library, dict[str, Any]]] = {}


def library_record(library: Library) -> dict[str, Any]:
    """The release used; a working folder that differs from it says how, so nobody mistakes it.

    Computed once per loaded library (it reads the lock file): a batch writes it into
    every market's manifest. A library is immutable, and an edited folder loads as a new one.
    """
    cached = _RECORDS.get(id(library))
    if cached is not None and cached[0] is library:
        return cached[1]
    if len(_RECORDS) >= 16:
        _RECORDS.clear()
    record = _library_record(library)
    _RECORDS[id(library)] = (library, record)
    return record


def _library_record(library: Library) -> dict[str, Any]:
    from drafting.facilitators.release import pending_changes

    record: dict[str, Any] = {"version": library.version,
                              "donnees": {k: v for k, v in sorted(library.data_hashes.items()) if k != "bibliotheque.yaml"}}
    if library.release is None:
        changes = pending_changes(library)
        if changes:
            record["modifications_non_publiees"] = [str(c) for c in changes]
    return record


def fragments_used(library: Library, types: Iterable[str]) -> dict[str, str]:
    """id → hash of every fragment a market with these retained types is drafted from.

    Mirrors compose(): each type's CCAP, RC and AE fragments, what they include, and
    the annex sheets meant for these types. A fragment added, changed or withdrawn
    for one of them changes this set.
    """
    from drafting.library.core import included_ids

    retained = set(types)
    used: dict[str, str] = {}
    for type_ in CONSIDERATION_TYPES:
        if type_ not in retained:
            continue
        for piece in DRAFTING_PIECES:
            for fragment in library.fragments_for(type_, piece):
                used[fragment.id] = fragment.sha256
                for name in included_ids(fragment, library.fragments):
                    if name in library.fragments:
                        used[name] = library.fragments[name].sha256
    if CRITERION_TYPE in retained and CRITERION_FRAGMENT in library.fragments:
        used[CRITERION_FRAGMENT] = library.fragments[CRITERION_FRAGMENT].sha256
    for fragment in library.annexes_for(retained):
        used[fragment.id] = fragment.sha256
    return dict(sorted(used.items()))
