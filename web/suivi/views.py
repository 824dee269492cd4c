"""The facilitator's desk: portfolio, monthly returns, dashboards, yearly bilans, audit trail.

Every market is read through the account's scope (``request.portee``): a market of an organisation the account
does not see answers 404 on every page, file and chart, like one that does not exist. Uploads and imports are
for facilitators and administrators; a buyer reads its own markets' monitoring and records what it decides.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Max, Min, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from drafting import api

from .. import acces, blobs, moteur
from ..marches.models import Journal
from . import bilan as bilans
from . import portefeuille, retours, tableau
from .models import MarcheSuivi, Retour

PAGE = 50
ETATS = {"": "Tous", "retard": "En retard", "manquants": "Retours manquants", "sans_retour": "Sans retour"}


# ----------------------------------------------------------------------------- helpers


def _suivi(request: HttpRequest, pk: int) -> MarcheSuivi:
    return get_object_or_404(request.portee.filtre(MarcheSuivi.objects.select_related("organisation", "facilitateur")),
                             pk=pk)


def _may_edit(request: HttpRequest, suivi: MarcheSuivi) -> bool:
    return request.portee.bureau or request.portee.modifie(suivi.organisation_id)


def _download(data: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "private, max-age=0"
    return response


def _int(value: Any) -> Optional[int]:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _filters(request: HttpRequest) -> tableau.Filters:
    organisation = _int(request.GET.get("acheteur"))
    if organisation is not None and not request.portee.voit(organisation):
        organisation = None
    year = _int(request.GET.get("annee"))
    if year is not None and not 2000 <= year <= 2100:
        year = None
    return tableau.Filters(organisation, year, (request.GET.get("secteur") or "").strip()[:60])


def _filter_choices(request: HttpRequest) -> dict[str, Any]:
    visible = request.portee.filtre(MarcheSuivi.objects.all())
    organisations = list(request.portee.organisations_visibles().filter(marches_suivis__isnull=False).distinct())
    bounds = visible.aggregate(a=Min("debut_execution"), b=Max("retours__mois"))
    today = tableau.today()
    first = min([d.year for d in (bounds["a"], bounds["b"]) if d] + [today.year])
    last = max([d.year for d in (bounds["a"], bounds["b"]) if d] + [today.year])
    sectors = sorted(set(visible.exclude(lots__secteur="").values_list("lots__secteur", flat=True)) - {None})
    labels = {s.id: s.libelle for s in moteur.library().sectors.values()}
    return {"organisations": organisations, "annees": list(range(last, first - 1, -1)),
            "secteurs": [(s, labels.get(s, s)) for s in sectors]}


LIST_FIELDS = ("pk", "reference", "objet", "organisation_id", "organisation__nom", "organisation__slug",
               "debut_execution", "duree_mois")


def _markets(request: HttpRequest, filters: tableau.Filters) -> list[MarcheSuivi]:
    queryset = filters.apply(request.portee.filtre(MarcheSuivi.objects.select_related("organisation")))
    return list(queryset.only(*LIST_FIELDS).order_by("reference", "pk"))


def _portfolio(request: HttpRequest, filters: tableau.Filters) -> tableau.Portfolio:
    """The account's portfolio with these filters, computed once for a page and its charts."""
    today = tableau.today()
    scope = request.portee.organisations
    key = (tuple(sorted(scope)) if scope is not None else None, filters.organisation, filters.annee, filters.secteur,
           today, tableau.data_version())
    return tableau.PORTFOLIOS.get(key, lambda: tableau.portfolio(_markets(request, filters), today, filters.annee))


def _query(request: HttpRequest, **changes: Any) -> str:
    params = request.GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    return params.urlencode()


# ----------------------------------------------------------------------------- portfolio


@require_GET
def portefeuille_view(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    state_filter = request.GET.get("etat", "")
    today = tableau.today()
    result = _portfolio(request, filters)
    states = result.states
    if state_filter == "retard":
        states = [s for s in states if s.en_retard]
    elif state_filter == "manquants":
        states = [s for s in states if s.manquants]
    elif state_filter == "sans_retour":
        states = [s for s in states if s.dernier is None]
    page = Paginator(states, PAGE).get_page(request.GET.get("page"))
    return render(request, "suivi/portefeuille.html", {
        "filtres": filters, "choix": _filter_choices(request), "etat": state_filter, "etats": ETATS, "page": page,
        "total": result.totals, "nombre": len(states), "query": _query(request, page=None),
        "aujourdhui": today})


@require_http_methods(["GET", "POST"])
def importer(request: HttpRequest) -> HttpResponse:
    """Markets generated elsewhere (``clausier generate``/``batch``) enter the portfolio: their folders, zipped."""
    acces.require_desk(request)
    organisations = list(request.portee.organisations_visibles())
    context: dict[str, Any] = {"organisations": organisations, "max_mo": settings.MAX_UPLOAD_BYTES // (1024 * 1024)}
    if request.method == "GET":
        return render(request, "suivi/importer.html", context)
    organisation = next((o for o in organisations if o.pk == _int(request.POST.get("acheteur"))), None)
    uploads = request.FILES.getlist("fichiers")
    errors = {}
    if organisation is None:
        errors["acheteur"] = "Choisissez l'acheteur à qui ces marchés appartiennent."
    if not uploads:
        errors["fichiers"] = "Choisissez au moins une archive .zip de marché généré."
    if errors:
        return render(request, "suivi/importer.html", {**context, "erreurs": errors}, status=422)
    folders, refused = [], []
    questionnaires = portefeuille.questionnaires_by_hash((u.name or "", u.read()) for u in uploads
                                                         if (u.name or "").lower().endswith(portefeuille.QUESTIONNAIRE_TYPES))
    for upload in uploads:
        name = upload.name or "archive.zip"
        if name.lower().endswith(portefeuille.QUESTIONNAIRE_TYPES):
            continue
        upload.seek(0)
        try:
            folders += portefeuille.folders_in_zip(upload.read(), name)
        except api.ClausierError as exc:
            refused.append(portefeuille.Outcome(name, "", None, False, exc.message))
    outcomes = refused + portefeuille.import_folders(folders, organisation, request.user, questionnaires)
    status = 200 if any(o.suivi for o in outcomes) else 422
    return render(request, "suivi/importer.html", {**context, "resultats": outcomes, "organisation": organisation},
                  status=status)


# ----------------------------------------------------------------------------- monthly returns


def _month_choices(today: dt.date) -> list[tuple[str, str]]:
    months = [tableau.add_months(tableau.first_of_month(today), -n) for n in range(-1, 36)]
    return [(m.isoformat()[:7], tableau.month_long(m)) for m in months]


@require_http_methods(["GET", "POST"])
def retours_view(request: HttpRequest) -> HttpResponse:
    acces.require_desk(request)
    today = tableau.today()
    organisations = list(request.portee.organisations_visibles().filter(marches_suivis__isnull=False).distinct())
    default = tableau.add_months(tableau.first_of_month(today), -1).isoformat()[:7]
    context: dict[str, Any] = {"mois_choix": _month_choices(today), "mois": request.POST.get("mois", default),
                               "organisations": organisations, "acheteur": _int(request.POST.get("acheteur")),
                               "max_mo": settings.MAX_UPLOAD_BYTES // (1024 * 1024),
                               "recents": request.portee.filtre(Retour.objects.select_related("marche", "depose_par"),
                                                                "marche__organisation").order_by("-depose_le")[:10]}
    if request.method == "GET":
        return render(request, "suivi/retours.html", context)
    errors = {}
    try:
        month = dt.date.fromisoformat(request.POST.get("mois", "") + "-01")
    except ValueError:
        month = None
        errors["mois"] = "Choisissez le mois sur lequel portent les grilles."
    uploads = request.FILES.getlist("grilles")
    if not uploads:
        errors["grilles"] = "Choisissez au moins une grille de suivi remplie (.xlsx)."
    organisation = context["acheteur"]
    if organisation is not None and not any(o.pk == organisation for o in organisations):
        errors["acheteur"] = "Acheteur inconnu."
    if errors or month is None:
        return render(request, "suivi/retours.html", {**context, "erreurs": errors}, status=422)
    issues = retours.deposit([(u.name or "grille.xlsx", u.read()) for u in uploads], month, request.user, request.portee,
                             organisation)
    accepted = [i for i in issues if i.etat in (retours.ACCEPTE, retours.REMPLACE)]
    return render(request, "suivi/retours.html", {**context, "resultats": issues, "acceptes": len(accepted),
                                                  "mois_depose": month}, status=200 if accepted or not issues else 422)


# ----------------------------------------------------------------------------- dashboards


@require_GET
def tableau_view(request: HttpRequest) -> HttpResponse:
    filters = _filters(request)
    today = tableau.today()
    result = _portfolio(request, filters)
    flagged = sorted([s for s in result.states if s.en_retard or s.manquants],
                     key=lambda s: (not s.en_retard, s.avancement if s.avancement is not None else 9, s.suivi.reference))
    buyers: dict[int, dict[str, Any]] = {}
    for state in result.states:
        entry = buyers.setdefault(state.suivi.organisation_id, {"organisation": state.suivi.organisation, "marches": 0,
                                                               "engagees": 0.0, "realisees": 0.0, "retard": 0,
                                                               "manquants": 0})
        entry["marches"] += 1
        entry["engagees"] += state.engagement or 0
        entry["realisees"] += state.realise
        entry["retard"] += state.en_retard
        entry["manquants"] += len(state.manquants)
    for entry in buyers.values():
        entry["taux"] = entry["realisees"] / entry["engagees"] if entry["engagees"] else None
    lines = [{**line, "libelle": api.type_labels().get(line["type"], line["type"])} for line in result.lots]
    return render(request, "suivi/tableau.html", {
        "filtres": filters, "choix": _filter_choices(request), "total": result.totals, "points": result.points,
        "publics": result.publics, "contrats": result.contrats, "lignes": lines, "signales": flagged[:PAGE],
        "signales_total": len(flagged), "acheteurs": sorted(buyers.values(), key=lambda e: e["organisation"].nom),
        "sans_dates": result.sans_dates, "query": request.GET.urlencode(), "aujourdhui": today,
        "seuil": tableau.RETARD_SEUIL})


def _svg(data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=0"
    return response


@require_GET
def tableau_graphique(request: HttpRequest, nom: str) -> HttpResponse:
    from . import graphiques  # lazy: matplotlib, ≈ 0,5 s, paid by the first chart only

    filters = _filters(request)
    result = _portfolio(request, filters)
    if nom == "heures":
        fig = graphiques.cumulative(result.points, result.totals["heures_engagees"])
    elif nom == "contrats":
        fig = graphiques.bars(result.contrats, "Personnes")
    elif nom == "publics":
        fig = graphiques.bars(result.publics, "Personnes")
    else:
        raise Http404("graphique inconnu")
    return _svg(graphiques.svg(fig))


def _market_context(request: HttpRequest, suivi: MarcheSuivi) -> dict[str, Any]:
    today = tableau.today()
    year = _int(request.GET.get("annee"))
    active = list(suivi.retours.filter(actif=True).order_by("mois"))
    commitment = tableau.insertion_commitments([suivi.pk]).get(suivi.pk)
    state = tableau.market_state(suivi, active, commitment, today, year)
    labels = api.type_labels()
    figures = state.figures
    lines = [{**line, "libelle": labels.get(line["type"], line["type"])} for line in figures.get("lignes", [])]
    indicators = figures.get("indicateurs") or {}
    people = indicators.get("beneficiaires") or 0
    publics = []
    if figures:
        one = tableau.summarise([state])
        publics = one.publics
    engagements = [{"e": e, "libelle": labels.get(e.type, e.type)} for e in suivi.engagements.all()]
    history = list(suivi.retours.select_related("depose_par").order_by("-mois", "-depose_le"))
    sectors = {s.id: s.libelle for s in moteur.library().sectors.values()}
    return {"suivi": suivi, "etat": state, "lignes": lines, "indicateurs": indicators, "personnes": people,
            "publics": publics, "contrats": sorted((indicators.get("types_contrat") or {}).items(), key=lambda kv: (-kv[1], kv[0])),
            "engagements": engagements, "historique": history, "lots": list(suivi.lots.all()),
            "secteurs": sectors, "peut_modifier": _may_edit(request, suivi), "annee": year,
            "problemes": state.dernier.problemes if state.dernier else [], "aujourdhui": today,
            "facilitateurs": _facilitators(suivi), "seuil": tableau.RETARD_SEUIL,
            "journal": Journal.objects.filter(suivi=suivi).order_by("-date", "-pk")[:15]}


def _facilitators(suivi: MarcheSuivi) -> list[Any]:
    from django.contrib.auth import get_user_model

    return list(get_user_model().objects.filter(is_active=True, adhesions__organisation=suivi.organisation,
                                                adhesions__role=acces.FACILITATEUR).distinct().order_by("username"))


@require_GET
def marche(request: HttpRequest, pk: int) -> HttpResponse:
    suivi = _suivi(request, pk)
    return render(request, "suivi/marche.html", _market_context(request, suivi))


@require_GET
def marche_graphique(request: HttpRequest, pk: int, nom: str) -> HttpResponse:
    from . import graphiques  # lazy: matplotlib, only for the charts

    suivi = _suivi(request, pk)
    context = _market_context(request, suivi)
    state = context["etat"]
    if nom == "heures":
        fig = graphiques.cumulative(state.points, state.engagement)
    elif nom == "lots":
        rows = [line for line in context["lignes"] if line["type"] == "insertion"]
        fig = graphiques.paired_bars([f"Lot {line['lot']} — {line['intitule']}" for line in rows],
                                     [line.get("engagement") for line in rows], [line.get("realise") or 0 for line in rows])
    elif nom == "contrats":
        fig = graphiques.bars(context["contrats"], "Personnes")
    else:
        raise Http404("graphique inconnu")
    return _svg(graphiques.svg(fig))


def _date(text: str) -> Optional[dt.date]:
    return dt.date.fromisoformat(text) if text else None


@require_POST
def marche_fiche(request: HttpRequest, pk: int) -> HttpResponse:
    """The facilitator's corrections: real start of execution, duration, holders of the lots, sectors, who follows it."""
    suivi = _suivi(request, pk)
    if not _may_edit(request, suivi):
        raise PermissionDenied("lecture seule")
    errors: dict[str, str] = {}
    try:
        start = _date(request.POST.get("debut_execution", "").strip())
    except ValueError:
        start = None
        errors["debut_execution"] = "Date illisible : choisissez-la dans le calendrier (jj/mm/aaaa)."
    duration_text = request.POST.get("duree_mois", "").strip()
    duration = _int(duration_text) if duration_text else None
    if duration_text and (duration is None or not 1 <= duration <= 600):
        errors["duree_mois"] = "Une durée en mois, de 1 à 600."
    facilitator = None
    wanted = _int(request.POST.get("facilitateur"))
    if wanted:
        facilitator = next((u for u in _facilitators(suivi) if u.pk == wanted), None)
        if facilitator is None:
            errors["facilitateur"] = "Ce facilitateur ne suit pas cet acheteur."
    sectors = {s.id for s in moteur.library().sectors.values()}
    lots = list(suivi.lots.all())
    for lot in lots:
        sector = request.POST.get(f"lot-{lot.numero}-secteur", lot.secteur).strip()
        if sector and sector not in sectors:
            errors[f"lot-{lot.numero}-secteur"] = "Secteur inconnu de la bibliothèque."
    if errors:
        context = _market_context(request, suivi)
        return render(request, "suivi/marche.html", {**context, "erreurs": errors, "fiche_ouverte": True}, status=422)
    before = {"debut_execution": suivi.debut_execution.isoformat() if suivi.debut_execution else None,
              "duree_mois": suivi.duree_mois, "facilitateur": acces.actor(suivi.facilitateur)}
    suivi.debut_execution, suivi.duree_mois, suivi.facilitateur = start, duration, facilitator
    suivi.save(update_fields=["debut_execution", "duree_mois", "facilitateur", "modifie_le"])
    for lot in lots:
        lot.titulaire = request.POST.get(f"lot-{lot.numero}-titulaire", lot.titulaire).strip()[:300]
        lot.secteur = request.POST.get(f"lot-{lot.numero}-secteur", lot.secteur).strip()
        lot.save(update_fields=["titulaire", "secteur"])
    acces.journal(request, "fiche_modifiee", suivi=suivi, avant=before,
                  apres={"debut_execution": start.isoformat() if start else None, "duree_mois": duration,
                         "facilitateur": acces.actor(facilitator)},
                  titulaires={str(lot.numero): lot.titulaire for lot in lots})
    messages.success(request, "Fiche du marché enregistrée.")
    return redirect("suivi:marche", pk=suivi.pk)


@require_POST
def marche_penalites(request: HttpRequest, pk: int) -> HttpResponse:
    """What the buyer retains after the contradictory procedure (CCAG 2021), and why."""
    suivi = _suivi(request, pk)
    if not _may_edit(request, suivi):
        raise PermissionDenied("lecture seule")
    errors: dict[str, str] = {}
    try:
        decided = _date(request.POST.get("procedure_contradictoire_le", "").strip())
    except ValueError:
        decided = None
        errors["procedure_contradictoire_le"] = "Date illisible."
    amount_text = request.POST.get("penalites_retenues", "").strip()
    amount = None
    if amount_text:
        try:
            amount = Decimal(str(api.read_amount(amount_text))).quantize(Decimal("0.01"))
        except (ValueError, InvalidOperation) as exc:
            errors["penalites_retenues"] = str(exc) or "Montant illisible."
    reason = " ".join(request.POST.get("penalites_motif", "").split())[:1000]
    if amount is not None and decided is None:
        errors["procedure_contradictoire_le"] = "Indiquez la date de la décision prise après la procédure contradictoire."
    if errors:
        context = _market_context(request, suivi)
        return render(request, "suivi/marche.html", {**context, "erreurs": errors}, status=422)
    suivi.procedure_contradictoire_le, suivi.penalites_retenues, suivi.penalites_motif = decided, amount, reason
    suivi.save(update_fields=["procedure_contradictoire_le", "penalites_retenues", "penalites_motif", "modifie_le"])
    acces.journal(request, "penalites", suivi=suivi, decision_le=decided.isoformat() if decided else None,
                  montant=str(amount) if amount is not None else None, motif=reason)
    messages.success(request, "Décision sur les pénalités enregistrée.")
    return redirect(reverse("suivi:marche", kwargs={"pk": suivi.pk}) + "#penalites")


def _retour(request: HttpRequest, pk: int, rid: int) -> Retour:
    suivi = _suivi(request, pk)
    return get_object_or_404(Retour.objects.select_related("marche", "depose_par", "remplace"), marche=suivi, pk=rid)


@require_GET
def retour(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    item = _retour(request, pk, rid)
    labels = api.type_labels()
    by_sheet: dict[str, list[dict[str, str]]] = {}
    for problem in item.problemes:
        sheet = problem["cellule"].split("!", 1)[0] if "!" in problem["cellule"] else (problem["cellule"] or "Grille")
        by_sheet.setdefault(sheet, []).append(problem)
    return render(request, "suivi/retour.html", {
        "suivi": item.marche, "retour": item, "par_onglet": sorted(by_sheet.items()),
        "lignes": [{**line, "libelle": labels.get(line["type"], line["type"])} for line in item.figures.get("lignes", [])],
        "indicateurs": item.figures.get("indicateurs") or {}, "peut_retirer": request.portee.bureau and item.actif,
        "remplace_par": item.remplace_par.order_by("-depose_le").first()})


@require_GET
def retour_grille(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    item = _retour(request, pk, rid)
    if not item.fichier_sha256:
        raise Http404("fichier non conservé")
    return _download(blobs.get(item.fichier_sha256), item.fichier_nom,
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@require_GET
def retour_json(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    """The return's figures as ``suivi consolider --format json`` writes a market (problems included)."""
    item = _retour(request, pk, rid)
    body = {**item.figures, "problemes": item.problemes}
    return HttpResponse(json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8"),
                        content_type="application/json; charset=utf-8")


@require_POST
def retour_retirer(request: HttpRequest, pk: int, rid: int) -> HttpResponse:
    item = _retour(request, pk, rid)  # another organisation's: 404, before any other answer
    acces.require_desk(request)
    if item.actif:
        retours.withdraw(item, request.user)
        messages.success(request, f"Retour de {tableau.month_long(item.mois)} retiré : il n'est plus compté.")
    return redirect("suivi:marche", pk=item.marche_id)


@require_GET
def generee(request: HttpRequest, pk: int) -> HttpResponse:
    """The grid clausier generated for this market (the commitments the consolidation trusts)."""
    suivi = _suivi(request, pk)
    return _download(blobs.get(suivi.grille_sha256), suivi.grille_nom,
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# ----------------------------------------------------------------------------- yearly bilan


@require_GET
def bilans_view(request: HttpRequest) -> HttpResponse:
    today = tableau.today()
    organisations = list(request.portee.organisations_visibles().filter(marches_suivis__isnull=False).distinct())
    choice = _int(request.GET.get("acheteur"))
    organisation = next((o for o in organisations if o.pk == choice), organisations[0] if len(organisations) == 1 else None)
    year = _int(request.GET.get("annee")) or (today.year - 1 if today.month < 4 else today.year)
    context: dict[str, Any] = {"organisations": organisations, "organisation": organisation, "annee": year,
                               "annees": list(range(today.year, today.year - 10, -1)), "colonnes": bilans.CSV_COLUMNS,
                               "format": bilans.CSV_FORMAT}
    if organisation is not None:
        result = bilans.build(organisation, year, today)
        context.update({"bilan": result, "lignes": bilans.market_rows(result), "total": result.portfolio.totals})
    return render(request, "suivi/bilans.html", context)


def _bilan(request: HttpRequest, slug: str, annee: int) -> bilans.Bilan:
    organisation = get_object_or_404(request.portee.organisations_visibles(), slug=slug)
    if not 2000 <= annee <= 2100:
        raise Http404("année")
    return bilans.build(organisation, annee, tableau.today())


@require_GET
def bilan_docx(request: HttpRequest, slug: str, annee: int) -> HttpResponse:
    result = _bilan(request, slug, annee)
    data = bilans.report_docx(result)
    acces.journal(request, "bilan", organisation=result.organisation, annee=annee, fichier="docx")
    return _download(data, f"bilan-{annee}-{slug}.docx",
                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


@require_GET
def bilan_xlsx(request: HttpRequest, slug: str, annee: int) -> HttpResponse:
    result = _bilan(request, slug, annee)
    return _download(bilans.annex_xlsx(result), f"bilan-{annee}-{slug}-annexe.xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@require_GET
def bilan_csv(request: HttpRequest, slug: str, annee: int) -> HttpResponse:
    result = _bilan(request, slug, annee)
    return _download(bilans.survey_csv(result), f"enquete-{annee}-{slug}.csv", "text/csv; charset=utf-8")


# ----------------------------------------------------------------------------- audit trail

ACTIONS = {
    "connexion": "connexion", "connexion_refusee": "connexion refusée (mot de passe)", "creation": "création d'un brouillon",
    "import": "import d'un questionnaire", "choix": "choix sur le plan (recommandation suivie ou écartée)",
    "generation": "génération du DCE", "telechargement": "téléchargement du DCE", "jeton_api": "jeton pour les programmes",
    "suivi_ajout": "marché ajouté au suivi", "suivi_mise_a_jour": "fiche de suivi mise à jour (nouvelle génération)",
    "retour_depose": "grille mensuelle déposée", "retour_remplace": "grille mensuelle remplacée",
    "retour_retire": "grille mensuelle retirée", "fiche_modifiee": "fiche du marché modifiée",
    "penalites": "décision sur les pénalités", "bilan": "bilan annuel téléchargé",
    "bibliotheque_publiee": "bibliothèque publiée", "compte_cree": "compte créé", "compte_rattache": "compte rattaché",
    "compte_desactive": "compte désactivé", "compte_active": "compte réactivé", "mot_de_passe": "mot de passe changé",
    "restauration": "sauvegarde restaurée",
}


@require_GET
def journal(request: HttpRequest) -> HttpResponse:
    acces.require_desk(request)
    entries = Journal.objects.select_related("organisation").order_by("-date", "-pk")
    if not request.portee.admin or request.portee.organisations is not None:
        entries = entries.filter(Q(organisation_id__in=request.portee.organisations or [])
                                 | Q(organisation__isnull=True, action="bibliotheque_publiee"))
    action = request.GET.get("action", "")
    if action in ACTIONS:
        entries = entries.filter(action=action)
    reference = (request.GET.get("reference") or "").strip()[:64]
    if reference:
        entries = entries.filter(reference__icontains=reference)
    organisation = _int(request.GET.get("acheteur"))
    if organisation is not None and request.portee.voit(organisation):
        entries = entries.filter(organisation_id=organisation)
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    counts = dict(Journal.objects.values_list("action").annotate(n=Count("pk")))
    return render(request, "suivi/journal.html", {
        "page": page, "actions": ACTIONS, "action": action, "reference": reference, "acheteur": organisation,
        "organisations": list(request.portee.organisations_visibles()), "query": _query(request, page=None),
        "comptes": counts})


def action_label(action: str) -> str:
    return ACTIONS.get(action, action)
