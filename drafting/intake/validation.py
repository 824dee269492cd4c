"""Validation of decoded questionnaire data: the model's rules, sectors, rules between fields.

Every problem is collected with its path (``lots[1].montant_estime_ht``) and line, so that a file,
the Excel form, the terminal interview and the web interview all say the same thing in French.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterable, Mapping, Optional

from pydantic import ValidationError

from drafting.errors import Issue
from drafting.intake.model import QUESTIONNAIRE_VERSION, Location, Path_, Questionnaire, dotted, model_at, parse_amount
from drafting.library import Library


def validate_data(data: Any, lines: Mapping[Path_, Location], library: Library) -> tuple[Optional[Questionnaire], list[Issue]]:
    """The model and all issues of a decoded file: model errors, sectors, cross-field rules."""
    if not isinstance(data, dict):
        return None, [Issue("", "le questionnaire doit être un dictionnaire de clés (version, acheteur, marche, lots…)", 1)]
    version = data.get("version")
    if version is None:
        return None, [Issue("version", f"clé obligatoire absente : ajoutez « version: {QUESTIONNAIRE_VERSION} » en tête du fichier", 1)]
    if version != QUESTIONNAIRE_VERSION or isinstance(version, bool):
        return None, [Issue("version", f"version « {version} » non prise en charge : cette version de clausier lit "
                                       f"les questionnaires de version {QUESTIONNAIRE_VERSION}", lines.get(("version",)))]
    issues: list[Issue] = []
    model = None
    try:
        model = Questionnaire.model_validate(data)
    except ValidationError as exc:
        issues += [_translate(err, lines) for err in exc.errors(include_url=False)]
    issues += _check_sectors(data, lines, library)
    issues += _cross_checks(data, lines)
    issues += _check_clauses(data, lines)
    if model is not None:
        issues += _check_dates(model, lines, library)
    return model, _sorted_unique(issues)


def _check_clauses(data: dict[str, Any], lines: Mapping[Path_, Location]) -> list[Issue]:
    """An N-among-M choice must leave a choice: N at most M, and no N for imposed actions.

    Checked on the raw data, like the other cross-field rules, so it joins every other error.
    """
    clauses = data.get("clauses")
    issues = _check_reservation(data, clauses, lines)
    action = clauses.get("action_sociale") if isinstance(clauses, dict) else None
    if not isinstance(action, dict) or not isinstance(action.get("nombre"), int):
        return issues
    path: Path_ = ("clauses", "action_sociale", "nombre")
    nombre, actions = action["nombre"], action.get("actions")
    if action.get("mode") == "imposees":
        return issues + [Issue(dotted(path), "« nombre » ne s'emploie qu'avec « mode: au_choix » : avec des actions imposées, "
                                  "toutes sont dues ; retirez « nombre » ou choisissez « au_choix »", _line_for(path, lines))]
    if isinstance(actions, list) and actions and nombre > len(actions):
        return issues + [Issue(dotted(path), f"{nombre} actions demandées parmi {len(actions)} proposées : le nombre à réaliser "
                                  "ne peut dépasser le nombre d'actions de la liste", _line_for(path, lines))]
    return issues


def _check_reservation(data: dict[str, Any], clauses: Any, lines: Mapping[Path_, Location]) -> list[Issue]:
    """The ESS reservation (L2113-15) only exists for services: refuse it elsewhere, before drafting."""
    reserve = clauses.get("marche_reserve") if isinstance(clauses, dict) else None
    marche = data["marche"] if isinstance(data.get("marche"), dict) else {}
    if isinstance(reserve, dict) and reserve.get("article") == "L2113-15" and marche.get("nature") != "services":
        path: Path_ = ("clauses", "marche_reserve", "article")
        return [Issue(dotted(path), "la réservation aux entreprises de l'économie sociale et solidaire (L2113-15) ne vaut "
                                  "que pour certains services sociaux, culturels ou de santé : choisissez L2113-12, "
                                  "L2113-13 ou L2113-12_13, ou vérifiez marche.nature", _line_for(path, lines))]
    return []


def _check_dates(model: Questionnaire, lines: Mapping[Path_, Location], library: Library) -> list[Issue]:
    """A notification date before the library's dated parameters cannot be computed."""
    when = model.marche.date_notification_prevue
    if when is None or when >= library.earliest_date:
        return []
    path = ("marche", "date_notification_prevue")
    return [Issue(dotted(path), f"date antérieure aux paramètres de la bibliothèque {library.version} "
                              f"(valables à partir du {library.earliest_date.isoformat()}) : vérifiez la date",
                  _line_for(path, lines))]


def _sorted_unique(issues: Iterable[Issue]) -> list[Issue]:
    """File order: by line in a YAML file, by sheet, row, column in a workbook."""
    unique = list(dict.fromkeys(issues))
    return sorted(unique, key=lambda i: (_position(i.line), i.path))


def _position(line: int | str | None) -> tuple[str, int, str]:
    if isinstance(line, str):
        sheet, _, cell = line.partition("!")
        column = cell.rstrip("0123456789")
        row = cell[len(column):]
        return sheet, int(row) if row.isdigit() else 0, column.rjust(3)
    return "", line or 0, ""


def _line_for(path: Path_, lines: Mapping[Path_, Location]) -> Optional[Location]:
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return None


_TYPE_NAMES = {
    "int": "un nombre entier", "float": "un nombre", "string": "un texte", "str": "un texte",
    "bool": "vrai ou faux (true/false, oui/non)", "dict": "un dictionnaire de clés", "list": "une liste",
    "date": "une date AAAA-MM-JJ", "model": "un dictionnaire de clés",
}


def _describe(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return "un dictionnaire" if isinstance(value, dict) else "une liste"
    if value is None:
        return "une valeur vide"
    if isinstance(value, bool):
        return "« vrai »" if value else "« faux »"
    text = str(value)
    return f"« {text[:60]}{'…' if len(text) > 60 else ''} »"


def _translate(err: Any, lines: Mapping[Path_, Location]) -> Issue:
    loc: Path_ = tuple(err["loc"])
    kind: str = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        near = difflib.get_close_matches(str(loc[-1]), allowed, n=3, cutoff=0.6)
        hint = f" ; vouliez-vous dire {', '.join(near)} ?" if near else f" ; clés admises ici : {', '.join(allowed)}"
        message = f"clé inconnue « {loc[-1]} »{hint}"
    elif kind == "missing":
        message = "champ obligatoire absent"
    elif kind == "literal_error":
        message = f"valeur {_describe(value)} non admise ; valeurs possibles : {ctx.get('expected', '').replace(' or ', ', ')}"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        bound = {"greater_than": ("strictement supérieure à", "gt"), "greater_than_equal": ("supérieure ou égale à", "ge"),
                 "less_than": ("strictement inférieure à", "lt"), "less_than_equal": ("inférieure ou égale à", "le")}[kind]
        limit = ctx.get(bound[1])
        message = f"la valeur {_describe(value)} doit être {bound[0]} {_num(limit)}"
        if loc and str(loc[-1]) in ("taux_insertion", "part_main_oeuvre"):
            message += " (une fraction : 0.05 pour 5 %)"
    elif kind == "string_pattern_mismatch":
        message = _pattern_message(loc, value)
    elif kind == "too_short":
        message = "au moins un lot est requis (un marché sans lots s'écrit avec un lot n° 1)" if loc == ("lots",) \
            else "la liste ne peut pas être vide"
    elif kind == "too_long":
        message = f"trop d'éléments ({ctx.get('actual_length')}, {ctx.get('max_length')} au plus)"
    elif kind in ("montant", "date", "reference"):
        message = err["msg"]
    elif kind == "string_too_short":
        message = "texte vide : écrivez une valeur"
    elif kind == "string_too_long":
        message = f"texte trop long ({ctx.get('max_length')} caractères au plus)"
    elif kind == "finite_number":
        message = "nombre fini attendu (pas d'infini ni de NaN)"
    elif kind.endswith("_type") or kind.endswith("_parsing") or kind in ("int_from_float",):
        expected = _TYPE_NAMES.get(kind.split("_")[0], "une autre valeur")
        if kind == "int_from_float":
            expected = "un nombre entier"
        feminine = expected.startswith(("une ", "vrai"))
        message = f"{expected} est attendu{'e' if feminine and not expected.startswith('vrai') else ''}, reçu {_describe(value)}"
        if kind.startswith("string") and isinstance(value, (int, float)) and loc and loc[-1] in ("telephone", "cpv", "departement"):
            message += " (écrivez le numéro entre guillemets)"
    else:
        message = err["msg"]
    return Issue(dotted(loc), message, _line_for(loc, lines))


def _num(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace(".", ",")


def _pattern_message(loc: Path_, value: Any) -> str:
    field = loc[-1] if loc else ""
    if field == "courriel":
        return f"adresse électronique invalide {_describe(value)}"
    if field == "cpv":
        return f"code CPV invalide {_describe(value)} : 8 chiffres, éventuellement suivis d'un tiret et d'un chiffre de contrôle (45210000-2)"
    if field == "departement":
        return f"département invalide {_describe(value)} : numéro comme « 69 », « 2A » ou « 974 »"
    return f"valeur {_describe(value)} mal formée"


def _allowed_keys(loc: Path_) -> list[str]:
    """Field names of the model class found at ``loc``, to suggest the right key."""
    found, model = model_at(loc)
    return list(getattr(model, "model_fields", {})) if found else []


def _lots(data: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    lots = data.get("lots")
    if not isinstance(lots, list):
        return []
    return [(i, lot) for i, lot in enumerate(lots) if isinstance(lot, dict)]


def _check_sectors(data: dict[str, Any], lines: Mapping[Path_, Location], library: Library) -> list[Issue]:
    issues = []
    known = sorted(library.sectors)
    for index, lot in _lots(data):
        sector = lot.get("secteur")
        if not isinstance(sector, str) or not sector or sector in library.sectors:
            continue
        path = ("lots", index, "secteur")
        issues.append(Issue(dotted(path), f"secteur « {sector} » inconnu de la bibliothèque ; "
                                        f"secteurs proches : {', '.join(nearest_sectors(sector, known))} "
                                        "(liste complète : clausier secteurs)", _line_for(path, lines)))
    return issues


def nearest_sectors(word: str, known: list[str], n: int = 3) -> list[str]:
    """Closest sector ids: ids containing the word first, then by spelling."""
    lowered = word.lower().strip()
    containing = [k for k in known if lowered and (lowered in k or any(p and p in k for p in lowered.split("_") if len(p) > 3))]
    spelled = difflib.get_close_matches(lowered, known, n=n, cutoff=0.0)
    return list(dict.fromkeys(containing + spelled))[:n]


def _number(value: Any) -> Optional[float]:
    """A usable amount from raw data, or None when the model already reports it."""

    if value is None or isinstance(value, bool):
        return None
    try:
        parsed = parse_amount(value)
    except Exception:  # the model reports it with a better message
        return None
    return float(parsed) if isinstance(parsed, (int, float)) and parsed >= 0 else None


def _cross_checks(data: dict[str, Any], lines: Mapping[Path_, Location]) -> list[Issue]:
    """Rules between fields, checked on raw data so they join the other errors."""
    issues: list[Issue] = []
    marche = data["marche"] if isinstance(data.get("marche"), dict) else {}
    forme = marche.get("forme", "ordinaire")
    numbers: dict[Any, int] = {}
    for index, lot in _lots(data):
        base: Path_ = ("lots", index)
        numero = lot.get("numero")
        if isinstance(numero, int) and not isinstance(numero, bool):
            if numero in numbers:
                issues.append(Issue(dotted(base + ("numero",)), f"numéro de lot {numero} déjà utilisé par lots[{numbers[numero]}] : "
                                                             "chaque lot a un numéro unique", _line_for(base + ("numero",), lines)))
            numbers.setdefault(numero, index)
        estime = _number(lot.get("montant_estime_ht"))
        minimum = _number(lot.get("montant_minimum_ht"))
        maximum = _number(lot.get("montant_maximum_ht"))
        if forme == "ordinaire" and lot.get("montant_estime_ht") is None:
            path = base + ("montant_estime_ht",)
            issues.append(Issue(dotted(path), "montant estimé HT obligatoire pour un marché ordinaire "
                                            "(sur toute la durée, reconductions comprises)", _line_for(path, lines)))
        if forme in ("accord_cadre_bons_de_commande", "accord_cadre_marches_subsequents") and lot.get("montant_maximum_ht") is None:
            path = base + ("montant_maximum_ht",)
            issues.append(Issue(dotted(path), "montant maximum HT obligatoire pour un accord-cadre "
                                            "(sur toute la durée, reconductions comprises)", _line_for(path, lines)))
        if minimum is not None and maximum is not None and minimum > maximum:
            path = base + ("montant_minimum_ht",)
            issues.append(Issue(dotted(path), "le montant minimum dépasse le montant maximum : vérifiez les deux montants",
                                _line_for(path, lines)))
        if forme == "ordinaire" and estime is not None and (minimum is not None or maximum is not None):
            path = base + ("montant_minimum_ht" if minimum is not None else "montant_maximum_ht",)
            issues.append(Issue(dotted(path), "montants minimum et maximum réservés aux accords-cadres : "
                                            "changez marche.forme ou retirez ces montants", _line_for(path, lines)))
    return issues
