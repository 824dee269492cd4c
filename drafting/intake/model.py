"""The questionnaire, version 1, as a validated model (the public contract).

Keys are French because buyers write them. Every class forbids unknown keys so
that a typo is an error, never a silently ignored answer. Messages of the custom
validators are French: they reach the buyer as they are.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Optional, Union, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

QUESTIONNAIRE_VERSION = 1

TypeAcheteur = Literal[
    "etat", "collectivite", "epci", "departement", "region",
    "etablissement_sante", "bailleur_social", "autre",
]
Nature = Literal["travaux", "fournitures", "services"]
Procedure = Literal[
    "mapa", "appel_offres_ouvert", "appel_offres_restreint",
    "procedure_negociee", "dialogue_competitif", "sans_publicite",
]
Forme = Literal["ordinaire", "accord_cadre_bons_de_commande", "accord_cadre_marches_subsequents"]
Attributaires = Literal["mono", "multi"]
Ccag = Literal["travaux", "fcs", "tic", "pi", "moe", "mi", "aucun"]
Theme = Literal[
    "metiers_en_tension", "decouverte_metiers", "illettrisme",
    "egalite_femmes_hommes", "lutte_discriminations", "amelioration_continue",
]

_AMOUNT_EXACT = re.compile(
    r"(?P<int>\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:[.,](?P<dec>\d{1,2}))?"
    r"\s*(?:€|EUR|euros?)?\s*(?:HT|H\.T\.)?", re.IGNORECASE)
MONTANT_MAX = 100_000_000_000
MAX_LOTS_QUESTIONNAIRE = 500
REFERENCE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def parse_amount(value: Any) -> Any:
    """Accept "1 500 000 €" or "1500000,50" exactly; never guess "1.500" or "1,500"."""
    if isinstance(value, bool):
        raise PydanticCustomError("montant", "un montant en euros est attendu, pas un booléen")
    if isinstance(value, str):
        match = _AMOUNT_EXACT.fullmatch(value.strip())
        if not match:
            raise PydanticCustomError(
                "montant",
                "montant illisible « {valeur} » : écrivez un nombre d'euros HT, par exemple 1500000 ou « 1 500 000,00 € »",
                {"valeur": value},
            )
        digits = re.sub(r"\D", "", match.group("int"))
        return float(f"{digits}.{match.group('dec') or 0}")
    return value


def parse_date(value: Any) -> Any:
    """YAML gives dates; JSON gives ISO strings. Both end as ``datetime.date``."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise PydanticCustomError(
        "date", "date invalide « {valeur} » : écrivez-la AAAA-MM-JJ, par exemple 2026-12-15", {"valeur": value}
    )


def parse_choice(value: Any) -> Any:
    """YAML reads an unquoted yes/no as a boolean: take it as the buyer's oui/non."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    return value


def parse_flag(value: Any) -> Any:
    """Buyers write oui/non as often as true/false: both are exact, so both are accepted."""
    if isinstance(value, str) and value.strip().lower() in ("oui", "non"):
        return value.strip().lower() == "oui"
    return value


def parse_departement(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 989:
        return f"{value:02d}"
    return value


def check_reference(value: Any) -> Any:
    """The reference names folders and files: refuse anything that could escape them."""
    if isinstance(value, str) and not REFERENCE_PATTERN.fullmatch(value):
        raise PydanticCustomError(
            "reference",
            "référence « {valeur} » non admise : elle nomme les fichiers produits, utilisez seulement "
            "lettres, chiffres, « . », « _ » et « - » (64 caractères au plus, sans point initial), "
            "par exemple 2026-TRV-014",
            {"valeur": value},
        )
    return value


Action = Literal["visite_chantier", "immersion_pmsmp", "formation", "promotion_metiers_tension",
                 "stage_alternance", "parrainage"]
# The JSON Schema says what the loader accepts, tolerances included, so editors do not flag them.
Choix = Annotated[Literal["auto", "oui", "non"], BeforeValidator(parse_choice),
                  WithJsonSchema({"anyOf": [{"enum": ["auto", "oui", "non"]}, {"type": "boolean"}], "default": "auto"})]
Montant = Annotated[float, BeforeValidator(parse_amount), Field(ge=0, le=MONTANT_MAX),
                    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0, "maximum": MONTANT_MAX},
                                              {"type": "string", "pattern": _AMOUNT_EXACT.pattern}],
                                    "description": "Montant en euros HT, par exemple 1500000 ou « 1 500 000,00 € »"})]
Fraction = Annotated[float, Field(gt=0, le=1)]
DateISO = Annotated[dt.date, BeforeValidator(parse_date),
                    WithJsonSchema({"type": "string", "format": "date", "description": "Date AAAA-MM-JJ"})]
Drapeau = Annotated[bool, BeforeValidator(parse_flag),
                    WithJsonSchema({"anyOf": [{"type": "boolean"}, {"enum": ["oui", "non"]}]})]
Texte = Annotated[str, Field(min_length=1, max_length=500)]


class Strict(BaseModel):
    """Unknown keys are errors; values are never coerced across types."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False,
                              str_strip_whitespace=True)


class Acheteur(Strict):
    nom: Texte
    type: TypeAcheteur
    departement: Annotated[Optional[Annotated[str, Field(pattern=r"^(\d{2,3}|2[AB])$")]], BeforeValidator(parse_departement)] = None


class Facilitateur(Strict):
    structure: Texte
    contact: Optional[Texte] = None
    courriel: Optional[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = None
    telephone: Optional[Texte] = None


class Marche(Strict):
    reference: Annotated[str, BeforeValidator(check_reference)]
    objet: Texte
    nature: Nature
    procedure: Optional[Procedure] = None
    forme: Forme = "ordinaire"
    attributaires: Attributaires = "mono"
    ccag: Optional[Ccag] = None
    date_notification_prevue: Optional[DateISO] = None
    # extension: the day the consultation is launched (notice sent for publication, or consultation
    # engaged): the law that applies to the procedure is the law of that day
    date_lancement: Optional[DateISO] = None
    defense_ou_securite: Drapeau = False  # extension: a defence or security contract (CCP, part 2, book III)
    duree_mois: Optional[Annotated[int, Field(gt=0, le=600)]] = None
    reconductions: Annotated[int, Field(ge=0, le=50)] = 0
    duree_reconduction_mois: Annotated[int, Field(gt=0, le=600)] = 12

    @property
    def est_accord_cadre(self) -> bool:
        return self.forme != "ordinaire"

    @property
    def ccag_effectif(self) -> str:
        """The CCAG the buyer named, else the one its nature usually takes."""
        if self.ccag:
            return self.ccag
        return "travaux" if self.nature == "travaux" else "fcs"

    @property
    def duree_totale_mois(self) -> Optional[int]:
        if self.duree_mois is None:
            return None
        return self.duree_mois + self.reconductions * self.duree_reconduction_mois


class Territoire(Strict):
    heures_minimum: Optional[Annotated[float, Field(gt=0, le=10000)]] = None


class Objectifs(Strict):
    themes: list[Theme] = []
    actions_envisagees: list[Action] = []  # extension: the qualitative actions the buyer has in mind
    premier_essai_secteur: Drapeau = False
    objet_insertion: Drapeau = False


class Parametres(Strict):
    taux_insertion: Optional[Fraction] = None
    cout_horaire: Optional[Annotated[float, Field(gt=0, le=1000)]] = None
    part_main_oeuvre: Optional[Fraction] = None
    penalite_horaire: Optional[Annotated[float, Field(ge=0, le=10000)]] = None


class Considerations(Strict):
    insertion: Choix = "auto"
    action_sociale: Choix = "auto"
    marche_reserve: Choix = "auto"
    insertion_qualification: Choix = "auto"
    illettrisme: Choix = "auto"
    egalite_diversite: Choix = "auto"
    plan_de_progres: Choix = "auto"


Motif = Optional[Annotated[str, Field(min_length=1, max_length=2000)]]


class Motifs(Strict):
    """Extension: why the buyer overrode the default advice on a type (quoted in the plan and the note)."""

    insertion: Motif = None
    action_sociale: Motif = None
    marche_reserve: Motif = None
    insertion_qualification: Motif = None
    illettrisme: Motif = None
    egalite_diversite: Motif = None
    plan_de_progres: Motif = None


class Justifications(Motifs):
    exception_condition_sociale: Annotated[str, Field(max_length=4000)] = ""


class Sourcing(Strict):
    structures_inclusives: Optional[Annotated[int, Field(ge=0, le=100000)]] = None


ArticleReservation = Literal["L2113-12", "L2113-13", "L2113-12_13", "L2113-13-1", "L2113-15"]
Ponderation = Annotated[int, Field(ge=1, le=100)]


class ClauseActionSociale(Strict):
    """Extension: which qualitative actions, imposed or N among M."""

    actions: Optional[Annotated[list[Action], Field(min_length=1, max_length=6)]] = None
    mode: Literal["imposees", "au_choix"] = "au_choix"
    nombre: Optional[Annotated[int, Field(ge=1, le=6)]] = None
    realisations_par_an: Optional[Annotated[int, Field(ge=1, le=52)]] = None


class ClauseReservation(Strict):
    """Extension: the article the reservation rests on (the notice and the RC cite it).

    No default: the basis is the buyer's choice, and a reservation without one is drafted
    with a zone to complete and listed in the plan as a choice still due.
    """

    article: Optional[ArticleReservation] = None
    tout_le_marche: Drapeau = False
    sous_traitance_accessoire_max: Optional[Fraction] = None  # accessory services sub-contracted outside the reservation


class ClauseInsertion(Strict):
    """Extension: the insertion clause's local conventions."""

    plafond_formation: Optional[Fraction] = None  # share of a lot's hours that training hours may cover


class ClauseIllettrisme(Strict):
    """Extension: the local contact the enterprise works with (centre ressources illettrisme…)."""

    interlocuteur: Optional[Annotated[str, Field(min_length=1, max_length=500)]] = None


class ClauseEgalite(Strict):
    """Extension: discovery actions per year open in particular to women (engagement 3)."""

    actions_decouverte_par_an: Optional[Annotated[int, Field(ge=1, le=52)]] = None


class QualificationLot(Strict):
    """Extension: posts, FTE and supervisors of one lot of an insertion market."""

    postes: Optional[Annotated[int, Field(ge=1, le=10000)]] = None
    etp: Optional[Annotated[float, Field(gt=0, le=10000)]] = None
    encadrants: Optional[Annotated[int, Field(ge=1, le=1000)]] = None


Frequence = Literal["hebdomadaire", "bimensuelle", "mensuelle", "trimestrielle", "semestrielle", "annuelle"]


class ClauseQualification(QualificationLot):
    """Extension: figures of a market whose object is insertion; totals when given here."""

    support: Optional[Texte] = None
    heures_hebdomadaires_min: Optional[Annotated[float, Field(gt=0, le=48)]] = None  # for a post to count as filled
    delai_remplacement_jours: Optional[Annotated[int, Field(ge=1, le=365)]] = None
    frequence_entretiens: Optional[Frequence] = None
    heures_formation_par_an: Optional[Annotated[int, Field(ge=1, le=1607)]] = None
    frequence_comite: Optional[Frequence] = None


class Clauses(Strict):
    """Extension: details of the retained clauses; every key optional, library defaults otherwise."""

    insertion: ClauseInsertion = ClauseInsertion()
    action_sociale: Optional[ClauseActionSociale] = None
    marche_reserve: ClauseReservation = ClauseReservation()
    insertion_qualification: ClauseQualification = ClauseQualification()
    illettrisme: ClauseIllettrisme = ClauseIllettrisme()
    egalite_diversite: ClauseEgalite = ClauseEgalite()


class Criteres(Strict):
    """Extension: award criteria clausier writes, as weights in per cent of the total.

    ``insertion`` present means the consultation has an award criterion on professional
    insertion performance (R2152-7, 2°, a); the others weight the criteria table of an
    insertion-and-qualification market, the environmental one included (L2152-7).
    """

    insertion: Optional[Ponderation] = None
    environnement: Optional[Ponderation] = None
    prix: Optional[Ponderation] = None
    valeur_technique: Optional[Ponderation] = None
    projet_insertion: Optional[Ponderation] = None


class Lot(Strict):
    numero: Annotated[int, Field(ge=1, le=9999)]
    intitule: Texte
    secteur: Texte
    cpv: Optional[Annotated[str, Field(pattern=r"^\d{8}(-\d)?$")]] = None
    montant_estime_ht: Optional[Montant] = None
    montant_minimum_ht: Optional[Montant] = None
    montant_maximum_ht: Optional[Montant] = None
    sourcing: Sourcing = Sourcing()
    parametres: Parametres = Parametres()
    considerations: Considerations = Considerations()
    qualification: QualificationLot = QualificationLot()  # extension: insertion_qualification figures of this lot
    procedure: Optional[Procedure] = None  # extension: this lot's procedure when it differs (small lots, R2123-1 2°)
    justifications: Motifs = Motifs()  # extension: why this lot's considerations were overridden

    def choix(self, type_: str, marche: Considerations) -> str:
        """The buyer's word on one type: the lot's wins over the market's."""
        if type_ in self.considerations.model_fields_set:
            return getattr(self.considerations, type_)
        return getattr(marche, type_)

    def motif(self, type_: str, marche: Motifs) -> Optional[str]:
        """The buyer's reason for that word, from the same level as the word itself."""
        if type_ in self.considerations.model_fields_set:
            return getattr(self.justifications, type_)
        return getattr(marche, type_)


class Questionnaire(Strict):
    version: Literal[1]
    acheteur: Acheteur
    facilitateur: Optional[Facilitateur] = None
    marche: Marche
    territoire: Territoire = Territoire()
    objectifs: Objectifs = Objectifs()
    parametres: Parametres = Parametres()
    considerations: Considerations = Considerations()
    justifications: Justifications = Justifications()
    clauses: Clauses = Clauses()
    criteres: Criteres = Criteres()
    lots: Annotated[list[Lot], Field(min_length=1, max_length=MAX_LOTS_QUESTIONNAIRE)]


# A place in a questionnaire: ("lots", 0, "montant_estime_ht") is lots[0].montant_estime_ht.
Path_ = tuple[Union[str, int], ...]
# Where a value sits in its file: a YAML line, or a workbook cell (« Lots!E4 »).
Location = Union[int, str]


@dataclass(frozen=True)
class LoadedQuestionnaire:
    """The model plus what the manifest needs to prove which input was used."""

    model: Questionnaire
    source: str
    sha256: str


def dotted(path: Path_) -> str:
    """The path as the buyer reads it in messages and web forms name their fields: lots[0].montant_estime_ht."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def model_at(path: Path_) -> tuple[bool, Any]:
    """(whether every key of ``path`` is a field of the questionnaire, the model class reached or None for a value).

    List indexes are skipped: ``("lots", 0, "sourcing")`` reaches the lot's Sourcing model. The one walk of the
    model by path: suggesting the right key in a message and knowing whether a form's question exists both use it.
    """
    model: Any = Questionnaire
    for part in path:
        if isinstance(part, int):
            continue
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return False, None
        model = _model_in(fields[part].annotation)
    return True, model


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
