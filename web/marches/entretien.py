"""The interview: the questionnaire asked in the order a buyer thinks (market, lots one by one,
objectives, facilitator), each answer checked at once by the engine.

Every field is named by the questionnaire path of its value (``marche.objet``,
``lots[0].montant_estime_ht``): the engine's issues carry these paths, so each message
lands beside its own field. A question may depend on earlier answers (a framework asks
minimum and maximum, not an estimate; reservation questions only where a lot could be
reserved); a question that is not asked is removed from the answers, as in the terminal.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Optional

from drafting import api

from . import chemins, saisie

FRAMEWORKS = ("accord_cadre_bons_de_commande", "accord_cadre_marches_subsequents")
INCLUSIVE_SUPPLY = ("oui", "partielle")
ACTION_THEMES = ("metiers_en_tension", "decouverte_metiers")
RESERVATION_BASES = [
    ("L2113-12", "Entreprises adaptées et ESAT (art. L2113-12)"),
    ("L2113-13", "Structures d'insertion par l'activité économique (art. L2113-13)"),
    ("L2113-12_13", "EA, ESAT et SIAE ensemble (art. L2113-12 et L2113-13)"),
    ("L2113-13-1", "Entreprises employant des personnes détenues (art. L2113-13-1)"),
    ("L2113-15", "Entreprises de l'économie sociale et solidaire, services sociaux (art. L2113-15)"),
]


@dataclass(frozen=True)
class Context:
    """What a question may look at: the answers so far, the library, the lot being asked."""

    data: dict[str, Any]
    library: api.Library
    lot: Optional[int] = None

    def get(self, path: str, default: Any = None) -> Any:
        return chemins.get(self.data, path.format(i=self.lot), default)

    @property
    def forme(self) -> str:
        value = self.get("marche.forme")
        return value if isinstance(value, str) else "ordinaire"

    def sector(self, lot: Optional[int] = None):
        sid = chemins.get(self.data, f"lots[{self.lot if lot is None else lot}].secteur")
        return self.library.sectors.get(sid) if isinstance(sid, str) else None

    def lots(self) -> list[Any]:
        value = self.data.get("lots")
        return value if isinstance(value, list) else []


def _always(ctx: Context) -> bool:
    return True


@dataclass(frozen=True)
class Question:
    path: str  # may hold « {i} », the index of the lot asked
    label: str
    kind: str  # texte, texte_long, choix, radio, entier, montant, date, case, cases, courriel, tel, secteur
    aide: str = ""
    obligatoire: bool = False
    choices: Callable[[Context], list[tuple[str, str]]] = lambda ctx: []
    visible: Callable[[Context], bool] = _always
    defaut: Any = None  # shown (and sent) when the questionnaire has no value: the model's own default
    autocomplete: str = "off"
    exists: str = ""  # a questionnaire key this question needs (« marche.date_lancement »): asked only if the engine knows it

    def at(self, ctx: Context) -> str:
        return self.path.format(i=ctx.lot)


def _labels(*values: str, **overrides: str) -> Callable[[Context], list[tuple[str, str]]]:
    def choices(ctx: Context) -> list[tuple[str, str]]:
        words = api.choice_labels()
        return [(v, overrides.get(v) or words.get(v, v)) for v in values]
    return choices


def _actions(ctx: Context) -> list[tuple[str, str]]:
    return [(key, str(entry.get("libelle", key))) for key, entry in ctx.library.actions.items()]


def _reservation_bases(ctx: Context) -> list[tuple[str, str]]:
    services = ctx.get("marche.nature") == "services"
    return [(v, label) for v, label in RESERVATION_BASES if v != "L2113-15" or services]


def _renewals(ctx: Context) -> bool:
    value = ctx.get("marche.reconductions")
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _could_be_reserved(ctx: Context) -> bool:
    """Reservation questions apply where a lot's sector is one the inclusive structures supply."""
    if ctx.get("objectifs.objet_insertion") is True:
        return False
    return any(ctx.sector(i) is not None and ctx.sector(i).offre_inclusive in INCLUSIVE_SUPPLY
               for i in range(len(ctx.lots())))


def _lot_could_be_reserved(ctx: Context) -> bool:
    sector = ctx.sector()
    return sector is not None and sector.offre_inclusive in INCLUSIVE_SUPPLY


def _wants_actions(ctx: Context) -> bool:
    themes = ctx.get("objectifs.themes")
    return isinstance(themes, list) and any(t in ACTION_THEMES for t in themes)


MARCHE = [
    Question("acheteur.nom", "Nom de l'acheteur", "texte", "Tel qu'il figure en tête des pièces, par exemple « Commune de Vaulx-sur-Rhône ».",
             True, autocomplete="organization"),
    Question("acheteur.type", "Type d'acheteur", "choix", "Il fixe les seuils européens applicables.", True,
             _labels("collectivite", "epci", "departement", "region", "etat", "etablissement_sante", "bailleur_social", "autre")),
    Question("acheteur.departement", "Département", "texte", "Numéro, par exemple 69, 2A ou 974 (facultatif)."),
    Question("marche.reference", "Référence du marché", "texte",
             "Elle nomme les fichiers produits : lettres, chiffres, « . », « _ » et « - », par exemple 2027-TRV-001.", True),
    Question("marche.objet", "Objet du marché", "texte", "Par exemple « Construction du groupe scolaire Jean-Zay ».", True),
    Question("marche.nature", "Nature", "radio", "", True, _labels("travaux", "fournitures", "services")),
    Question("marche.forme", "Forme", "radio", "Un accord-cadre se décrit par ses montants minimum et maximum, pas par une estimation.",
             True, _labels("ordinaire", *FRAMEWORKS), defaut="ordinaire"),
    Question("marche.attributaires", "Attributaires de l'accord-cadre", "radio", "", False, _labels("mono", "multi"),
             visible=lambda ctx: ctx.forme in FRAMEWORKS, defaut="mono"),
    Question("marche.procedure", "Procédure", "choix", "Facultatif.", False,
             _labels("mapa", "appel_offres_ouvert", "appel_offres_restreint", "procedure_negociee", "dialogue_competitif",
                     "sans_publicite")),
    Question("marche.ccag", "CCAG de référence", "choix",
             "Sans réponse : le CCAG-Travaux pour des travaux, le CCAG-FCS sinon.", False,
             _labels("travaux", "fcs", "tic", "pi", "moe", "mi", "aucun", travaux="CCAG-Travaux")),
    Question("marche.date_lancement", "Date de lancement de la consultation", "date",
             "Envoi de l'avis à la publication, ou consultation engagée : le droit applicable à la procédure est celui de ce jour (facultatif).",
             exists="marche.date_lancement"),
    Question("marche.date_notification_prevue", "Date de notification prévue", "date",
             "Les paramètres (taux, pénalités, seuils) sont ceux en vigueur à cette date (facultatif)."),
    Question("marche.duree_mois", "Durée initiale, en mois", "entier", "Sans les reconductions."),
    Question("marche.reconductions", "Nombre de reconductions", "entier", "0 si le marché n'est pas reconductible.", defaut=0),
    Question("marche.duree_reconduction_mois", "Durée d'une reconduction, en mois", "entier", "", visible=_renewals, defaut=12),
]

LOT = [
    Question("lots[{i}].intitule", "Intitulé du lot", "texte", "Par exemple « Peinture ». Un marché non alloti est le lot n° 1.", True),
    Question("lots[{i}].secteur", "Secteur", "secteur",
             "Tapez un mot (« peinture », « nettoyage », « voirie ») ou choisissez dans la liste : le secteur fixe la part "
             "de main-d'œuvre, le coût horaire et l'offre des structures inclusives.", True),
    Question("lots[{i}].montant_estime_ht", "Montant estimé HT, reconductions comprises (€)", "montant",
             "Sur toute la durée du marché, par exemple 1 500 000 ou 1 500 000,50.", True,
             visible=lambda ctx: ctx.forme not in FRAMEWORKS),
    Question("lots[{i}].montant_minimum_ht", "Montant minimum HT de l'accord-cadre (€)", "montant",
             "Sur toute la durée ; facultatif, mais sans minimum les heures d'insertion ne sont pas garanties.",
             visible=lambda ctx: ctx.forme in FRAMEWORKS),
    Question("lots[{i}].montant_maximum_ht", "Montant maximum HT de l'accord-cadre (€)", "montant",
             "Sur toute la durée, reconductions comprises.", True, visible=lambda ctx: ctx.forme in FRAMEWORKS),
    Question("lots[{i}].sourcing.structures_inclusives", "Structures inclusives capables d'exécuter ce lot sur le territoire",
             "entier", "SIAE, EA ou ESAT recensées avec le facilitateur : elles décident d'une réservation (facultatif).",
             visible=_lot_could_be_reserved),
    Question("lots[{i}].cpv", "Code CPV", "texte", "8 chiffres, par exemple 45210000 (facultatif)."),
]

OBJECTIFS = [
    Question("objectifs.themes", "Objectifs sociaux de l'acheteur", "cases", "Cochez ceux qui comptent pour ce marché.", False,
             _labels("metiers_en_tension", "decouverte_metiers", "illettrisme", "egalite_femmes_hommes",
                     "lutte_discriminations", "amelioration_continue")),
    Question("objectifs.actions_envisagees", "Actions qualitatives envisagées", "cases",
             "Pour faire connaître ou découvrir les métiers : les actions que vous avez en tête (le parrainage a un lien "
             "douteux avec l'objet du marché).", False, _actions, visible=_wants_actions),
    Question("objectifs.premier_essai_secteur", "Première clause sociale dans ce secteur", "case",
             "Une clause d'action sociale peut alors venir seule, sans clause d'insertion."),
    Question("objectifs.objet_insertion", "L'objet même du marché est l'insertion professionnelle", "case",
             "Marché d'insertion et de qualification professionnelle (chantier support)."),
    Question("clauses.marche_reserve.article", "Fondement d'une réservation", "choix",
             "Si un lot est réservé, l'avis et le RC citent cet article ; sans réponse, les pièces portent une zone à compléter.",
             False, _reservation_bases, visible=_could_be_reserved),
    Question("clauses.marche_reserve.tout_le_marche", "Réserver l'ensemble du marché (et non seulement des lots)", "case",
             "", visible=_could_be_reserved),
]

FACILITATEUR = [
    Question("facilitateur.structure", "Structure du facilitateur", "texte",
             "PLIE, maison de l'emploi… Laissez vide si aucun facilitateur n'accompagne ce marché : les pièces porteront "
             "une zone à compléter.", autocomplete="organization"),
    Question("facilitateur.contact", "Nom du contact", "texte", "", autocomplete="name"),
    Question("facilitateur.courriel", "Courriel", "courriel", "", autocomplete="email"),
    Question("facilitateur.telephone", "Téléphone", "tel", "", autocomplete="tel"),
    Question("territoire.heures_minimum", "Minimum d'heures d'un parcours sur le territoire", "entier",
             "En dessous, la clause d'insertion n'est pas adaptée ; le facilitateur le connaît (facultatif, sinon la valeur "
             "de la bibliothèque)."),
]


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    questions: list[Question]
    scope: tuple[str, ...]  # paths whose issues belong to this step
    keep: tuple[str, ...] = ()  # sections kept even empty (their missing fields are then named one by one)


STEPS = {
    "marche": Step("marche", "Le marché", MARCHE, ("acheteur", "marche", "version"), ("acheteur", "marche")),
    "lot": Step("lot", "Les lots", LOT, ("lots[{i}]",)),
    "objectifs": Step("objectifs", "Les objectifs sociaux", OBJECTIFS, ("objectifs", "clauses")),
    "facilitateur": Step("facilitateur", "Le facilitateur", FACILITATEUR, ("facilitateur", "territoire")),
}


@lru_cache(maxsize=None)
def known_to_engine(path: str) -> bool:
    """Whether the questionnaire model has this key (a question added before the engine knows it is not asked)."""
    return api.questionnaire_has_key(tuple(chemins.parse(path)))


def in_questionnaire(question: Question) -> bool:
    return not question.exists or known_to_engine(question.exists)


def read_answer(question: Question, path: str, post) -> Any:
    """The value of one field from a POST, converted as the engine reads it (or as typed when it cannot be)."""
    if question.kind == "cases":
        values = [v for v in post.getlist(path) if v]
        return list(dict.fromkeys(values)) or None
    if question.kind == "case":
        return True if post.get(path) in ("on", "oui", "true", "1") else None
    raw = post.get(path, "")
    if question.kind == "montant":
        return saisie.amount(raw)
    if question.kind == "entier":
        return saisie.integer(raw)
    if question.kind == "date":
        return saisie.date(raw)
    return saisie.text(raw)


def apply_post(step: Step, ctx: Context, post) -> dict[str, Any]:
    """The answers after this step's form: questions that apply are read, the others removed.

    Whether a question applies is decided on the answers being sent, in the step's order (the
    form chosen above decides the amounts asked below), so an answer shows its questions at once.
    """
    data = ctx.data
    for section in step.keep:
        if not isinstance(data.get(section), dict):
            data[section] = {}
    now = Context(data, ctx.library, ctx.lot)
    for question in step.questions:
        if not in_questionnaire(question):
            continue
        path = question.at(now)
        if not question.visible(now):
            chemins.put(data, path, None)
            continue
        value = read_answer(question, path, post)
        if question.kind == "secteur" and isinstance(value, str):
            value = resolve_sector(value, ctx.library)[0]
        chemins.put(data, path, value)
    chemins.prune(data, keep=step.keep)
    return data


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if unicodedata.category(c) != "Mn")


def resolve_sector(raw: str, library: api.Library) -> tuple[str, list[str]]:
    """(value to store, candidate ids): an id as it is; keywords naming one sector become its id;
    several matches stay as typed, with the candidates to choose from (the engine lists the nearest ids
    when nothing matches)."""
    text = raw.strip()
    if text in library.sectors:
        return text, []
    words = _plain(text).replace("_", " ").split()
    if not words:
        return text, []
    matches = [sid for sid, sector in library.sectors.items()
               if all(w in _plain(f"{sid.replace('_', ' ')} {sector.libelle}") for w in words)]
    if len(matches) == 1:
        return matches[0], []
    return text, matches


def sector_meaning(sector) -> str:
    parts = ["main-d'œuvre sur le site" if sector.main_oeuvre_sur_site else "pas de travail sur le site",
             "heures d'insertion adaptées" if sector.adapte_heures else "heures d'insertion peu adaptées (métiers qualifiés)",
             {"oui": "offre courante des SIAE et EA", "partielle": "offre partielle des SIAE et EA",
              "non": "peu d'offre des SIAE et EA"}.get(sector.offre_inclusive, ""),
             f"part de main-d'œuvre {round(sector.part_main_oeuvre * 100)} %",
             f"coût horaire chargé {saisie.shown_amount(sector.cout_horaire)} €"]
    return " ; ".join(p for p in parts if p)


# ----------------------------------------------------------------------------- issues


@dataclass
class Field:
    """One question as the template shows it."""

    question: Question
    path: str
    id: str
    value: Any
    issues: list[str] = field(default_factory=list)
    choices: list[tuple[str, str]] = field(default_factory=list)
    candidates: list[tuple[str, str, str]] = field(default_factory=list)  # sector search: id, label, meaning
    meaning: str = ""
    visible: bool = True

    @property
    def shown(self) -> str:
        if self.question.kind == "montant":
            return saisie.shown_amount(self.value)
        if self.value is None:
            return ""
        if isinstance(self.value, bool):
            return "on" if self.value else ""
        return str(self.value)

    @property
    def values(self) -> list[str]:
        return [str(v) for v in self.value] if isinstance(self.value, list) else []


def build_fields(step: Step, ctx: Context, issues: list[api.Issue], show_missing: bool) -> list[Field]:
    """Every question of the step, asked or not (a question not asked keeps its place on the page, empty,
    so that an answer that makes it apply can show it there)."""
    out = []
    for question in step.questions:
        if not in_questionnaire(question):
            continue
        path = question.at(ctx)
        f = Field(question, path, chemins.html_id(path), None, visible=question.visible(ctx))
        out.append(f)
        if not f.visible:
            continue
        value = ctx.get(path)
        f.value = question.defaut if value is None and question.defaut is not None else value
        f.choices = question.choices(ctx)
        f.issues = [i.message for i in issues if chemins.concerns(i.path, path)]
        if not show_missing and value is None:  # a question not answered yet is not reproached before the step is sent
            f.issues = []
        if question.kind == "secteur":
            sector = ctx.library.sectors.get(value) if isinstance(value, str) else None
            if sector is not None:
                f.meaning = f"{sector.libelle} : {sector_meaning(sector)}."
            elif isinstance(value, str) and value:
                _, ids = resolve_sector(value, ctx.library)
                f.candidates = [(sid, ctx.library.sectors[sid].libelle, sector_meaning(ctx.library.sectors[sid]))
                                for sid in ids]
                if ids:
                    f.issues = [f"plusieurs secteurs correspondent à « {value} » : choisissez-en un ci-dessous"]
    return out


def step_issues(step: Step, ctx: Context, issues: list[api.Issue], fields: list[Field]) -> list[api.Issue]:
    """Issues of this step that no shown field carries (a missing section, a question not asked)."""
    scopes = [s.format(i=ctx.lot) for s in step.scope]
    shown = [f.path for f in fields if f.visible]
    return [i for i in issues if any(chemins.concerns(i.path, s) or i.path == s for s in scopes)
            and not any(chemins.concerns(i.path, p) for p in shown)]


def step_of(issue_path: str) -> tuple[str, Optional[int]]:
    """Which step of the interview asks the value an issue is about."""
    parts = chemins.parse(issue_path)
    head = parts[0] if parts else ""
    if head == "lots":
        return "lot", parts[1] if len(parts) > 1 and isinstance(parts[1], int) else None
    if head in ("objectifs", "clauses"):
        return "objectifs", None
    if head in ("facilitateur", "territoire"):
        return "facilitateur", None
    if head in ("acheteur", "marche", "version", ""):
        return "marche", None
    return "plan", None  # considerations, justifications, parametres: the plan page
