"""Questionnaire paths (``lots[0].montant_estime_ht``): reading and writing a questionnaire dict by path.

The same paths the engine reports its issues with, so a form field named by its path
gets exactly its own messages.
"""

from __future__ import annotations

import re
from typing import Any, Union

Part = Union[str, int]
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse(path: str) -> list[Part]:
    parts: list[Part] = []
    for name, index in _PART.findall(path):
        parts.append(int(index) if index else name)
    return parts


def fmt(parts: list[Part]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
    return out


_MISSING = object()


def get(data: Any, path: str, default: Any = None) -> Any:
    node = data
    for part in parse(path):
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                return default
            node = node[part]
        else:
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
    return node


def put(data: dict, path: str, value: Any) -> None:
    """Set a value (None removes it); missing dicts on the way are created."""
    parts = parse(path)
    node: Any = data
    for part, following in zip(parts, parts[1:], strict=False):
        if isinstance(part, int):
            node = node[part]
        else:
            if not isinstance(node.get(part), (dict, list)):
                if value is None:
                    return
                node[part] = [] if isinstance(following, int) else {}
            node = node[part]
    last = parts[-1]
    if value is None:
        if isinstance(node, dict):
            node.pop(last, None)
    else:
        node[last] = value


def prune(node: Any, keep: tuple[str, ...] = ()) -> None:
    """Sections left without answers disappear, as if the buyer had not written them (``keep``: top-level
    sections kept even empty, so the engine names each of their missing fields)."""
    if isinstance(node, dict):
        for key in [k for k, v in node.items() if isinstance(v, (dict, list))]:
            prune(node[key])
            if isinstance(node[key], dict) and not node[key] and key not in keep:
                del node[key]
    elif isinstance(node, list):
        for item in node:
            prune(item)


def concerns(issue_path: str, path: str) -> bool:
    """An issue at ``path`` or inside it (``objectifs.themes[1]`` concerns ``objectifs.themes``)."""
    return issue_path == path or issue_path.startswith(path + ".") or issue_path.startswith(path + "[")


def html_id(path: str) -> str:
    """A plain id for a path: ``lots[0].montant_estime_ht`` -> ``q-lots-0-montant_estime_ht``."""
    return "q-" + re.sub(r"[^A-Za-z0-9_]+", "-", path).strip("-")
