"""The buyer's pages: home, import, interview, plan, pieces, generations, library releases.

Each view reads the organisation's own market (404 for any other), calls the engine
through ``web.moteur`` (``drafting.api``), and renders French templates. Every page
works without JavaScript; with htmx, answers are checked as they are typed and the
plan changes in place.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any, Optional

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from drafting import api

from .. import acces, blobs, moteur
from ..suivi import portefeuille
from . import apercu, chemins, entretien, pdf, plan_vue, saisie
from .models import Generation, Marche

YAML_TYPES = (".yaml", ".yml")
IMPORT_TYPES = (".yaml", ".yml", ".json", ".xlsx", ".xlsm")


# ----------------------------------------------------------------------------- helpers


def _marche(request: HttpRequest, pk: int) -> Marche:
    """The market if this account sees it (404 otherwise, as for one that does not exist); a change (POST)
    needs the right to edit it: a facilitator reads the buyer's markets, the buyer writes them (403)."""
    marche = get_object_or_404(request.portee.filtre(Marche.objects.select_related("organisation")), pk=pk)
    if not request.portee.modifie(marche.organisation_id):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied("lecture seule")
        request.lecture_seule = True  # the pages hide what only the buyer may do
    return marche


def _own_organisation(request: HttpRequest):
    """Where a new market goes: the account's own buyer organisation (a facilitator has none: 403)."""
    if request.organisation is None:
        raise PermissionDenied("réservé aux acheteurs")
    return request.organisation


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _check(data: dict[str, Any]) -> tuple[Any, list[api.Issue]]:
    return moteur.ENGINE.check_answers(copy.deepcopy(data), moteur.library())


def save_answers(marche: Marche, data: dict[str, Any]) -> list[api.Issue]:
    """Record the answers, valid or not.

    From now on the pieces come from the YAML of these answers (an imported file, kept as it
    was, no longer applies); that YAML is stored with each DCE generated from it.
    """
    model, issues = _check(data)
    marche.donnees = data
    section = data.get("marche") if isinstance(data.get("marche"), dict) else {}
    marche.reference = str(section.get("reference") or "")[:64]
    marche.objet = str(section.get("objet") or "")[:500]
    marche.valide = model is not None and not issues
    marche.questionnaire_sha256 = ""
    marche.questionnaire_nom = f"{model.marche.reference}.yaml" if marche.valide else ""
    marche.save()
    return issues


def _questionnaire(marche: Marche) -> tuple[bytes, str]:
    """The questionnaire file the pieces come from: the imported file as it was, or the YAML of the answers."""
    if not marche.valide:
        raise Http404("questionnaire incomplet")
    if marche.questionnaire_sha256:
        return blobs.get(marche.questionnaire_sha256), marche.questionnaire_nom
    return api.questionnaire_yaml(marche.donnees).encode("utf-8"), marche.questionnaire_nom


def _loaded(marche: Marche, lib: api.Library) -> api.LoadedQuestionnaire:
    raw, name = _questionnaire(marche)
    return moteur.ENGINE.read_questionnaire(raw, lib, name)


def _state(marche: Marche, last_sha: Optional[str]) -> str:
    """Where a market stands; ``last_sha``: the questionnaire of its last generation (None: never generated)."""
    if last_sha is None:
        return "Prêt à générer" if marche.valide else "Brouillon"
    if not marche.valide:
        return "Modifié depuis la génération"
    current = marche.questionnaire_sha256 or hashlib.sha256(_questionnaire(marche)[0]).hexdigest()
    return "Généré" if current == last_sha else "Modifié depuis la génération"


def _last_sha(marche: Marche) -> Optional[str]:
    last = marche.derniere_generation
    return last.questionnaire_sha256 if last else None


def _incomplete(request: HttpRequest, marche: Marche) -> HttpResponse:
    messages.warning(request, "Le questionnaire de ce marché n'est pas encore complet : terminez l'entretien.")
    return redirect("fin", pk=marche.pk)


# ----------------------------------------------------------------------------- home, creation, import


@require_GET
def accueil(request: HttpRequest) -> HttpResponse:
    last = Generation.objects.filter(marche=OuterRef("pk")).order_by("-numero")
    marches = request.portee.filtre(Marche.objects.select_related("organisation")).annotate(
        generations_count=Count("generations"), last_sha=Subquery(last.values("questionnaire_sha256")[:1]))
    rows = [{"marche": m, "etat": _state(m, m.last_sha)} for m in marches]
    several = len({row["marche"].organisation_id for row in rows}) > 1 or request.organisation is None
    return render(request, "marches/accueil.html", {"rows": rows, "plusieurs_acheteurs": several,
                                                     "peut_creer": request.organisation is not None})


@require_POST
def nouveau(request: HttpRequest) -> HttpResponse:
    marche = Marche.objects.create(organisation=_own_organisation(request), createur=request.user,
                                   donnees={"version": 1}, origine=Marche.ENTRETIEN)
    acces.journal(request, "creation", marche)
    return redirect("etape", pk=marche.pk, etape="marche")


@require_http_methods(["GET", "POST"])
def importer(request: HttpRequest) -> HttpResponse:
    _own_organisation(request)
    if request.method == "GET":
        return render(request, "marches/importer.html", {})
    upload = request.FILES.get("questionnaire")
    if upload is None:
        return render(request, "marches/importer.html",
                      {"erreur": "Choisissez un fichier de questionnaire (YAML, JSON ou formulaire Excel)."}, status=422)
    if upload.size > settings.MAX_UPLOAD_BYTES:
        return acces.too_large(request, upload.size)
    name = upload.name or "questionnaire.yaml"
    if len(name) > 200:  # it names the file in the manifest; a database column holds it
        name = name[:100] + "…" + name[-99:]
    if not name.lower().endswith(IMPORT_TYPES):
        return render(request, "marches/importer.html",
                      {"erreur": f"« {name} » n'est pas un questionnaire : un fichier .yaml, .json ou .xlsx est attendu."},
                      status=422)
    raw = upload.read()
    lib = moteur.library()
    try:
        loaded = moteur.ENGINE.read_questionnaire(raw, lib, name)
    except api.QuestionnaireError as exc:
        return render(request, "marches/importer.html", {"fichier": name, "issues": exc.issues, "message": exc.message},
                      status=exc.http_status)
    data = loaded.model.model_dump(mode="json", exclude_unset=True)
    marche = Marche.objects.create(
        organisation=request.organisation, createur=request.user, origine=Marche.IMPORT, donnees=data, valide=True,
        reference=loaded.model.marche.reference, objet=loaded.model.marche.objet[:500],
        questionnaire_sha256=blobs.put(raw), questionnaire_nom=name)
    acces.journal(request, "import", marche, fichier=name, sha256=marche.questionnaire_sha256)
    lots = len(loaded.model.lots)
    messages.success(request, f"Questionnaire « {name} » importé : {lots} lot{'s' if lots > 1 else ''}. Voici le plan.")
    return redirect("plan", pk=marche.pk)


@require_GET
def fiche(request: HttpRequest, pk: int) -> HttpResponse:
    marche = _marche(request, pk)
    generations = list(marche.generations.all())
    _, issues = _check(marche.donnees) if not marche.valide else (None, [])
    return render(request, "marches/fiche.html", {
        "marche": marche, "etat": _state(marche, _last_sha(marche)), "generations": generations, "issues": issues,
        "journal": marche.journal.select_related("utilisateur")[:12]})


@require_GET
def export_yaml(request: HttpRequest, pk: int) -> HttpResponse:
    """The questionnaire as a YAML file at any time, complete or not (a draft can be finished in an editor)."""
    marche = _marche(request, pk)
    if marche.questionnaire_sha256 and marche.questionnaire_nom.lower().endswith(YAML_TYPES):
        body = blobs.get(marche.questionnaire_sha256)  # the imported file as it was, comments included
    else:
        body = api.questionnaire_yaml(marche.donnees).encode("utf-8")
    name = f"{marche.reference}.yaml" if marche.valide else f"brouillon-{marche.pk}.yaml"
    return _download(body, name, "application/yaml; charset=utf-8")


# ----------------------------------------------------------------------------- interview


def _lot_count(marche: Marche) -> int:
    lots = marche.donnees.get("lots")
    return len(lots) if isinstance(lots, list) else 0


def _steps_nav(marche: Marche, current: str, lot: Optional[int]) -> list[dict[str, Any]]:
    """The interview's table of contents: every step, each lot, where the buyer is."""
    url = lambda etape: reverse("etape", kwargs={"pk": marche.pk, "etape": etape})  # noqa: E731
    nav = [{"titre": "Le marché", "url": url("marche"), "courant": current == "marche"}]
    lots = marche.donnees.get("lots") if isinstance(marche.donnees.get("lots"), list) else []
    for index, lot in enumerate(lots):
        title = lot.get("intitule") if isinstance(lot, dict) and lot.get("intitule") else "(sans intitulé)"
        nav.append({"titre": f"Lot {index + 1} — {title}", "url": reverse("lot", kwargs={"pk": marche.pk, "n": index + 1}),
                    "courant": current == "lot" and lot == index, "sous": True})
    if not lots:
        nav.append({"titre": "Lot 1", "url": reverse("lot", kwargs={"pk": marche.pk, "n": 1}),
                    "courant": current == "lot", "sous": True})
    nav += [{"titre": "Les objectifs sociaux", "url": url("objectifs"), "courant": current == "objectifs"},
            {"titre": "Le facilitateur", "url": url("facilitateur"), "courant": current == "facilitateur"},
            {"titre": "Récapitulatif", "url": reverse("fin", kwargs={"pk": marche.pk}), "courant": current == "fin"}]
    return nav


def _next_url(marche: Marche, etape: str, lot: Optional[int], action: str) -> str:
    if action == "ajouter_lot":
        return reverse("lot", kwargs={"pk": marche.pk, "n": _lot_count(marche) + 1})
    if etape == "marche":
        return reverse("lot", kwargs={"pk": marche.pk, "n": 1})
    if etape == "lot":
        if lot is not None and lot + 1 < _lot_count(marche):
            return reverse("lot", kwargs={"pk": marche.pk, "n": lot + 2})
        return reverse("etape", kwargs={"pk": marche.pk, "etape": "objectifs"})
    if etape == "objectifs":
        return reverse("etape", kwargs={"pk": marche.pk, "etape": "facilitateur"})
    return reverse("fin", kwargs={"pk": marche.pk})


def _step_context(marche: Marche, step: entretien.Step, lot: Optional[int], issues: list[api.Issue],
                  show_missing: bool) -> dict[str, Any]:
    ctx = entretien.Context(marche.donnees, moteur.library(), lot)
    fields = entretien.build_fields(step, ctx, issues, show_missing)
    return {"marche": marche, "step": step, "fields": fields, "lot": lot,
            "lot_numero": chemins.get(marche.donnees, f"lots[{lot}].numero") if lot is not None else None,
            "autres": entretien.step_issues(step, ctx, issues, fields) if show_missing else [],
            "resume": [f for f in fields if f.visible and f.issues] if show_missing else [],
            "nav": _steps_nav(marche, step.slug, lot), "lots": _lot_count(marche),
            "secteurs": sorted(moteur.library().sectors.values(), key=lambda s: (s.nature, s.libelle)),
            "action_url": (reverse("lot", kwargs={"pk": marche.pk, "n": lot + 1}) if lot is not None
                           else reverse("etape", kwargs={"pk": marche.pk, "etape": step.slug}))}


def _verified(marche: Marche, key: str) -> bool:
    return key in _ui(marche).get("verifiees", [])


def _ui(marche: Marche) -> dict[str, Any]:
    return marche.entretien if isinstance(marche.entretien, dict) else {}


def _mark_verified(marche: Marche, key: str) -> None:
    ui = _ui(marche)
    done = set(ui.get("verifiees", []))
    if key not in done:
        ui["verifiees"] = sorted(done | {key})
        marche.entretien = ui


@require_http_methods(["GET", "POST"])
def etape(request: HttpRequest, pk: int, etape: str) -> HttpResponse:
    if etape not in ("marche", "objectifs", "facilitateur"):
        raise Http404("étape inconnue")
    return _interview(request, _marche(request, pk), entretien.STEPS[etape], None)


@require_http_methods(["GET", "POST"])
def lot(request: HttpRequest, pk: int, n: int) -> HttpResponse:
    marche = _marche(request, pk)
    count = _lot_count(marche)
    if n < 1 or n > count + 1:
        raise Http404("lot inconnu")
    return _interview(request, marche, entretien.STEPS["lot"], n - 1)


def _ensure_lot(marche: Marche, index: int) -> None:
    data = marche.donnees
    lots = data.get("lots") if isinstance(data.get("lots"), list) else []
    if index == len(lots):
        numbers = [lot.get("numero") for lot in lots if isinstance(lot, dict) and isinstance(lot.get("numero"), int)]
        lots.append({"numero": max(numbers, default=0) + 1})
    data["lots"] = lots


def _visibility(marche: Marche, step: entretien.Step, lot: Optional[int]) -> dict[str, bool]:
    ctx = entretien.Context(marche.donnees, moteur.library(), lot)
    return {f.id: f.visible for f in entretien.build_fields(step, ctx, [], False)}


def _interview(request: HttpRequest, marche: Marche, step: entretien.Step, lot: Optional[int]) -> HttpResponse:
    key = step.slug if lot is None else f"lot-{lot}"
    if request.method == "GET":
        _, issues = _check(marche.donnees)
        context = _step_context(marche, step, lot, issues, _verified(marche, key))
        return render(request, "marches/etape.html", context)
    action = request.POST.get("action", "continuer")
    before = _visibility(marche, step, lot) if lot is None or lot < _lot_count(marche) else {}
    data = copy.deepcopy(marche.donnees)
    marche.donnees = data
    if lot is not None:
        _ensure_lot(marche, lot)
    entretien.apply_post(step, entretien.Context(data, moteur.library(), lot), request.POST)
    live = request.POST.get("verification") == "direct"  # htmx: one answer just changed
    if not live:
        _mark_verified(marche, key)
    issues = save_answers(marche, data)
    context = _step_context(marche, step, lot, issues, show_missing=not live or _verified(marche, key))
    if live and _htmx(request):
        changed = {f.id for f in context["fields"] if before.get(f.id, True) != f.visible}
        for f in context["fields"]:  # keywords turned into a sector, or several sectors to choose from
            if f.question.kind == "secteur" and f.visible and (f.candidates or request.POST.get(f.path, "") != f.shown):
                changed.add(f.id)
        context["changed"] = changed
        return render(request, "marches/etape_verification.html", context)
    own = [f for f in context["fields"] if f.issues] or context["autres"]
    if action == "verifier" or (own and action != "enregistrer"):
        context["focus_resume"] = bool(own)  # the summary of what to fix takes the focus (and a screen reader reads it)
        return render(request, "marches/etape.html", context, status=422 if own else 200)
    if action == "enregistrer":
        messages.success(request, "Brouillon enregistré.")
        return redirect(context["action_url"])
    return redirect(_next_url(marche, step.slug, lot, action))


@require_POST
def lot_supprimer(request: HttpRequest, pk: int, n: int) -> HttpResponse:
    marche = _marche(request, pk)
    data = copy.deepcopy(marche.donnees)
    lots = data.get("lots") if isinstance(data.get("lots"), list) else []
    if not 1 <= n <= len(lots):
        raise Http404("lot inconnu")
    removed = lots.pop(n - 1)
    ui = _ui(marche)
    ui["verifiees"] = [k for k in ui.get("verifiees", []) if not k.startswith("lot-")]
    marche.entretien = ui
    save_answers(marche, data)
    title = removed.get("intitule") if isinstance(removed, dict) else None
    messages.success(request, f"Lot {n}{f' « {title} »' if title else ''} supprimé.")
    if lots:
        return redirect("lot", pk=marche.pk, n=min(n, len(lots)))
    return redirect("lot", pk=marche.pk, n=1)


@require_GET
def fin(request: HttpRequest, pk: int) -> HttpResponse:
    marche = _marche(request, pk)
    _, issues = _check(marche.donnees)
    grouped: dict[tuple[str, Optional[int]], list[api.Issue]] = {}
    for issue in issues:
        grouped.setdefault(entretien.step_of(issue.path), []).append(issue)
    sections = []
    for (step, index), found in grouped.items():
        if step == "lot":
            title = f"Lot {index + 1}" if index is not None else "Les lots"
            url = reverse("lot", kwargs={"pk": marche.pk, "n": (index or 0) + 1})
        elif step == "plan":
            title, url = "Choix sur le plan", reverse("plan", kwargs={"pk": marche.pk})
        else:
            title, url = entretien.STEPS[step].title, reverse("etape", kwargs={"pk": marche.pk, "etape": step})
        sections.append({"titre": title, "url": url, "issues": [(i, chemins.html_id(i.path)) for i in found]})
    return render(request, "marches/fin.html", {"marche": marche, "sections": sections, "nav": _steps_nav(marche, "fin", None)},
                  status=200)


# ----------------------------------------------------------------------------- plan


def _plan_context(marche: Marche, issues: Optional[list[api.Issue]] = None) -> dict[str, Any]:
    lib = moteur.library()
    loaded = _loaded(marche, lib)
    result = moteur.ENGINE.plan(loaded, lib)
    data = api.plan_data(result)
    lots = plan_vue.lot_views(data, marche.donnees, lib, issues)
    choices = plan_vue.market_choices(marche.donnees, issues)
    warnings = [w["code"] for w in data.get("avertissements", [])]
    return {"marche": marche, "plan": data, "lots": lots, "choix": plan_vue.CHOICES, "choix_marche": choices,
            "choix_marche_ouvert": any(c.choice != "auto" or c.has_issues for c in choices),
            "a_completer": data.get("a_completer"),
            "exception": chemins.get(marche.donnees, "justifications.exception_condition_sociale") or "",
            "exception_utile": "condition_sociale_obligatoire" in warnings or bool(
                chemins.get(marche.donnees, "justifications.exception_condition_sociale"))}


@require_GET
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    marche = _marche(request, pk)
    if not marche.valide:
        return _incomplete(request, marche)
    return render(request, "marches/plan.html", _plan_context(marche))


@require_POST
def plan_choix(request: HttpRequest, pk: int) -> HttpResponse:
    """Accept or override clausier's advice, with the reason (the questionnaire's considerations and justifications)."""
    marche = _marche(request, pk)
    if not marche.valide:
        return _incomplete(request, marche)
    data = copy.deepcopy(marche.donnees)
    overrides, problems = plan_vue.read_overrides(request.POST, _lot_count(marche))
    if "justifications.exception_condition_sociale" in request.POST:
        chemins.put(data, "justifications.exception_condition_sociale",
                    request.POST["justifications.exception_condition_sociale"].strip() or None)
    plan_vue.apply_overrides(data, overrides)
    _, issues = _check(data)
    issues = [api.Issue(path, message) for path, found in problems.items() for message in found] + issues
    if issues:  # nothing recorded: the plan stays as it was, the messages sit beside their fields
        context = _plan_context(marche, issues)
        context["erreurs"] = issues
        template = "marches/plan_contenu.html" if _htmx(request) else "marches/plan.html"
        return render(request, template, context, status=422)
    save_answers(marche, data)
    acces.journal(request, "choix", marche, choix=[o.__dict__ for o in overrides])
    if _htmx(request):
        changed = (f"lots[{overrides[0].lot}].considerations.{overrides[0].type}" if overrides and overrides[0].lot is not None
                   else "marche")
        return render(request, "marches/plan_contenu.html", {**_plan_context(marche), "modifie": changed})
    messages.success(request, "Choix enregistré : le plan ci-dessous en tient compte.")
    anchor = f"#lot-{overrides[0].lot}" if overrides and overrides[0].lot is not None else ""
    return redirect(reverse("plan", kwargs={"pk": marche.pk}) + anchor)


# ----------------------------------------------------------------------------- pieces and generations


@require_GET
def pieces(request: HttpRequest, pk: int) -> HttpResponse:
    marche = _marche(request, pk)
    if not marche.valide:
        return _incomplete(request, marche)
    lib = moteur.library()
    previews = apercu.preview(moteur.ENGINE.pieces(_loaded(marche, lib), lib))
    return render(request, "marches/pieces.html", {
        "marche": marche, "pieces": previews, "versions": moteur.versions(), "bibliotheque": lib.version,
        "pdf": moteur.ENGINE.pdf_available()})


def _generate(request: HttpRequest, marche: Marche, version: Optional[str], first: Optional[int] = None) -> Generation:
    lib = moteur.library(version)
    raw, name = _questionnaire(marche)
    market, archive = moteur.RENDERS.render(raw, name, lib, api.Options(premier_article=first))
    questionnaire_sha = blobs.put(raw)  # regenerating later, with any library version, starts from these bytes
    files = {file_name: blobs.put(data) for file_name, data in sorted(market.files.items())}
    zip_sha = blobs.put(archive)
    with transaction.atomic():
        locked = Marche.objects.select_for_update().get(pk=marche.pk)
        numero = (locked.generations.aggregate(n=Max("numero"))["n"] or 0) + 1
        generation = Generation.objects.create(
            marche=locked, numero=numero, createur=request.user, reference=market.reference,
            bibliotheque_version=lib.version, bibliotheque_demandee=version or "",
            questionnaire_sha256=questionnaire_sha, questionnaire_nom=name,
            options={"premier_article": market.manifest.get("options", {}).get("premier_article")},
            manifest_sha256=market.manifest_sha256, fichiers=files, zip_sha256=zip_sha, zip_octets=len(archive))
        locked.etat = Marche.GENERE
        locked.save(update_fields=["etat", "modifie_le"])
    acces.journal(request, "generation", marche, numero=numero, bibliotheque=lib.version,
                  manifeste=market.manifest_sha256)
    portefeuille.from_generation(generation, market.files, (raw, name), request.user)  # the market enters the monitoring
    pdf.start(generation)
    return generation


@require_POST
def generer(request: HttpRequest, pk: int) -> HttpResponse:
    marche = _marche(request, pk)
    if not marche.valide:
        return _incomplete(request, marche)
    version = request.POST.get("bibliotheque") or None
    if version is not None and version not in moteur.versions():
        return render(request, "erreur.html", {"titre": "Version inconnue", "message":
                      f"La bibliothèque n'a pas de version publiée « {version} »."}, status=422)
    first = saisie.integer(request.POST.get("premier_article", ""))
    if first is not None and not (isinstance(first, int) and 1 <= first <= 999):
        return render(request, "erreur.html", {"titre": "Numéro d'article invalide", "message":
                      f"« {first} » : le premier article social se numérote de 1 à 999."}, status=422)
    generation = _generate(request, marche, version, first)
    messages.success(request, f"DCE généré (génération n° {generation.numero}, bibliothèque {generation.bibliotheque_version}).")
    return redirect("generation", pk=marche.pk, numero=generation.numero)


def _generation(request: HttpRequest, pk: int, numero: int) -> Generation:
    marche = _marche(request, pk)
    return get_object_or_404(Generation, marche=marche, numero=numero)


@require_GET
def generation(request: HttpRequest, pk: int, numero: int) -> HttpResponse:
    gen = _generation(request, pk, numero)
    files = sorted(gen.fichiers.items())
    pdf_files = sorted((n, s) for n, s in gen.pdf_fichiers.items() if n.endswith(".pdf"))
    context = {"marche": gen.marche, "gen": gen, "fichiers": files, "pdfs": pdf_files}
    if _htmx(request) and request.GET.get("pdf") == "etat":
        return render(request, "marches/pdf_etat.html", context)
    return render(request, "marches/generation.html", context)


@require_POST
def generation_pdf(request: HttpRequest, pk: int, numero: int) -> HttpResponse:
    gen = _generation(request, pk, numero)
    if gen.pdf_etat not in (Generation.PDF_EN_COURS, Generation.PDF_PRET):
        pdf.start(gen)
    return redirect("generation", pk=pk, numero=numero)


def _download(data: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "private, max-age=0"
    return response


CONTENT_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
}


def content_type(name: str) -> str:
    for suffix, value in CONTENT_TYPES.items():
        if name.endswith(suffix):
            return value
    return "application/octet-stream"


@require_GET
def fichier(request: HttpRequest, pk: int, numero: int, nom: str) -> HttpResponse:
    gen = _generation(request, pk, numero)
    digest = gen.fichiers.get(nom) or gen.pdf_fichiers.get(nom)
    if not digest:
        raise Http404("fichier inconnu")
    return _download(blobs.get(digest), nom, content_type(nom))


@require_GET
def dce_zip(request: HttpRequest, pk: int, numero: int) -> HttpResponse:
    gen = _generation(request, pk, numero)
    acces.journal(request, "telechargement", gen.marche, numero=numero)
    return _download(blobs.get(gen.zip_sha256), f"{gen.reference}_DCE.zip", "application/zip")


@require_GET
def dce_pdf_zip(request: HttpRequest, pk: int, numero: int) -> HttpResponse:
    gen = _generation(request, pk, numero)
    if gen.pdf_etat != Generation.PDF_PRET or not gen.pdf_zip_sha256:
        raise Http404("copies PDF non prêtes")
    return _download(blobs.get(gen.pdf_zip_sha256), f"{gen.reference}_DCE_avec-PDF.zip", "application/zip")


# ----------------------------------------------------------------------------- library releases


@require_GET
def bibliotheque(request: HttpRequest, pk: int) -> HttpResponse:
    """What each library release would change in the last generated DCE (the engine's impact)."""
    marche = _marche(request, pk)
    last = marche.derniere_generation
    if last is None:
        messages.info(request, "Ce marché n'a pas encore été généré : il le sera avec la bibliothèque en service.")
        return redirect("pieces", pk=marche.pk)
    manifest = json.loads(blobs.get(last.fichiers["manifest.json"]))
    rows = []
    current = moteur.library()
    candidates = [(v, moteur.library(v)) for v in moteur.versions()]
    candidates.append(("", current))
    for version, lib in candidates:
        fragments, donnees = moteur.ENGINE.impact(manifest, lib)
        rows.append({"version": version, "libelle": f"version {version}" if version else f"en service ({lib.version})",
                     "fragments": fragments, "donnees": donnees, "identique": not fragments and not donnees,
                     "utilisee": version == last.bibliotheque_demandee})
    changelog = [entry for entry in current.changelog if isinstance(entry, dict)]
    return render(request, "marches/bibliotheque.html", {"marche": marche, "last": last, "rows": rows,
                                                          "changelog": changelog})


# ----------------------------------------------------------------------------- the API for programs


@require_GET
def api_acces(request: HttpRequest) -> HttpResponse:
    return render(request, "marches/api_acces.html", {"jeton": request.session.get("jeton_api", ""),
                                                       "base": request.build_absolute_uri("/")[:-1]})
