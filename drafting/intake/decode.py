"""Bytes of a YAML or JSON questionnaire into plain data, with the line of every key.

Lines are kept so that every message can say where to look; everything YAML could do beyond
plain data (aliases, tags, merges, duplicate keys) is refused with its line.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from drafting.errors import Issue, QuestionnaireError
from drafting.intake.model import Path_, dotted

_STANDARD_TAGS = {
    "tag:yaml.org,2002:" + t
    for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
}


def _fail(source: str, message: str, line: int | None = None) -> QuestionnaireError:
    return QuestionnaireError(source, [Issue("", message, line)])


def decode(raw: bytes, source: str) -> tuple[Any, dict[Path_, int]]:
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


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
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
        problems.append(Issue(dotted(path), "les références YAML (&ancre, *alias) ne sont pas admises : "
                                           "recopiez la valeur", line))
        return
    seen.add(id(node))
    if node.tag not in _STANDARD_TAGS:
        problems.append(Issue(dotted(path), f"étiquette YAML « {node.tag} » non admise : "
                                           "retirez-la, seules les valeurs simples sont acceptées", line))
        return
    if isinstance(node, yaml.MappingNode):
        keys: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                problems.append(Issue(dotted(path), "clé invalide : une clé est un mot (par exemple « objet »), "
                                                  "pas un nombre, une liste ni une valeur vide", key_node.start_mark.line + 1))
                continue
            if key_node.tag == "tag:yaml.org,2002:merge" or key == "<<":
                problems.append(Issue(dotted(path), "la fusion YAML « << » n'est pas admise", key_node.start_mark.line + 1))
                continue
            if key in keys:
                problems.append(Issue(dotted(path + (key,)), "clé en double : gardez-en une seule",
                                      key_node.start_mark.line + 1))
            keys.add(key)
            lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, path + (key,), lines, problems, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), lines, problems, seen)


MAX_BYTES = 2_000_000


STDIN = "-"


STDIN_NAME = "entrée standard"
