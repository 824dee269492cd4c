"""The grid's format: its sheets, columns, lists and hidden metadata, shared by the writer and the reader.

One module so that the grid clausier writes (``monitoring.grid``) and the grid it reads back
years later (``monitoring.reading``) can never disagree on a column. ``FORMAT_VERSION`` is
written in the hidden « Clausier » sheet; grids of format 1, already in enterprises' hands,
are still read (``HOURS_HEADERS_V1``, ``HOURS_LAYOUT_V1``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

FORMAT_VERSION = 2           # of the hidden « Clausier » sheet; the reader refuses newer ones
# Format 2: no eligibility category on the enterprise's side (it can reveal health or criminal
# records: it stays with the facilitator), and the date of the attestation of an inclusive
# structure delivering hours as sub-contractor or co-contractor.
META_SHEET = "Clausier"
META_MARKER = "clausier-grille"
HOURS_SHEET, ACTIONS_SHEET, PLAN_SHEET = "Suivi heures", "Actions sociales", "Plan de progrès"
SUMMARY_SHEET, LISTS_SHEET = "Synthèse", "Listes"
MEASURED = ("insertion", "action_sociale", "plan_de_progres")  # what the grid counts; the rest is qualitative
INPUT_ROWS = 500
HOURS_MAX = 744              # hours in a 31-day month: more is a typing error
DATE_MIN, DATE_MAX = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
YEAR_MAX = 99
CONTRATS = ["CDI", "CDD", "CDDI", "Intérim (ETTI)", "Mise à disposition (AI)", "GEIQ", "Apprentissage",
            "Professionnalisation", "Sous-traitance SIAE/EA", "Autre"]
MODALITES = ["Embauche directe", "Mise à disposition", "Sous-traitance ou cotraitance", "Formation"]
ACTIONS = ["Visite de chantier ou de site", "Immersion (PMSMP)", "Formation", "Promotion des métiers en tension",
           "Stage ou alternance", "Autre action validée"]
AXES = [f"Axe {n}" for n in range(1, 9)]  # the CCAP names the axes; the grid only numbers them
HOURS_COLUMNS = [
    ("Identifiant pseudonymisé", 18), ("Lot", 7), ("Date de validation de l'éligibilité (facilitateur)", 14),
    ("Modalité", 24), ("Employeur juridique", 24), ("Attestation de la structure inclusive (date)", 14),
    ("Type de contrat", 20), ("Début du contrat", 12), ("Fin du contrat", 12), ("Code ROME", 10), ("Mois", 11),
    ("Heures travaillées", 11), ("Heures de formation", 11), ("Femme (O/N)", 8), ("Résident QPV (O/N)", 9),
]
# Column indexes of « Suivi heures », shared by the writer and the reader.
(H_ID, H_LOT, H_VALIDATION, H_MODALITE, H_EMPLOYEUR, H_ATTESTATION, H_CONTRAT, H_DEBUT, H_FIN, H_ROME, H_MOIS,
 H_HEURES, H_FORMATION, H_FEMME, H_QPV) = range(15)
SOUS_TRAITANCE = "Sous-traitance ou cotraitance"  # the modality whose hours an inclusive structure attests
# Grids of format 1, already in enterprises' hands, are still read: their headers, and where each
# column of today's layout sits in them (None: absent). Their category column is never read.
HOURS_HEADERS_V1 = ["Identifiant pseudonymisé", "Lot", "Catégorie d'éligibilité", "Date de validation (facilitateur)",
                    "Modalité", "Employeur juridique", "Type de contrat", "Début du contrat", "Fin du contrat",
                    "Code ROME", "Mois", "Heures travaillées", "Heures de formation", "Femme (O/N)",
                    "Résident QPV (O/N)"]
HOURS_LAYOUT_V1 = (0, 1, 3, 4, 5, None, 6, 7, 8, 9, 10, 11, 12, 13, 14)
ACTION_COLUMNS = [("Lot", 7, "input"), ("Type d'action", 32, "input"), ("Date", 12, "input_date"),
                  ("Participants", 12, "input_int"), ("Partenaire", 30, "input"), ("Commentaire", 40, "input")]
A_LOT, A_TYPE, A_DATE, A_PARTICIPANTS, A_PARTENAIRE, A_COMMENTAIRE = range(6)
PLAN_COLUMNS = [("Lot", 7, "input"), ("Année d'exécution (1, 2, 3…)", 11, "input_int"), ("Axe de progrès", 12, "input"),
                ("Action", 40, "input"), ("Indicateur", 30, "input"), ("Valeur de départ", 12, "input"),
                ("Cible", 12, "input"), ("Valeur atteinte", 12, "input"), ("Commentaire", 30, "input")]
P_LOT, P_ANNEE, P_AXE, P_ACTION, P_INDICATEUR, P_DEPART, P_CIBLE, P_ATTEINTE, P_COMMENTAIRE = range(9)
# Hidden helper columns, right after the input columns of each sheet.
H_CALC_HEURES, H_CALC_FORMATION, H_CALC_ID, H_CALC_PREMIERE = range(15, 19)
A_CALC_PARTICIPANTS = 6
P_CALC_ANNEE, P_CALC_PREMIERE = 9, 10
HELPER_HEADER = "Calcul (ne pas modifier)"
GRID_STEM = "grille-de-suivi"


def grid_name(reference: str) -> str:
    """The monitoring grid's file name: written by generate, looked for by consolidation (--marches)."""
    return f"{reference}_{GRID_STEM}.xlsx"
# kind -> (section title, its columns: (header, width) for the first section, which sets the widths; header alone after)
SECTION_HEADERS: dict[str, tuple[str, list[Any]]] = {
    "insertion": ("Clause sociale d'insertion", [("Lot", 7), ("Engagement (heures)", 14), ("Heures réalisées", 14),
                                                 ("dont formation", 12), ("Taux de réalisation", 12),
                                                 ("Heures restant dues", 14), ("Personnes", 11),
                                                 ("Pénalités potentielles", 16)]),
    "action_sociale": ("Clause d'action sociale", ["Lot", "Actions dues", "Actions réalisées", "Participants",
                                                   "Taux de réalisation", "Actions restant dues", "",
                                                   "Pénalités potentielles"]),
    "plan_de_progres": ("Plan de progrès", ["Lot", "Plans d'actions dus", "Plans d'actions produits", "",
                                            "Taux de réalisation", "Plans manquants", "", "Pénalités potentielles"]),
}
META_FIELDS = ("lot", "intitule", "type", "engagement", "unite", "penalite_unitaire", "heures_maximum",
               "heures_par_100k", "par_an", "synthese_ligne")
