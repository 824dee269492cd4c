"""Reading a questionnaire file (YAML or JSON) into the validated model.

Every problem of a file is collected and reported at once, each with its path
(``lots[1].montant_estime_ht``) and, for YAML, its line: a buyer fixes the whole
file in one pass instead of discovering errors one run at a time.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Optional, Union, get_args

import yaml
from pydantic import BaseModel, ValidationError

from drafting.errors import Issue, QuestionnaireError
from drafting.library.core import Library
from drafting.intake.model import QUESTIONNAIRE_VERSION, Questionnaire

MAX_BYTES = 2_000_000
Path_ = tuple[Union[str, int], ...]
_STANDARD_TAGS = {
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
}


@dataclass(frozen=True)
class LoadedQuestionnaire:
    """The model plus what the manifest needs to prove which input was used."""

    model: Questionnaire
    source: str
    sha256: str


STDIN = "-"
STDIN_NAME = "entrée standard"


def load_questionnaire(path: Path, library: Library) -> LoadedQuestionnaire:
    """Read, parse and validate one file (``-``: standard input); raise QuestionnaireError with every issue."""
    if str(path) == STDIN:
        return parse_questionnaire(sys.stdin.buffer.read(MAX_BYTES + 1), STDIN_NAME, library)
    source = str(path)
    if source.lower().endswith((".xlsx", ".xlsm")):
        from drafting.intake.form import read_form

        return read_form(path, library)
    return parse_questionnaire(read_input(path), source, library)


def read_input(path: Path) -> bytes:
    """A questionnaire file's bytes, or the reason it cannot be read, in French."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise QuestionnaireError(str(path), [Issue("", "fichier introuvable : vérifiez le chemin")]) from None
    except IsADirectoryError:
        raise QuestionnaireError(str(path), [Issue("", "c'est un dossier : indiquez un fichier de questionnaire")]) from None
    except OSError as exc:
        raise QuestionnaireError(str(path), [Issue("", f"fichier illisible ({exc.strerror})")]) from None


def parse_questionnaire(raw: bytes, source: str, library: Library) -> LoadedQuestionnaire:
    digest = hashlib.sha256(raw).hexdigest()
    data, lines = _decode(raw, source)
    model, issues = validate_data(data, lines, library)
    if issues or model is None:
        raise QuestionnaireError(source, issues)
    return LoadedQuestionnaire(model, source, digest)


# --------------------------------------------------------------------------- decoding

def _fail(source: str, message: str, line: int | None = None) -> QuestionnaireError:
    return QuestionnaireError(source, [Issue("", message, line)])


def _decode(raw: bytes, source: str) -> tuple[Any, dict[Path_, int]]:
    if len(raw) > MAX_BYTES:
        raise _fail(source, f"fichier trop volumineux ({len(raw)} octets, {MAX_BYTES} au plus) : "
                            "un questionnaire tient en quelques kilo-octets")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _fail(source, "le fichier n'est pas encodé en UTF-8 : enregistrez-le en UTF-8") from None
    if not text.strip():
        raise _fail(source, "le fichier est vide : partez d'un questionnaire d'exemple (dossier examples/ de clausier)")
    if source.lower().endswith(".json") or (source == STDIN_NAME and text.lstrip().startswith("{")):
        return _decode_json(text, source), {}
    return _decode_yaml(text, source)


def _decode_json(text: str, source: str) -> Any:
    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                raise ValueError(f"clé « {key} » en double")
            seen[key] = value
        return seen

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as exc:
        raise _fail(source, f"JSON mal formé (colonne {exc.colno}) : {exc.msg}", exc.lineno) from None
    except ValueError as exc:
        raise _fail(source, f"JSON mal formé : {exc}") from None


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loader whose impossible dates stay strings, so the model reports them."""


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def _decode_yaml(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise _fail(source, "le fichier ne contient aucune donnée")
        lines: dict[Path_, int] = {}
        problems: list[Issue] = []
        _walk(node, (), lines, problems, set())
        if problems:
            raise QuestionnaireError(source, problems)
        return loader.construct_document(node), lines
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = f" (colonne {mark.column + 1})" if mark else ""
        raise _fail(source, f"YAML mal formé{column} : {_yaml_problem(exc)}", line) from None
    except yaml.YAMLError as exc:
        raise _fail(source, f"YAML mal formé : {exc}") from None
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or exc.context or "syntaxe incorrecte"
    hints = {
        "mapping values are not allowed": "deux-points inattendu ; mettez la valeur entre guillemets si elle contient « : »",
        "cannot start any token": "caractère interdit en début de valeur (tabulation, @, `) ; indentez avec des espaces "
                                  "et mettez la valeur entre guillemets",
        "could not find expected ':'": "deux-points « : » attendu après la clé",
        "did not find expected key": "clé attendue : vérifiez l'indentation de cette ligne et de la précédente",
        "did not find expected ',' or ']'": "liste entre crochets non refermée : ajoutez « ] »",
        "did not find expected ',' or '}'": "dictionnaire entre accolades non refermé : ajoutez « } »",
        "found unexpected end of stream": "fin de fichier inattendue : guillemet ou crochet non refermé",
    }
    for english, french in hints.items():
        if english in problem:
            return french
    return f"{problem} (vérifiez l'indentation et les guillemets)"


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int],
          problems: list[Issue], seen: set[int]) -> None:
    """Record each path's line; refuse aliases, custom tags and duplicate keys."""
    line = node.start_mark.line + 1
    lines.setdefault(path, line)
    if id(node) in seen:
        problems.append(Issue(_fmt(path), "les références YAML (&ancre, *alias) ne sont pas admises : "
                                           "recopiez la valeur", line))
        return
    seen.add(id(node))
    if node.tag not in _STANDARD_TAGS:
        problems.append(Issue(_fmt(path), f"étiquette YAML « {node.tag} » non admise : "
                                           "retirez-la, seules les valeurs simples sont acceptées", line))
        return
    if isinstance(node, yaml.MappingNode):
        keys: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                problems.append(Issue(_fmt(path), "clé invalide : une clé est un mot (par exemple « objet »), "
                                                  "pas un nombre, une liste ni une valeur vide", key_node.start_mark.line + 1))
                continue
            if key_node.tag == "tag:yaml.org,2002:merge" or key == "<<":
                problems.append(Issue(_fmt(path), "la fusion YAML « << » n'est pas admise", key_node.start_mark.line + 1))
                continue
            if key in keys:
                problems.append(Issue(_fmt(path + (key,)), "clé en double : gardez-en une seule",
                                      key_node.start_mark.line + 1))
            keys.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), lines, problems, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), lines, problems, seen)


# --------------------------------------------------------------------------- validation

def validate_data(data: Any, lines: dict[Path_, int], library: Library) -> tuple[Optional[Questionnaire], list[Issue]]:
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


def _check_clauses(data: dict[str, Any], lines: dict[Path_, int]) -> list[Issue]:
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
        return issues + [Issue(_fmt(path), "« nombre » ne s'emploie qu'avec « mode: au_choix » : avec des actions imposées, "
                                  "toutes sont dues ; retirez « nombre » ou choisissez « au_choix »", _line_for(path, lines))]
    if isinstance(actions, list) and actions and nombre > len(actions):
        return issues + [Issue(_fmt(path), f"{nombre} actions demandées parmi {len(actions)} proposées : le nombre à réaliser "
                                  "ne peut dépasser le nombre d'actions de la liste", _line_for(path, lines))]
    return issues


def _check_reservation(data: dict[str, Any], clauses: Any, lines: dict[Path_, int]) -> list[Issue]:
    """The ESS reservation (L2113-15) only exists for services: refuse it elsewhere, before drafting."""
    reserve = clauses.get("marche_reserve") if isinstance(clauses, dict) else None
    marche = data.get("marche") if isinstance(data.get("marche"), dict) else {}
    if isinstance(reserve, dict) and reserve.get("article") == "L2113-15" and marche.get("nature") != "services":
        path: Path_ = ("clauses", "marche_reserve", "article")
        return [Issue(_fmt(path), "la réservation aux entreprises de l'économie sociale et solidaire (L2113-15) ne vaut "
                                  "que pour certains services sociaux, culturels ou de santé : choisissez L2113-12, "
                                  "L2113-13 ou L2113-12_13, ou vérifiez marche.nature", _line_for(path, lines))]
    return []


def _check_dates(model: Questionnaire, lines: dict[Path_, int], library: Library) -> list[Issue]:
    """A notification date before the library's dated parameters cannot be computed."""
    when = model.marche.date_notification_prevue
    if when is None or when >= library.earliest_date:
        return []
    path = ("marche", "date_notification_prevue")
    return [Issue(_fmt(path), f"date antérieure aux paramètres de la bibliothèque {library.version} "
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


def _fmt(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _line_for(path: Path_, lines: dict[Path_, int]) -> Optional[int]:
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


def _translate(err: dict[str, Any], lines: dict[Path_, int]) -> Issue:
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
    return Issue(_fmt(loc), message, _line_for(loc, lines))


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
    model: Any = Questionnaire
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        model = _model_in(field.annotation)
    return list(getattr(model, "model_fields", {}))


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _lots(data: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    lots = data.get("lots")
    if not isinstance(lots, list):
        return []
    return [(i, lot) for i, lot in enumerate(lots) if isinstance(lot, dict)]


def _check_sectors(data: dict[str, Any], lines: dict[Path_, int], library: Library) -> list[Issue]:
    issues = []
    known = sorted(library.sectors)
    for index, lot in _lots(data):
        sector = lot.get("secteur")
        if not isinstance(sector, str) or not sector or sector in library.sectors:
            continue
        path = ("lots", index, "secteur")
        issues.append(Issue(_fmt(path), f"secteur « {sector} » inconnu de la bibliothèque ; "
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
    from drafting.intake.model import parse_amount

    if value is None or isinstance(value, bool):
        return None
    try:
        parsed = parse_amount(value)
    except Exception:  # the model reports it with a better message
        return None
    return float(parsed) if isinstance(parsed, (int, float)) and parsed >= 0 else None


def _cross_checks(data: dict[str, Any], lines: dict[Path_, int]) -> list[Issue]:
    """Rules between fields, checked on raw data so they join the other errors."""
    issues: list[Issue] = []
    marche = data.get("marche") if isinstance(data.get("marche"), dict) else {}
    forme = marche.get("forme", "ordinaire")
    numbers: dict[Any, int] = {}
    for index, lot in _lots(data):
        base: Path_ = ("lots", index)
        numero = lot.get("numero")
        if isinstance(numero, int) and not isinstance(numero, bool):
            if numero in numbers:
                issues.append(Issue(_fmt(base + ("numero",)), f"numéro de lot {numero} déjà utilisé par lots[{numbers[numero]}] : "
                                                             "chaque lot a un numéro unique", _line_for(base + ("numero",), lines)))
            numbers.setdefault(numero, index)
        estime = _number(lot.get("montant_estime_ht"))
        minimum = _number(lot.get("montant_minimum_ht"))
        maximum = _number(lot.get("montant_maximum_ht"))
        if forme == "ordinaire" and lot.get("montant_estime_ht") is None:
            path = base + ("montant_estime_ht",)
            issues.append(Issue(_fmt(path), "montant estimé HT obligatoire pour un marché ordinaire "
                                            "(sur toute la durée, reconductions comprises)", _line_for(path, lines)))
        if forme in ("accord_cadre_bons_de_commande", "accord_cadre_marches_subsequents") and lot.get("montant_maximum_ht") is None:
            path = base + ("montant_maximum_ht",)
            issues.append(Issue(_fmt(path), "montant maximum HT obligatoire pour un accord-cadre "
                                            "(sur toute la durée, reconductions comprises)", _line_for(path, lines)))
        if minimum is not None and maximum is not None and minimum > maximum:
            path = base + ("montant_minimum_ht",)
            issues.append(Issue(_fmt(path), "le montant minimum dépasse le montant maximum : vérifiez les deux montants",
                                _line_for(path, lines)))
        if forme == "ordinaire" and estime is not None and (minimum is not None or maximum is not None):
            path = base + ("montant_minimum_ht" if minimum is not None else "montant_maximum_ht",)
            issues.append(Issue(_fmt(path), "montants minimum et maximum réservés aux accords-cadres : "
                                            "changez marche.forme ou retirez ces montants", _line_for(path, lines)))
    return issues
