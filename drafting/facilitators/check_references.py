"""The legal side of ``library check``: references, citations, maintainer's markers, CCAG articles.

A buyer publishes what the library prints: no article cited without a reference entry, no
reference without its source, no « à vérifier » that could reach a piece, no CCAG article
number without its reading state. Each rule answers a way a published DCE went wrong.
"""

from __future__ import annotations

import re

from drafting.facilitators.problems import AVERTISSEMENT, ERREUR, INFO, Problem, where
from drafting.facilitators.typography import text_segments
from drafting.library import (
    Fragment,
    Library,
)

CITATION = re.compile(r"\b([LRD])\.?[ \u00a0\u202f]?(\d{3,4}(?:-\d+)+)\b")


# Notes meant for the library's maintainers, which must never reach a buyer's document.
MARKER = re.compile(
    r"\[\s*verify|\bverify\b|\bTODO\b|\bFIXME\b|\bXXX\b"
    r"|[\[(]\s*(?:point\s+)?à\s+(?:vérifier|confirmer)"          # « [à vérifier] », « (à confirmer : …) »
    r"|\bà\s+(?:vérifier|confirmer)\s*(?:[\]):.;]|$)"             # « … à vérifier. », « à confirmer : »
    r"|^\W*à\s+(?:vérifier|confirmer)\b",                          # a line that starts with it
    re.IGNORECASE)


JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)


def maintainer_markers(text: str) -> list[tuple[int, str]]:
    """(line, message) for each maintainer's marker in text that is printed (Jinja comments aside)."""
    text = JINJA_COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return [(number, f"note de mainteneur « {match.group(0)} » dans un texte imprimé : elle atteindrait la pièce "
                     "de l'acheteur ; réglez le point ou mettez la note en commentaire d'en-tête")
            for number, line in enumerate(text.splitlines(), start=1) for match in MARKER.finditer(line)]


def _declared_articles(fragment: Fragment) -> set[str]:
    found = set()
    for base in fragment.bases_legales:
        if isinstance(base, dict):
            found |= {f"{m.group(1)}{m.group(2)}" for m in CITATION.finditer(str(base.get("reference", "")))}
            found |= {m.group(0) for m in re.finditer(r"\b[LRD]\d{3,4}(?:-\d+)+\b", str(base.get("reference", "")))}
    return found


def check_citations(fragment: Fragment) -> list[Problem]:
    """An article cited in the text must be among the fragment's declared legal bases."""
    declared = _declared_articles(fragment)
    out = []
    for number, line in enumerate(fragment.body.split("\n"), start=1):
        for _, text in text_segments(line):
            for match in CITATION.finditer(text):
                article = f"{match.group(1)}{match.group(2)}"
                if article not in declared:
                    out.append(Problem(ERREUR, "reference", where(fragment, number),
                                       f"article {match.group(0)} cité sans être déclaré dans « bases_legales »"))
    return out


def check_references(library: Library) -> list[Problem]:
    """The registry, the types, the parameters and the CCAG table: every string a piece or the note may print."""
    out = []
    where = str(library.root / "references.yaml")
    for key, entry in library.references.items():
        if not isinstance(entry, dict) or not entry.get("libelle") or not entry.get("source"):
            out.append(Problem(ERREUR, "reference", where, f"référence « {key} » : « libelle » et « source » sont obligatoires"))
            continue
        if not isinstance(entry["source"], str):
            out.append(Problem(ERREUR, "reference", where, f"référence « {key} » : une seule adresse par référence"))
        if not entry.get("verifie_le"):
            out.append(Problem(INFO, "reference", where, f"référence « {key} » citée sans contrôle de sa rédaction en "
                                                         "vigueur (« verifie_le » absent) : à relire sur Légifrance"))
        out += _markers_in(where, f"références.{key}", entry)
    out += _markers_in(str(library.root / "types.yaml"), "types", library.types)
    out += _markers_in(str(library.root / "secteurs.yaml"), "secteurs",
                       {sid: vars(sector) for sid, sector in library.sectors.items()})
    out += _markers_in(str(library.root / "publics.yaml"), "publics", [*library.publics, *library.modalites])
    out += _markers_in(str(library.root / "actions.yaml"), "actions", library.actions)
    out += check_type_bases(library)
    for name, parameter in library.parameters.items():
        where = str(library.root / "parametres.yaml")
        out += _markers_in(where, name, {"description": parameter.description, "source": parameter.source,
                                         "valeurs": [v for _, v in parameter.values]})
        if parameter.nature and parameter.nature not in PARAMETER_NATURES:
            out.append(Problem(ERREUR, "parametre", where, f"« {name} » : nature « {parameter.nature} » inconnue "
                                                           f"({', '.join(PARAMETER_NATURES)})"))
        elif not parameter.nature:
            out.append(Problem(AVERTISSEMENT, "parametre", where, f"« {name} » : dites sa nature ({', '.join(PARAMETER_NATURES)}), "
                                                                  "pour qu'une convention ne passe pas pour du droit"))
        if parameter.nature == "loi" and not parameter.verifie_le:
            out.append(Problem(ERREUR, "parametre", where, f"« {name} » : fait juridique sans date de contrôle "
                                                           "(« verifie_le ») : relisez-le sur sa source"))
    out += check_ccag(library)
    return out


PARAMETER_NATURES = ("loi", "convention", "pratique", "politique")


def _markers_in(where: str, label: str, value: object) -> list[Problem]:
    """Markers anywhere in a data structure whose strings can be printed."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _markers_in(where, f"{label}.{k}", v)]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _markers_in(where, f"{label}[{i}]", v)]
    if isinstance(value, str):
        return [Problem(ERREUR, "marqueur", where, f"{label} : {message}") for _, message in maintainer_markers(value)]
    return []


def check_type_bases(library: Library) -> list[Problem]:
    """The note cites the types' legal bases from the registry: each must be one of its keys."""
    out = []
    where = str(library.root / "types.yaml")
    bases = [(t, b) for t, spec in library.types.items() for b in spec.get("bases_legales", [])]
    bases += [("condition_sociale_obligatoire", b) for b in library.condition_sociale_bases]
    for type_, base in bases:
        key = base if isinstance(base, str) else base.get("reference") if isinstance(base, dict) else None
        if key not in library.references:
            out.append(Problem(ERREUR, "reference", where, f"{type_} : base légale « {key} » absente du registre "
                                                           "references.yaml (citez-la par sa clé)"))
    return out


def check_ccag(library: Library) -> list[Problem]:
    """Numbers the library could not read in the CCAG itself: said to the facilitators, never hidden."""
    out = []
    where = str(library.root / "ccag.yaml")
    for code, spec in library.ccag.items():
        out += _markers_in(where, f"ccag.{code}", spec)
        for key, article in spec["articles"].items():
            if article["etat"] in ("deduit", "inconnu"):
                what = "déduit de la structure des CCAG" if article["etat"] == "deduit" else "inconnu : les pièces citent l'objet de l'article, sans numéro"
                out.append(Problem(AVERTISSEMENT, "ccag", where, f"{spec['abrege']}, {key} : numéro {what} ; à confirmer "
                                                                 "sur le texte consolidé de l'arrêté du 30 mars 2021"))
    out += _markers_in(where, "objets", library.ccag_objets)
    return out
