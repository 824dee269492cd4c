"""The clause library as data: release version, dated parameters, sectors, fragments.

The library is data that facilitators maintain, so nothing here encodes a legal
figure: this module only reads, checks the shape, and resolves dated values
(openfisca-style: a value holds from its date until the next one).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml

from drafting.errors import LibraryError

LIBRARY_ENV = "CLAUSIER_LIBRARY"
CONSIDERATION_TYPES: tuple[str, ...] = (
    "insertion",
    "action_sociale",
    "marche_reserve",
    "insertion_qualification",
    "illettrisme",
    "egalite_diversite",
    "plan_de_progres",
)
PIECES = ("ccap", "rc", "ae", "note", "annexe")
# The award criterion on insertion performance is drafted, in the RC, when the buyer asks for it; the
# manifest records it beside the retained types so that impact and batch see the fragment it uses.
CRITERION_TYPE, CRITERION_FRAGMENT = "critere_insertion", "commun/critere_insertion"
STATUTS = ("brouillon", "publie", "retire")

SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")
RELEASE = re.compile(r"\d{1,4}\.\d{1,4}\.\d{1,4}")
FRAGMENT_ID = re.compile(r"[a-z][a-z0-9_]*/[a-z][a-z0-9_]*")  # « <type>/<pièce> »: it names files under versions/

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Parameter:
    """A dated legal or conventional figure, with where it comes from."""

    name: str
    description: str
    unit: str
    values: tuple[tuple[dt.date, Any], ...]
    source: str
    nature: str = ""  # loi | convention | pratique | politique (see parametres.yaml)
    verifie_le: Optional[dt.date] = None  # for legal facts: when the library checked them against their source

    def at(self, when: dt.date) -> Any:
        """Value in force at ``when``: the last one whose date is not after it."""
        current = None
        for start, value in self.values:
            if start <= when:
                current = value
        if current is None:
            first = self.values[0][0].isoformat()
            raise LibraryError(
                f"paramètre « {self.name} » : aucune valeur en vigueur au {when.isoformat()} "
                f"(première valeur au {first})"
            )
        return current


@dataclass(frozen=True)
class Sector:
    """One row of the sector table: what the guide's suitability rules look at."""

    id: str
    libelle: str
    nature: str
    main_oeuvre_sur_site: bool
    adapte_heures: bool
    offre_inclusive: str
    metiers_peu_qualifies: bool
    metiers_genres: bool
    part_main_oeuvre: float
    cout_horaire: float
    source: str


@dataclass(frozen=True)
class Fragment:
    """A clause fragment: metadata plus the Jinja body, hashed as stored on disk."""

    id: str
    type: str
    piece: str
    ordre: int
    version: str
    statut: str
    date_effet: dt.date
    bases_legales: tuple[dict[str, str], ...]
    variables: tuple[str, ...]
    changelog: str
    body: str
    body_first_line: int
    sha256: str
    path: str
    titre: str = ""  # annexes: the document's title
    fichier: str = ""  # annexes: file name stem, after the market reference
    pour_types: tuple[str, ...] = ()  # annexes: written when one of these types is retained


@dataclass(frozen=True)
class Library:
    """A loaded library release; immutable so it can be cached and shared."""

    root: Path
    version: str
    date: dt.date
    parameters: dict[str, Parameter]
    sectors: dict[str, Sector]
    publics: tuple[str, ...]
    modalites: tuple[str, ...]
    fragments: dict[str, Fragment] = field(default_factory=dict)
    types: dict[str, dict[str, Any]] = field(default_factory=dict)
    condition_sociale_bases: tuple[Any, ...] = ()  # registry keys (older releases: {reference, source} mappings)
    critere_bases: tuple[Any, ...] = ()
    rappels: tuple[dict[str, Any], ...] = ()  # reminders of the note outside social clauses, each with its date
    references: dict[str, dict[str, Any]] = field(default_factory=dict)
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)
    release: Optional[str] = None  # the release version asked for, None for the working folder
    data_hashes: dict[str, str] = field(default_factory=dict)
    changelog: tuple[dict[str, Any], ...] = ()
    ccag: dict[str, dict[str, Any]] = field(default_factory=dict)  # ccag.yaml: per CCAG, its articles
    ccag_objets: dict[str, str] = field(default_factory=dict)  # what each article key is about
    # what the engine derives once per loaded library (compiled templates, the manifest's record):
    # it lives and dies with the library, never in a module global
    memo: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def earliest_date(self) -> dt.date:
        """First date at which every parameter has a value."""
        return max(p.values[0][0] for p in self.parameters.values())

    def param(self, name: str, when: dt.date) -> Any:
        try:
            return self.parameters[name].at(when)
        except KeyError:
            where = f"de la version publiée {self.release}" if self.release else f"de {self.root / 'parametres.yaml'}"
            raise LibraryError(f"paramètre « {name} » absent {where}") from None

    def fragment(self, fragment_id: str) -> Fragment:
        try:
            return self.fragments[fragment_id]
        except KeyError:
            raise LibraryError(f"fragment « {fragment_id} » absent de la bibliothèque {self.root}") from None

    def fragments_for(self, type_: str, piece: str) -> list[Fragment]:
        """Published fragments of one type for one piece, in their declared order."""
        found = [
            f for f in self.fragments.values()
            if f.type == type_ and f.piece == piece and f.statut == "publie"
        ]
        return sorted(found, key=lambda f: (f.ordre, f.id))

    def annexes_for(self, types: Iterable[str]) -> list[Fragment]:
        """Published annex sheets for a market with these retained types (none listed: every market)."""
        retained = set(types)
        found = [f for f in self.fragments.values()
                 if f.piece == "annexe" and f.statut == "publie" and (not f.pour_types or retained & set(f.pour_types))]
        return sorted(found, key=lambda f: (f.ordre, f.id))



CCAG_ETATS = ("texte_lu", "recoupe", "deduit", "inconnu")




def as_date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise LibraryError(f"{what} : date AAAA-MM-JJ attendue, reçu « {value} »") from None
