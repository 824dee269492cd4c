"""``library preview``: one fragment rendered into Word, the way a buyer will see it.

Facilitators review wording in Word, not in Jinja; the fragment's type is
imposed on every lot of the questionnaire so any questionnaire can serve.
"""

from __future__ import annotations

from pathlib import Path

from drafting.common.files import write_atomic
from drafting.compose.markup import Block, parse_blocks
from drafting.compose.pieces import Piece, base_context, fragment_context, number_blocks
from drafting.compose.render import render_fragment
from drafting.decide.policy import build_plan
from drafting.errors import LibraryError, OutputError
from drafting.facilitators.check import force_type
from drafting.intake.model import Questionnaire
from drafting.library import CONSIDERATION_TYPES, Library
from drafting.ooxml.docx import build_docx


def preview_blocks(q: Questionnaire, library: Library, fragment_id: str) -> tuple[str, str, list[Block]]:
    """(title, subtitle, blocks) of one fragment rendered on a questionnaire whose every lot carries its type:
    what ``library preview`` writes to Word and the web's library desk shows as HTML."""
    fragment = library.fragment(fragment_id)
    kind = fragment.type if fragment.type in CONSIDERATION_TYPES else "insertion"
    q = force_type(q, kind)
    plan = build_plan(q, library)
    if not plan.lots_with(kind):
        raise LibraryError(f"aucun lot du questionnaire ne peut porter le type {kind} : choisissez un autre questionnaire")
    blocks = parse_blocks(render_fragment(fragment, fragment_context(base_context(plan), kind, plan), library))
    number_blocks(blocks, 1)
    return (f"Aperçu du fragment {fragment.id}, version {fragment.version} ({fragment.statut})",
            f"Bibliothèque {library.version} — questionnaire {q.marche.reference}", blocks)


def preview_fragment(q: Questionnaire, library: Library, fragment_id: str) -> tuple[str, bytes]:
    """(file name, Word bytes) of one fragment's preview (``library preview``)."""
    fragment = library.fragment(fragment_id)
    title, subtitle, blocks = preview_blocks(q, library, fragment_id)
    piece = Piece("apercu", "", title, subtitle, blocks)
    name = f"apercu_{fragment.id.replace('/', '_')}_{fragment.version}.docx"
    return name, build_docx(piece, q.acheteur.nom, q.marche.reference, library.version, library.date)


def write_preview(out_dir: Path, name: str, data: bytes) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"impossible de créer le dossier {out_dir} ({exc.strerror})") from None
    return write_atomic(out_dir / name, data, noun="aperçu")
