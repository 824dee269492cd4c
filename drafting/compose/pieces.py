"""Composition: the plan's retained clauses become pieces made of library fragments.

Numbering is done here, not in the fragments, so the same wording slots into any
CCAP ("Article 7", "7.1", …) and facilitators never renumber by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from drafting.compose.markup import Block, BulletItem, Heading, Paragraph, Run, Table, escape, parse_blocks, placeholder, plain
from drafting.compose.render import render_fragment
from drafting.decide.plan import TYPE_LABELS, ACompleter, LotPlan, Plan
from drafting.library import CONSIDERATION_TYPES, Fragment, Library, drafted_fragments, included_ids

BASE_VARIABLES = ("acheteur", "marche", "facilitateur", "parametres", "publics", "modalites", "lots", "heures_total",
                  "types_retenus", "clause", "commun", "ccag", "criteres")
# Shared blocks given in full once per piece; later articles refer to the first (``commun`` in the context).
SHARED_BLOCKS = ("commun/facilitateur", "commun/publics", "commun/derogation_ccag")
PIECES = {
    # kind: (file stem, title, numbered articles)
    "ccap": ("CCAP_clauses-sociales", "Cahier des clauses administratives particulières", True),
    "rc": ("RC_clauses-sociales", "Règlement de la consultation", True),
    "ae": ("AE_annexe-engagements-sociaux", "Acte d'engagement — annexe", False),
}


@dataclass
class Piece:
    kind: str
    filename: str
    title: str
    subtitle: str
    blocks: list[Block]
    toc: bool = False  # standalone pieces of several articles open on a table of contents
    preamble: list[Block] = field(default_factory=list)  # before the table of contents (the note's first page)


@dataclass
class Composition:
    pieces: list[Piece]
    fragments: list[Fragment] = field(default_factory=list)
    penalite_horaire: float = 0.0
    derogations: str = ""  # the sentence for the CCAP's last article listing the derogations to the CCAG
    a_completer: list[ACompleter] = field(default_factory=list)


DEROGATION = "commun/derogation_ccag"


def compose(plan: Plan, library: Library, premier_article: int = 1) -> Composition:
    """The CCAP, RC and AE annex articles and the annex sheets of a market, from its plan and the library."""
    base = base_context(plan)
    reference = base["marche"]["reference"]
    used: list[Fragment] = []
    pieces = []
    derogations = ""
    for kind, (stem, title, numbered) in PIECES.items():
        blocks: list[Block] = []
        shared: dict[str, int] = {}  # shared block -> article of this piece that first gave it
        derogating: list[int] = []   # articles whose penalties derogate to the CCAG
        for type_, fragments in drafted_fragments(library, plan.terms["types_rediges"], kind):
            lots = plan.lots_with(type_) if type_ in CONSIDERATION_TYPES else plan.lots_with("insertion")
            if not fragments and kind == "ccap":
                blocks += _missing_wording(type_, lots)
            for fragment in fragments:
                article = premier_article + sum(1 for b in blocks if isinstance(b, Heading) and b.level == 1)
                includes = [i for i in included_ids(fragment, library.fragments) if i in library.fragments]
                context = fragment_context(base, type_, plan, article, shared)
                blocks += parse_blocks(render_fragment(fragment, context, library))
                used.append(fragment)
                used += [library.fragments[i] for i in includes]
                for name in includes:
                    shared.setdefault(name, article)
                if DEROGATION in includes:
                    derogating.append(article)
        if blocks:
            if numbered:
                number_blocks(blocks, premier_article)
            articles = sum(1 for b in blocks if isinstance(b, Heading) and b.level == 1)
            pieces.append(Piece(kind, f"{reference}_{stem}.docx", title, plan.terms["sous_titre"], blocks,
                                toc=numbered and (kind == "ccap" or articles > 1)))
            if kind == "ccap" and derogating:
                derogations = derogation_summary(base["ccag"], penalty_subarticles(blocks, derogating))
    pieces += _annexes(plan, base, library, used)
    pending = zones_to_complete(pieces)
    if derogations:
        pending.append(ACompleter("CCAP de l’acheteur", "dernier article (liste récapitulative des dérogations au CCAG)",
                                  f"y reporter : « {derogations} »"))
    return Composition(pieces, used, base["parametres"]["penalite_horaire"], derogations, pending)


BUYER_ZONE = "À compléter"  # « [[À compléter : …]] » is the buyer's; « [[À remplir par le candidat : …]] » the candidate's


def zones_to_complete(pieces: list[Piece]) -> list[ACompleter]:
    """Every zone the buyer must still fill before publication, with the piece and the (sub-)article it sits in."""
    out: list[ACompleter] = []
    for piece in pieces:
        where = [piece.title, ""]
        for block in piece.blocks:
            if isinstance(block, Heading) and block.level <= 2:
                label = f"{block.number} {plain(block.runs)}".strip()
                where = [label, ""] if block.level == 1 else [where[0], label]
            for run in _runs(block):
                if run.placeholder and run.text.startswith(BUYER_ZONE):
                    label = run.text.split(":", 1)[1].strip() if ":" in run.text else run.text
                    out.append(ACompleter(piece.filename, " / ".join(w for w in where if w), label))
    return list(dict.fromkeys(out))


def _runs(block: Block) -> list[Run]:
    if isinstance(block, Table):
        return [run for row in block.rows for cell in row for run in cell]
    return list(block.runs)


def penalty_subarticles(blocks: list[Block], articles: list[int]) -> list[str]:
    """The numbers of the « Pénalités » sub-articles of these articles (the article itself when it has none)."""
    found: dict[int, str] = {}
    current = None
    for block in blocks:
        if isinstance(block, Heading) and block.level == 1:
            current = int(block.number.split()[1]) if block.number.startswith("Article ") else None
        elif (isinstance(block, Heading) and block.level == 2 and current in articles
              and plain(block.runs).strip().lower().startswith("pénalités")):
            found.setdefault(current, block.number)
    return [found.get(article, str(article)) for article in articles]


def derogation_summary(ccag: dict[str, Any], where: list[str]) -> str:
    """The sentence the buyer pastes into the CCAP's last article, which the CCAG (art. 1.2) wants listing every derogation."""
    if not ccag.get("derogation") or not where:
        return ""
    ours = (f"l’article {where[0]}" if len(where) == 1
            else "les articles " + ", ".join(where[:-1]) + f" et {where[-1]}")
    verb = "déroge" if len(where) == 1 else "dérogent"
    pronoun = "qu’il prévoit" if len(where) == 1 else "qu’ils prévoient"
    return (f"Clauses sociales : {ours} du présent cahier {verb} {ccag['derogation']} : les pénalités {pronoun} ne "
            "sont pas plafonnées, ne sont pas prises en compte pour l’application du plafond et sont dues quel que "
            "soit leur montant.")


FACILITATOR_ZONES = {"structure": "structure du facilitateur", "contact": "nom du facilitateur",
                     "courriel": "courriel du facilitateur", "telephone": "téléphone du facilitateur"}


def base_context(plan: Plan) -> dict[str, Any]:
    """What every fragment sees (FORMAT.md): the plan's terms, with a zone to complete for each missing contact field."""
    terms = plan.terms
    facilitateur = {"present": terms["facilitateur"]["present"],
                    **{key: terms["facilitateur"][key] or placeholder(label) for key, label in FACILITATOR_ZONES.items()}}
    return {**{key: terms[key] for key in ("acheteur", "marche", "parametres", "publics", "modalites", "types_retenus",
                                           "ccag", "criteres")},
            "facilitateur": facilitateur}


def _annexes(plan: Plan, base: dict[str, Any], library: Library, used: list[Fragment]) -> list[Piece]:
    """Information sheets handed to candidates: one document per annex fragment whose types are retained."""
    pieces = []
    for fragment in library.annexes_for(base["types_retenus"]):
        context = {**base, "lots": [], "heures_total": 0, "clause": {"type": "commun", "article": 0},
                   "commun": {name.split("/", 1)[1]: None for name in SHARED_BLOCKS}}
        blocks = parse_blocks(render_fragment(fragment, context, library))
        stem = fragment.fichier or fragment.id.replace("/", "_")
        pieces.append(Piece("annexe", f"{base['marche']['reference']}_{stem}.docx", fragment.titre or "Annexe",
                            plan.terms["sous_titre"], blocks))
        used.append(fragment)
    return pieces


def fragment_context(base: dict[str, Any], type_: str, plan: Plan, article: int = 1,
                     shared: Optional[dict[str, int]] = None) -> dict[str, Any]:
    """Everything a fragment of ``type_`` sees (FORMAT.md lists it): market, lots, and where shared blocks were given."""
    shared = shared or {}
    return {**base, **plan.terms["clauses"][type_], "clause": {"type": type_, "article": article},
            "commun": {name.split("/", 1)[1]: shared.get(name) for name in SHARED_BLOCKS}}


def _missing_wording(type_: str, lots: list[LotPlan]) -> list[Block]:
    numbers = ", ".join(str(lot.numero) for lot in lots)
    return [
        Heading(1, [Run(TYPE_LABELS[type_])]),
        Paragraph([Run(f"Clause retenue pour le(s) lot(s) n° {numbers}. ")] + [
            Run("À compléter : la bibliothèque de clauses ne fournit pas encore cette rédaction ; "
                "rédigez-la avec le facilitateur (contenu, indicateurs, pénalités).", placeholder=True)]),
    ]


def number_blocks(blocks: list[Block], first: int) -> None:
    article, sub = first - 1, 0
    for block in blocks:
        if isinstance(block, Heading) and block.level == 1:
            article, sub = article + 1, 0
            block.number = f"Article {article} –"
        elif isinstance(block, Heading) and block.level == 2 and article >= first:
            sub += 1
            block.number = f"{article}.{sub}"



def piece_text(piece: Piece) -> str:
    """Plain text of a piece (tests, previews): headings with their numbers."""
    out = []
    for block in piece.blocks:
        if isinstance(block, Heading):
            out.append(f"{block.number} {plain(block.runs)}".strip())
        elif isinstance(block, Paragraph):
            out.append(plain(block.runs))
        elif isinstance(block, BulletItem):
            out.append("• " + plain(block.runs))
        elif isinstance(block, Table):
            out += [" | ".join(plain(c) for c in row) for row in block.rows]
    return "\n".join(out)


__all__ = ["Piece", "Composition", "compose", "piece_text", "escape"]
