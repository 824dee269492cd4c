"""``clausier db sauvegarder`` and ``clausier db restaurer``: the whole application in one file, and back.

A backup is a zip: ``sauvegarde.json`` (format, date, clausier's version, the database it came from, the count
of every kind of record, the SHA-256 of the records' file), ``base.json`` (every record, Django's JSON with
natural keys for accounts' permissions, primary keys kept so every link holds) and ``fichiers/`` (every file of
the store, named by its SHA-256, as in the data folder). Same format whatever the database: a SQLite backup
restores into PostgreSQL and the other way round.

Taken while the server runs: the records are read in one transaction (a consistent snapshot), then the store is
copied (it only ever grows: a file is never changed in place). Restored into an empty database (a new data
folder, a new PostgreSQL database), or with ``remplacer`` over an existing one. Every file is checked against its
name on the way in and on the way out. Not in a backup: sessions (everyone logs in again) and the secret key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from django.apps import apps
from django.core.management import call_command
from django.db import connection, transaction

from drafting import api

from . import blobs

FORMAT = "clausier-sauvegarde/1"
MANIFEST, RECORDS, STORE = "sauvegarde.json", "base.json", "fichiers/"
EXCLUDED = ["contenttypes", "auth.permission", "sessions"]
CONTENT_MODELS = ["auth.User", "marches.Organisation", "marches.Marche", "marches.Journal", "suivi.MarcheSuivi"]


class BackupError(api.InputError):
    """A backup that cannot be written or restored, said in French (exit code 2)."""


@dataclass
class Summary:
    path: Path
    objets: dict[str, int]
    fichiers: int
    octets: int


def _counts(records: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        counts[record["model"]] = counts.get(record["model"], 0) + 1
    return dict(sorted(counts.items()))


def _dump() -> str:
    out = io.StringIO()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # one snapshot for every table read below
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        call_command("dumpdata", exclude=EXCLUDED, natural_foreign=True, format="json", indent=None, stdout=out,
                     verbosity=0)
    return out.getvalue()


def backup(target: Path) -> Summary:
    """Write the backup file (whole, or not at all); an existing file is never replaced."""
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} existe déjà : choisissez un autre nom (une sauvegarde n'en écrase jamais une autre)")
    if not target.parent.is_dir():
        raise BackupError(f"dossier {target.parent} introuvable")
    records_text = _dump()
    records = json.loads(records_text)
    store = blobs.root()
    files = sorted(p for p in store.glob("??/*") if p.is_file() and len(p.name) == 64) if store.is_dir() else []
    manifest = {"format": FORMAT, "cree_le": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "clausier": api.__version__, "base": connection.vendor, "objets": _counts(records),
                "base_sha256": hashlib.sha256(records_text.encode("utf-8")).hexdigest(), "fichiers": len(files)}
    fd, tmp = tempfile.mkstemp(prefix=".sauvegarde-", suffix=".tmp", dir=target.parent)
    os.close(fd)
    size = 0
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
            archive.writestr(RECORDS, records_text)
            for path in files:
                data = path.read_bytes()
                if hashlib.sha256(data).hexdigest() != path.name:
                    raise BackupError(f"le fichier {path.name[:12]}… est altéré dans le dossier de données : sauvegarde "
                                      "interrompue (rien n'a été écrit)")
                archive.writestr(f"{STORE}{path.parent.name}/{path.name}", data)
                size += len(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Summary(target, manifest["objets"], len(files), size)


def _read(source: Path) -> tuple[dict, str, zipfile.ZipFile]:
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile):
        raise BackupError(f"{source} n'est pas une sauvegarde clausier (archive .zip illisible)") from None
    try:
        manifest = json.loads(archive.read(MANIFEST))
        records_text = archive.read(RECORDS).decode("utf-8")
    except (KeyError, ValueError):
        archive.close()
        raise BackupError(f"{source} n'est pas une sauvegarde clausier ({MANIFEST} ou {RECORDS} absent ou illisible)") from None
    if manifest.get("format") != FORMAT:
        archive.close()
        raise BackupError(f"{source} : format « {manifest.get('format')} » inconnu (attendu : {FORMAT})")
    if hashlib.sha256(records_text.encode("utf-8")).hexdigest() != manifest.get("base_sha256"):
        archive.close()
        raise BackupError(f"{source} : {RECORDS} altéré (empreinte différente de celle de la sauvegarde)")
    return manifest, records_text, archive


def occupied() -> dict[str, int]:
    """What the database already holds (empty dict: nothing to lose)."""
    found = {}
    for label in CONTENT_MODELS:
        count = apps.get_model(label).objects.count()
        if count:
            found[label] = count
    return found


def restore(source: Path, replace: bool = False) -> Summary:
    """Every record and every file of a backup, into this database and data folder."""
    from .marches import append_only

    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source} introuvable")
    manifest, records_text, archive = _read(source)
    with archive:
        names = [n for n in archive.namelist() if n.startswith(STORE) and not n.endswith("/")]
        for name in names:  # every file checked before anything is changed
            if hashlib.sha256(archive.read(name)).hexdigest() != name.rsplit("/", 1)[-1]:
                raise BackupError(f"{source} : le fichier {name} est altéré ; rien n'a été restauré")
        held = occupied()
        if held and not replace:
            what = ", ".join(f"{n} {label.split('.')[-1]}" for label, n in held.items())
            raise BackupError(f"la base de données n'est pas vide ({what}) : restaurez dans une base vide (nouveau dossier "
                              "--data, nouvelle base PostgreSQL), ou ajoutez --remplacer pour l'écraser")
        with tempfile.TemporaryDirectory(prefix="clausier-restauration-") as tmp:
            fixture = Path(tmp) / "base.json"
            fixture.write_text(records_text, encoding="utf-8")
            with transaction.atomic():
                if held:
                    with append_only.lifted(connection):
                        call_command("flush", interactive=False, verbosity=0)
                call_command("loaddata", str(fixture), verbosity=0)
        size = 0
        for name in names:
            data = archive.read(name)
            blobs.put(data)
            size += len(data)
    restored = occupied()
    from . import acces

    acces.team_mode.clear()
    acces.BEARERS.clear()
    acces.journal(None, "restauration", fichier=source.name, sauvegarde_du=manifest.get("cree_le", ""),
                  base_d_origine=manifest.get("base", ""), objets=restored, fichiers=len(names))
    return Summary(source, _counts(json.loads(records_text)), len(names), size)


def describe(source: Path) -> Optional[dict]:
    manifest, _, archive = _read(Path(source))
    archive.close()
    return manifest
