"""``library preview``: one fragment rendered into Word, the way a buyer will see it.

Facilitators review wording in Word, not in Jinja; the fragment's type is
imposed on every lot of the questionnaire so any questionnaire can serve.
"""

from __future__ import annotations

from pathlib import Path

from drafting.common.files import write_atomic
from drafting.compose.markup import parse_blocks
from drafting.compose.pieces import Piece, base_context, fragment_context, number_blocks
from drafting.compose.render import render_fragment
from drafting.decide.policy import build_plan
from drafting.errors import LibraryError, OutputError
from drafting.facilitators.check import force_type
from drafting.intake.model import Questionnaire
from drafting.library import CONSIDERATION_TYPES, Library
from drafting.ooxml.docx import build_docx


def preview_fragment(q: Questionnaire, library: Library, fragment_id: str) -> tuple[str, bytes]:
    fragment = library.fragment(fragment_id)
    types = [fragment.type] if fragment.type in CONSIDERATION_TYPES else ["insertion"]
    q = force_type(q, types[0])
    plan = build_plan(q, library)
    lots = plan.lots_with(types[0])
    if not lots:
        raise LibraryError(f"aucun lot du questionnaire ne peut porter le type {types[0]} : choisissez un autre questionnaire")
    context = fragment_context(base_context(plan), types[0], plan)
    blocks = parse_blocks(render_fragment(fragment, context, library))
    number_blocks(blocks, 1)
    title = f"Aperçu du fragment {fragment.id}, version {fragment.version} ({fragment.statut})"
    piece = Piece("apercu", "", title, f"Bibliothèque {library.version} — questionnaire {q.marche.reference}", blocks)
    name = f"apercu_{fragment.id.replace('/', '_')}_{fragment.version}.docx"
    return name, build_docx(piece, q.acheteur.nom, q.marche.reference, library.version, library.date)


def write_preview(out_dir: Path, name: str, data: bytes) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"impossible de créer le dossier {out_dir} ({exc.strerror})") from None
    return write_atomic(out_dir / name, data, noun="aperçu")
