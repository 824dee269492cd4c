"""A buyer's own CCAP, written with python-docx as a buyer's Word would, for --ccap-modele."""

from __future__ import annotations

from pathlib import Path

import docx


def buyer_ccap(path: Path, placeholders: tuple[str, ...] = ("[[CLAUSES SOCIALES]]",)) -> Path:
    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "CCAP — Ville modèle"
    document.add_heading("Article 1 – Objet", 1)
    document.add_paragraph("Objet du marché.")
    for placeholder in placeholders:
        document.add_paragraph(placeholder)
    document.add_heading("Article 9 – Dérogations au CCAG", 1)
    document.save(str(path))
    return path
