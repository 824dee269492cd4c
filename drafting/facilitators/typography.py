"""French typography of the fragments: the spaces before « : ; ! ? » and inside « », checked and fixed.

Only the text is touched: Jinja tags, URLs, times and table rules are left as they are, so
``library check --corriger`` never changes what a fragment means.
"""

from __future__ import annotations

import re
from pathlib import Path

from drafting.common.formatting import NBSP, NNBSP
from drafting.facilitators.problems import AVERTISSEMENT, ERREUR, INFO, Problem, where
from drafting.library import (
    Fragment,
)


def text_segments(line: str) -> list[tuple[int, str]]:
    """(column, text) of the parts of a line outside Jinja tags."""
    out, start = [], 0
    for match in JINJA_TAG.finditer(line):
        out.append((start, line[start:match.start()]))
        start = match.end()
    out.append((start, line[start:]))
    return out


def typography_issues(line: str) -> list[str]:
    """French typography faults of one line of fragment text (Jinja tags left out)."""
    if re.fullmatch(r"\s*\|?[\s|:-]*", line) or "://" in line:
        return []
    faults = []
    for _, text in text_segments(line):
        for match in re.finditer(r"(.?)([;?!]|:(?=\s|$))", text):
            before, mark = match.group(1), match.group(2)
            if before in (NBSP, NNBSP) or (before == "" and match.start() == 0 and mark == ":"):
                continue
            if before in ("?", "!", ";", ":", "(", "[") or (mark == ":" and before.isdigit()):
                continue
            kind = "espace ordinaire" if before == " " else "espace manquante"
            wanted = "espace insécable" if mark == ":" else "espace fine insécable"
            faults.append(f"{kind} avant « {mark} » : mettez une {wanted}")
        for match in re.finditer(r"«(.?)", text):
            if match.group(1) not in (NBSP, NNBSP):
                faults.append("après « « », mettez une espace insécable")
        for match in re.finditer(r"(.?)»", text):
            if match.group(1) not in (NBSP, NNBSP):
                faults.append("avant « » », mettez une espace insécable")
    return faults


def check_typography(fragment: Fragment) -> list[Problem]:
    out = []
    lines = fragment.body.split("\n")
    for number, line in enumerate(lines, start=1):
        following = lines[number:number + 2]
        if (line.rstrip().endswith("%}") and "".join(t for _, t in text_segments(line)).strip()
                and len(following) == 2 and not following[0].strip() and following[1].strip()):
            out.append(Problem(AVERTISSEMENT, "balisage", where(fragment, number),
                               "la fin de ligne qui suit « %} » est supprimée au rendu : ce paragraphe se joint au "
                               "suivant ; ajoutez une seconde ligne vide après lui"))
        for fault in dict.fromkeys(typography_issues(line)):
            out.append(Problem(ERREUR, "typographie", where(fragment, number),
                               f"{fault} (« clausier library check --corriger » le fait pour vous)"))
    return out


def fix_typography_line(line: str) -> str:
    if re.fullmatch(r"\s*\|?[\s|:-]*", line) or "://" in line:
        return line
    parts, start = [], 0
    for match in JINJA_TAG.finditer(line):
        parts.append(_fix_text(line[start:match.start()]))
        parts.append(match.group(0))
        start = match.end()
    parts.append(_fix_text(line[start:]))
    return "".join(parts)


def _fix_text(text: str) -> str:
    text = re.sub(r"(?<=[^\s\u00a0\u202f?!;:(\[]) ?([;?!])", NNBSP + r"\1", text)
    text = re.sub(r" ([;?!])", NNBSP + r"\1", text)
    text = re.sub(r"(?<=[^\s\u00a0\u202f\d?!;:(\[]) ?:(?=\s|$)", NBSP + ":", text)
    text = re.sub(r" :(?=\s|$)", NBSP + ":", text)
    text = re.sub(r"« ?(?![\u00a0\u202f])", "«" + NBSP, text)
    text = re.sub(r"(?<![\u00a0\u202f]) ?»", NBSP + "»", text)
    return text


def fix_typography_in(root: Path) -> list[Problem]:
    """Rewrite fragment bodies with French spaces; the front matter is left as written."""
    out = []
    for path in sorted((Path(root) / "fragments").glob("*/*.txt")):
        try:  # bytes, not text mode: the file keeps its own line endings and hash when nothing changes
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue  # reported by the check itself
        end = text.find("\n---\n", 4)
        if not text.startswith("---\n") or end < 0:
            continue
        head, body = text[:end + 5], text[end + 5:]
        fixed = "\n".join(fix_typography_line(line) for line in body.split("\n"))
        if fixed != body:
            path.write_bytes((head + fixed).encode("utf-8"))
            count = sum(1 for a, b in zip(body.split("\n"), fixed.split("\n")) if a != b)
            out.append(Problem(INFO, "typographie", str(path), f"typographie corrigée sur {count} ligne(s)"))
    return out


JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")
