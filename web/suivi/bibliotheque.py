"""The library desk (facilitators): the clause library in service, browsed, previewed, compared, checked, released.

The library stays files under version control: the folder ``clausier library init`` creates, named by
``CLAUSIER_LIBRARY`` when the server starts. Fragments are edited there, with the facilitators' own tools; this
desk reads that folder through the engine (``library list/show/diff/check/preview/impact``) and releases it with
the very function ``clausier library release`` calls, so a release made here equals one made on the command line.
The library bundled with clausier is shown read-only: releasing it would change the installed program.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import resources
from pathlib import Path
from typing import Any, Optional

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods

from drafting import api

from .. import acces, blobs, moteur
from ..marches.apercu import blocks_html
from .models import MarcheSuivi

PIECES = {"ccap": "CCAP", "rc": "RC", "ae": "Annexe à l'AE"}
STATUTS = {"publie": "publié", "brouillon": "brouillon", "retire": "retiré", "obsolete": "obsolète"}


def _root() -> Path:
    return moteur.ENGINE.library_root().resolve()


def bundled() -> bool:
    return _root() == Path(str(resources.files("clause_library"))).resolve()


def writable_reason() -> Optional[str]:
    """Why a release cannot be made from here (None: it can)."""
    if bundled() or not os.environ.get("CLAUSIER_LIBRARY"):
        return ("la bibliothèque en service est celle livrée avec clausier : créez la vôtre avec « clausier library init "
                "DOSSIER », mettez-la sous gestion de versions, puis relancez le serveur avec CLAUSIER_LIBRARY=DOSSIER")
    if not os.access(_root(), os.W_OK):
        return f"le dossier {_root()} n'est pas modifiable par le serveur"
    return None


def _desk(request: HttpRequest) -> None:
    acces.require_desk(request)


def _fragment(fragment_id: str):
    library = moteur.library()
    if fragment_id not in library.fragments:
        raise Http404("fragment inconnu")
    return library, library.fragments[fragment_id]


@require_GET
def accueil(request: HttpRequest) -> HttpResponse:
    _desk(request)
    library = moteur.library()
    changes = api.pending_changes(library)
    changed = {c.name: c for c in changes}
    labels = api.type_labels()
    groups: dict[str, list[Any]] = {}
    for fragment in sorted(library.fragments.values(), key=lambda f: (f.type == "commun", f.type, f.ordre, f.id)):
        groups.setdefault(fragment.type, []).append({"f": fragment, "piece": PIECES.get(fragment.piece, fragment.piece),
                                                     "changement": changed.get(fragment.id)})
    types = [(kind, labels.get(kind, "Fragments communs" if kind == "commun" else kind), rows) for kind, rows in groups.items()]
    kind = request.GET.get("type", "")
    piece = request.GET.get("piece", "")
    if kind:
        types = [t for t in types if t[0] == kind]
    if piece:
        types = [(k, label, [r for r in rows if r["f"].piece == piece]) for k, label, rows in types]
        types = [t for t in types if t[2]]
    return render(request, "bibliotheque/accueil.html", {
        "bibliotheque": library, "dossier": _root(), "livree": bundled(), "changements": changes, "groupes": types,
        "types": [(k, labels.get(k, "Fragments communs" if k == "commun" else k)) for k in groups],
        "pieces": sorted({f.piece for f in library.fragments.values()}), "type_choisi": kind, "piece_choisie": piece,
        "versions": list(reversed(moteur.versions())), "statuts": STATUTS,
        "changelog": [e for e in library.changelog if isinstance(e, dict)][:8]})


def _samples(request: HttpRequest) -> list[tuple[str, str]]:
    """Questionnaires to preview a fragment on: the library's own test markets, then markets of the portfolio."""
    root = _root()
    out = [(f"essai:{p.name}", f"Essai de la bibliothèque : {p.stem}") for p in sorted((root / "essais").glob("*.yaml"))]
    followed = (request.portee.filtre(MarcheSuivi.objects.exclude(questionnaire_sha256="")).order_by("-modifie_le")[:30])
    for suivi in followed:
        if blobs.path_of(suivi.questionnaire_sha256).is_file():
            out.append((f"suivi:{suivi.pk}", f"Marché suivi : {suivi.reference} — {suivi.objet[:60]}"))
    return out


def _loaded(request: HttpRequest, key: str, library):
    if key.startswith("essai:"):
        path = _root() / "essais" / Path(key[6:]).name
        if not path.is_file():
            raise Http404("essai inconnu")
        return moteur.ENGINE.read_questionnaire(path.read_bytes(), library, path.name)
    if key.startswith("suivi:"):
        try:
            pk = int(key[6:])
        except ValueError:
            raise Http404("marché inconnu") from None
        suivi = request.portee.filtre(MarcheSuivi.objects.all()).filter(pk=pk).first()
        if suivi is None or not suivi.questionnaire_sha256:
            raise Http404("marché inconnu")
        name = suivi.marche.questionnaire_nom if suivi.marche and suivi.marche.questionnaire_nom else f"{suivi.reference}.yaml"
        return moteur.ENGINE.read_questionnaire(blobs.get(suivi.questionnaire_sha256), library, name)
    raise Http404("questionnaire inconnu")


@require_GET
def fragment(request: HttpRequest, type: str, piece: str) -> HttpResponse:
    _desk(request)
    fragment_id = f"{type}/{piece}"
    library, item = _fragment(fragment_id)
    label, text, versions = api.fragment_text(library.root, fragment_id)
    samples = _samples(request)
    sample = request.GET.get("essai") or (samples[0][0] if samples else "")
    context: dict[str, Any] = {"f": item, "texte": text, "statuts": STATUTS, "versions": versions, "essais": samples, "essai": sample,
                               "libelle": api.type_labels().get(item.type, "Fragment commun"),
                               "piece": PIECES.get(item.piece, item.piece),
                               "changement": next((c for c in api.pending_changes(library) if c.name == fragment_id), None)}
    de, a = request.GET.get("de", ""), request.GET.get("a", "")
    if "de" in request.GET:
        try:
            context["diff"] = _diff_lines(api.fragment_diff(library.root, fragment_id, tuple(v for v in (de, a) if v)))
        except api.ClausierError as exc:
            context["diff_erreur"] = exc.message
        context["de"], context["a"] = de, a
    if sample and request.GET.get("apercu") is not None:
        try:
            title, subtitle, blocks = api.preview_fragment_blocks(_loaded(request, sample, library), library, fragment_id)
            # every text of the blocks is escaped by blocks_html: what it returns is markup
            context["apercu"] = {"titre": title, "sous_titre": subtitle, "html": mark_safe(blocks_html(blocks))}  # noqa: S308
        except api.ClausierError as exc:
            context["apercu_erreur"] = exc.message
    return render(request, "bibliotheque/fragment.html", context)


def _diff_lines(text: str) -> list[tuple[str, str]]:
    kinds = []
    for line in text.splitlines():
        if line.startswith(("+++", "---")):
            kind = "fichier"
        elif line.startswith("@@"):
            kind = "position"
        elif line.startswith("+"):
            kind = "ajout"
        elif line.startswith("-"):
            kind = "retrait"
        elif line.startswith("~"):
            kind = "mots"
        else:
            kind = "contexte"
        kinds.append((kind, line))
    return kinds


@require_GET
def apercu_docx(request: HttpRequest, type: str, piece: str) -> HttpResponse:
    """The Word preview, the very file ``clausier library preview`` writes."""
    _desk(request)
    fragment_id = f"{type}/{piece}"
    library, _ = _fragment(fragment_id)
    name, data = api.preview_fragment(_loaded(request, request.GET.get("essai", ""), library), library, fragment_id)
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    response["Content-Disposition"] = content_disposition_header(True, name)
    return response


@require_GET
def verification(request: HttpRequest) -> HttpResponse:
    _desk(request)
    problems, counts = api.check_library(_root())
    order = {"erreur": 0, "avertissement": 1, "info": 2}
    return render(request, "bibliotheque/verification.html", {
        "problemes": sorted(problems, key=lambda p: (order.get(p.severity, 3), p.where)), "comptes": counts,
        "dossier": _root()})


def impacted_markets(request: HttpRequest) -> tuple[Optional[str], list[dict[str, Any]], int]:
    """Markets of the portfolio whose DCE would change with the pending changes (the library in service against its
    last release): (last release, markets touched with what touches them, markets read)."""
    library = moteur.library()
    released = moteur.versions()
    since = released[-1] if released else None
    markets = list(request.portee.filtre(MarcheSuivi.objects.select_related("organisation")).order_by("reference"))
    touched = []
    cache: dict[str, tuple[list[str], list[str]]] = {}
    for suivi in markets:
        if suivi.manifeste_sha256 not in cache:
            manifest = json.loads(blobs.get(suivi.manifeste_sha256))
            cache[suivi.manifeste_sha256] = moteur.ENGINE.impact(manifest, library, since)
        fragments, data = cache[suivi.manifeste_sha256]
        if fragments or data:
            touched.append({"suivi": suivi, "fragments": fragments, "donnees": data})
    return since, touched, len(markets)


@require_GET
def impact(request: HttpRequest) -> HttpResponse:
    _desk(request)
    changes = api.pending_changes(moteur.library())
    since, touched, read = impacted_markets(request) if changes else (None, [], 0)
    return render(request, "bibliotheque/impact.html", {"changements": changes, "depuis": since, "touches": touched,
                                                          "lus": read})


@require_http_methods(["GET", "POST"])
def publier(request: HttpRequest) -> HttpResponse:
    _desk(request)
    library = moteur.library()
    changes = api.pending_changes(library)
    reason = writable_reason()
    context: dict[str, Any] = {"changements": changes, "impossible": reason, "bibliotheque": library,
                               "message": request.POST.get("message", ""), "version": request.POST.get("version", ""),
                               "dossier": _root()}
    if request.method == "GET":
        return render(request, "bibliotheque/publier.html", context)
    if reason:
        return render(request, "bibliotheque/publier.html", {**context, "erreurs": {"message": reason}}, status=409)
    message = " ".join(context["message"].split())
    if not message:
        return render(request, "bibliotheque/publier.html",
                      {**context, "erreurs": {"message": "Résumez la version pour le journal des versions (changelog)."}},
                      status=422)
    try:
        version, released = api.release_library(_root(), message, context["version"].strip() or None)
    except api.ClausierError as exc:
        return render(request, "bibliotheque/publier.html", {**context, "erreurs": {"version": exc.message}}, status=422)
    acces.journal(request, "bibliotheque_publiee", organisation=None, version=version, message=message,
                  changements=[str(c) for c in released],
                  verrou=hashlib.sha256((_root() / "bibliotheque.lock").read_bytes()).hexdigest())
    messages.success(request, f"Bibliothèque publiée en version {version} ({len(released)} changement"
                              f"{'s' if len(released) > 1 else ''}).")
    return redirect("bibliotheque:accueil")
