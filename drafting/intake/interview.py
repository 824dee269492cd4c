"""``clausier questionnaire nouveau``: the questionnaire asked in the terminal, in French.

Each answer is put into the questionnaire being built and the whole of it is
validated with the file loader's own rules (validate_data); only the problems of
the field just answered are shown, with the loader's own messages, and the
question is asked again. So the terminal and a YAML file can never disagree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, get_args

import click

from drafting.errors import Issue
from drafting.intake.labels import PROMPTS
from drafting.intake.model import MAX_LOTS_QUESTIONNAIRE as MAX_LOTS
from drafting.intake.model import Attributaires, Ccag, Forme, Nature, Procedure, Theme, TypeAcheteur, dotted
from drafting.intake.validation import nearest_sectors, validate_data
from drafting.library import CONSIDERATION_TYPES, Library

Path_ = tuple


@dataclass
class Session:
    """The questionnaire being built and the library that checks it."""

    library: Library
    data: dict[str, Any] = field(default_factory=lambda: {"version": 1})
    echo: Callable[[str], None] = click.echo

    def issues_at(self, path: Path_) -> list[Issue]:
        _, issues = validate_data(self.data, {}, self.library)
        wanted = dotted(path)
        return [i for i in issues if i.path == wanted or i.path.startswith(wanted + ".") or i.path.startswith(wanted + "[")]

    def put(self, path: Path_, value: Any) -> None:
        target: Any = self.data
        for part in path[:-1]:
            if isinstance(part, int):
                target = target[part]
            else:
                target = target.setdefault(part, {})
        if value is None:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
        _prune(self.data)

    def ask(self, path: Path_, question: str, convert: Callable[[str], Any] = lambda s: s, default: Optional[str] = None,
            optional: bool = False) -> Any:
        """Ask until the answer passes the loader's rules for this field."""
        while True:
            hint = " (Entrée pour passer)" if optional and default is None else ""
            raw = click.prompt(question + hint, default=default if default is not None else ("" if optional else None),
                               show_default=default is not None and default != "")
            raw = raw.strip()
            if not raw and optional:
                self.put(path, None)
                return None
            try:
                value = convert(raw)
            except ValueError as exc:
                self.echo(f"  ✗ {exc}")
                continue
            self.put(path, value)
            problems = self.issues_at(path)
            if not problems:
                return value
            for issue in problems:
                self.echo(f"  ✗ {issue.message}")

    def choose(self, path: Path_, question: str, choices: list[str], default: Optional[str] = None,
               optional: bool = False, labels: Optional[dict[str, str]] = None) -> Optional[str]:
        """A numbered list: the buyer types the number (or the identifier)."""
        self.echo(question)
        for number, choice in enumerate(choices, start=1):
            self.echo(f"  {number}. {(labels or {}).get(choice) or PROMPTS.get(choice, choice)}")
        default_number = str(choices.index(default) + 1) if default in choices else None

        def convert(raw: str) -> str:
            if raw.isdigit() and 1 <= int(raw) <= len(choices):
                return choices[int(raw) - 1]
            if raw in choices:
                return raw
            raise ValueError(f"répondez par un numéro entre 1 et {len(choices)}")
        return self.ask(path, "Votre choix", convert, default_number, optional)

    def yes_no(self, path: Path_, question: str, default: bool = False) -> bool:
        answer = oui_non(question, default)
        self.put(path, answer)
        return answer


def _prune(node: Any) -> None:
    """A section left without answers disappears, as if the buyer had not written it."""
    if isinstance(node, dict):
        for key in [k for k, v in node.items() if isinstance(v, dict)]:
            _prune(node[key])
            if not node[key] and key != "lots":
                del node[key]
    elif isinstance(node, list):
        for item in node:
            _prune(item)


def oui_non(question: str, default: bool) -> bool:
    """click.confirm only knows y/n: a French buyer answers oui/non (o/n)."""
    while True:
        raw = click.prompt(f"{question} [{'O/n' if default else 'o/N'}]", default="", show_default=False).strip().lower()
        if not raw:
            return default
        if raw in ("o", "oui", "y", "yes"):
            return True
        if raw in ("n", "non", "no"):
            return False
        click.echo("  ✗ répondez oui ou non (o/n)")


def french_number(raw: str) -> float:
    """« 1 500 000,50 », « 1500000 », « 5 % »: read exactly, never guessed."""
    text = raw.replace("\u00a0", " ").replace("\u202f", " ").replace("€", "").replace("HT", "").strip()
    percent = text.endswith("%")
    text = text.rstrip("%").replace(" ", "").replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"« {raw} » n'est pas un nombre : écrivez par exemple 1500000 ou 1 500 000,50") from None
    return value / 100 if percent else value


def whole_number(raw: str) -> int:
    """A count (months, lots, renewals): said as a count when it is not one."""
    try:
        value = french_number(raw)
    except ValueError:
        raise ValueError(f"« {raw} » n'est pas un nombre : écrivez-le en chiffres, par exemple 12") from None
    if not float(value).is_integer():
        raise ValueError(f"« {raw} » : un nombre entier est attendu")
    return int(value)


def run(library: Library, echo: Callable[[str], None] = click.echo) -> dict[str, Any]:
    """The questions, in the order a buyer thinks of them; returns the validated data."""
    s = Session(library, echo=echo)
    echo("Nouveau questionnaire clausier. Chaque réponse est vérifiée aussitôt.\n")
    echo("— L'acheteur —")
    s.ask(("acheteur", "nom"), "Nom de l'acheteur")
    s.choose(("acheteur", "type"), "Type d'acheteur :", list(get_args(TypeAcheteur)), "collectivite")
    s.ask(("acheteur", "departement"), "Département (par exemple 69)", optional=True)

    echo("\n— Le facilitateur de la clause sociale —")
    if oui_non("Un facilitateur accompagne-t-il ce marché ?", True):
        s.ask(("facilitateur", "structure"), "Structure (PLIE, maison de l'emploi…)")
        s.ask(("facilitateur", "contact"), "Nom du contact", optional=True)
        s.ask(("facilitateur", "courriel"), "Courriel", optional=True)
        s.ask(("facilitateur", "telephone"), "Téléphone", optional=True)

    echo("\n— Le marché —")
    s.ask(("marche", "reference"), "Référence du marché (elle nomme les fichiers, par exemple 2027-TRV-001)")
    s.ask(("marche", "objet"), "Objet du marché")
    nature = s.choose(("marche", "nature"), "Nature :", list(get_args(Nature)), "travaux")
    s.choose(("marche", "procedure"), "Procédure :", list(get_args(Procedure)), "appel_offres_ouvert")
    forme = s.choose(("marche", "forme"), "Forme :", list(get_args(Forme)), "ordinaire")
    if forme != "ordinaire":
        s.choose(("marche", "attributaires"), "Attributaires :", list(get_args(Attributaires)), "mono")
    ccag_default = "travaux" if nature == "travaux" else "fcs"
    ccag_choices = list(get_args(Ccag))
    s.choose(("marche", "ccag"), "CCAG de référence :", ccag_choices, ccag_default, labels={"travaux": "CCAG-Travaux"})
    s.ask(("marche", "date_notification_prevue"), "Date de notification prévue (AAAA-MM-JJ)", optional=True)
    s.ask(("marche", "duree_mois"), "Durée initiale, en mois", whole_number)
    renewals = s.ask(("marche", "reconductions"), "Nombre de reconductions", whole_number, default="0")
    if renewals:
        s.ask(("marche", "duree_reconduction_mois"), "Durée d'une reconduction, en mois", whole_number, default="12")
    else:
        s.put(("marche", "reconductions"), None)

    echo("\n— Les objectifs sociaux —")
    themes = list(get_args(Theme))
    for number, theme in enumerate(themes, start=1):
        echo(f"  {number}. {PROMPTS[theme]}")

    def pick_themes(raw: str) -> list[str]:
        chosen = []
        for part in raw.replace(";", ",").replace(" ", ",").split(","):
            if not part:
                continue
            if not part.isdigit() or not 1 <= int(part) <= len(themes):
                raise ValueError(f"« {part} » : donnez des numéros entre 1 et {len(themes)}, séparés par des virgules")
            chosen.append(themes[int(part) - 1])
        return list(dict.fromkeys(chosen))
    s.ask(("objectifs", "themes"), "Objectifs (numéros séparés par des virgules)", pick_themes, optional=True)
    if s.yes_no(("objectifs", "premier_essai_secteur"), "Première clause sociale dans ce secteur ?") is False:
        s.put(("objectifs", "premier_essai_secteur"), None)
    if s.yes_no(("objectifs", "objet_insertion"), "L'objet même du marché est-il l'insertion professionnelle ?") is False:
        s.put(("objectifs", "objet_insertion"), None)

    echo("\n— Les lots —")
    while True:
        try:
            count = whole_number(click.prompt("Nombre de lots (1 pour un marché non alloti)", default="1"))
        except ValueError as exc:
            echo(f"  ✗ {exc}")
            continue
        if 1 <= count <= MAX_LOTS:
            break
        echo(f"  ✗ entre 1 et {MAX_LOTS} lots")
    s.data["lots"] = []
    for index in range(count):
        _ask_lot(s, index, forme or "ordinaire")
    _, issues = validate_data(s.data, {}, library)
    for issue in issues:  # rules across answers (a framework's minimum above its maximum…): asked again
        echo(f"  ✗ {issue.path} : {issue.message}")
        _ask_again(s, issue.path)
    return s.data


def _ask_again(s: Session, dotted: str) -> None:
    """Re-ask one field named by a loader message path such as « lots[1].montant_minimum_ht »."""
    path: list[Any] = []
    for part in dotted.replace("]", "").split("."):
        name, _, index = part.partition("[")
        path.append(name)
        if index:
            path.append(int(index))
    numeric = any(word in dotted for word in ("montant", "heures", "duree", "reconductions", "structures"))
    s.ask(tuple(path), f"  Nouvelle valeur pour {dotted}", french_number if numeric else (lambda raw: raw),
          optional=True)


def _ask_lot(s: Session, index: int, forme: str) -> None:
    s.data["lots"].append({"numero": index + 1})
    base = ("lots", index)
    s.echo(f"\nLot {index + 1}")
    s.ask(base + ("intitule",), "  Intitulé du lot")
    s.ask(base + ("secteur",), "  Secteur (identifiant ou mots-clés, par exemple « peinture »)",
          lambda raw: _sector(s, raw))
    if forme == "ordinaire":
        s.ask(base + ("montant_estime_ht",), "  Montant estimé HT, reconductions comprises (€)", french_number)
    else:
        s.ask(base + ("montant_minimum_ht",), "  Montant minimum HT de l'accord-cadre (€)", french_number, optional=True)
        s.ask(base + ("montant_maximum_ht",), "  Montant maximum HT de l'accord-cadre (€)", french_number)
    s.ask(base + ("sourcing", "structures_inclusives"), "  Structures inclusives capables de l'exécuter sur le territoire",
          whole_number, optional=True)
    if s.data["lots"][index].get("sourcing") == {}:
        s.data["lots"][index].pop("sourcing")


def _sector(s: Session, raw: str) -> str:
    """An id as it is; otherwise the sectors whose id or label match the words, with their meaning."""
    if raw in s.library.sectors:
        sector = s.library.sectors[raw]
        s.echo(f"  → {sector.libelle}")
        return raw
    words = raw.lower().split()
    matches = [sid for sid, sector in s.library.sectors.items()
               if all(w in f"{sid} {sector.libelle}".lower() for w in words)]
    matches = matches or nearest_sectors(raw, list(s.library.sectors))
    if len(matches) == 1:
        s.echo(f"  → {matches[0]} : {s.library.sectors[matches[0]].libelle}")
        return matches[0]
    if matches:
        lines = "\n".join(f"     {sid} : {s.library.sectors[sid].libelle}" for sid in matches[:6])
        raise ValueError(f"plusieurs secteurs possibles, tapez l'identifiant :\n{lines}")
    raise ValueError("aucun secteur ne correspond : la liste complète est donnée par « clausier secteurs »")


def to_yaml(data: dict[str, Any], schema_hint: str = "") -> str:
    """A commented YAML questionnaire; strings are JSON-quoted, which YAML reads as they are."""
    lines = []
    if schema_hint:
        lines.append(f"# yaml-language-server: $schema={schema_hint}")
    lines += ["# Questionnaire clausier écrit par « clausier questionnaire nouveau ».",
              "# Format : voir le README de clausier ; toutes les clés sont vérifiées à la lecture.", ""]
    comments = {
        "acheteur": "L'acheteur public", "facilitateur": "Facilitateur de la clause sociale (coordonnées reprises dans les pièces)",
        "marche": "Le marché", "objectifs": "Objectifs sociaux de l'acheteur", "lots": "Les lots (un marché non alloti est le lot 1)",
    }
    for key, value in data.items():
        if key in comments:
            lines.append(f"# {comments[key]}")
        lines += _emit(key, value, 0)
    return "\n".join(lines) + "\n"


def _emit(key: Optional[str], value: Any, indent: int) -> list[str]:
    pad = "  " * indent
    prefix = f"{pad}{key}:" if key is not None else f"{pad}-"
    if isinstance(value, dict):
        out = [prefix] if key is not None else []
        first = True
        for k, v in value.items():
            sub = _emit(k, v, indent + 1)
            if key is None and first:
                sub[0] = f"{pad}- " + sub[0].lstrip()
                first = False
            out += sub
        return out
    if isinstance(value, list):
        if not value:
            return [f"{prefix} []"]
        if all(not isinstance(v, (dict, list)) for v in value):
            return [f"{prefix} [{', '.join(_scalar(v) for v in value)}]"]
        out = [prefix]
        for item in value:
            out += _emit(None, item, indent + 1)
        return out
    return [f"{prefix} {_scalar(value)}"]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


__all__ = ["run", "to_yaml", "french_number", "whole_number", "CONSIDERATION_TYPES"]
