"""The three input sheets of a grid (hours, social actions, plan-de-progrès), read row by row.

Each reader applies the same rule as the hidden helper column the « Synthèse » sums, so the
consolidated figure and the one the enterprise sees in its grid are always the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from drafting.monitoring.checks import (
    IGNORED,
    MAX_PARTICIPANTS,
    ROME,
    Reader,
    address,
    cell_at,
    date_check,
    hours_value,
    identifier,
    in_list,
    lot_of,
    shown,
    text_of,
    yes_no,
)
from drafting.monitoring.figures import OTHER_CONTRACT, Indicators, say_number
from drafting.monitoring.grid_format import (
    A_DATE,
    A_LOT,
    A_PARTICIPANTS,
    A_TYPE,
    ACTION_COLUMNS,
    ACTIONS_SHEET,
    CONTRATS,
    FORMAT_VERSION,
    H_ATTESTATION,
    H_CONTRAT,
    H_DEBUT,
    H_EMPLOYEUR,
    H_FEMME,
    H_FIN,
    H_FORMATION,
    H_HEURES,
    H_ID,
    H_LOT,
    H_MODALITE,
    H_MOIS,
    H_QPV,
    H_ROME,
    H_VALIDATION,
    HOURS_COLUMNS,
    HOURS_HEADERS_V1,
    HOURS_LAYOUT_V1,
    HOURS_SHEET,
    P_ACTION,
    P_ANNEE,
    P_AXE,
    P_CIBLE,
    P_INDICATEUR,
    P_LOT,
    PLAN_COLUMNS,
    PLAN_SHEET,
    SOUS_TRAITANCE,
    YEAR_MAX,
)


@dataclass
class Person:
    femme: set[str] = field(default_factory=set)
    qpv: set[str] = field(default_factory=set)
    contrats: set[str] = field(default_factory=set)


@dataclass
class Hours:
    worked: dict[int, float] = field(default_factory=dict)
    training: dict[int, float] = field(default_factory=dict)
    people: dict[int, set[str]] = field(default_factory=dict)
    persons: dict[str, Person] = field(default_factory=dict)
    attested: dict[int, float] = field(default_factory=dict)  # hours of the sub-contracting or co-contracting modality

    def indicators(self, contrats: set[str]) -> Indicators:
        """Per-person figures; a contract type outside the drop-down is « Autre (hors liste) », never its text.

        Only the built-in types keep their name: a free text (a name, a note) must not become a column of
        the buyer's report or a key of its JSON.
        """
        named = contrats & set(CONTRATS)
        out = Indicators(beneficiaires=len(self.persons), heures_travaillees=sum(self.worked.values()),
                         heures_formation=sum(self.training.values()),
                         heures_structures_inclusives=sum(self.attested.values()))
        for person in self.persons.values():
            out.femmes += "O" in person.femme
            out.sexe_non_renseigne += not person.femme
            out.residents_qpv += "O" in person.qpv
            out.qpv_non_renseigne += not person.qpv
            for contrat in {c if c in named else OTHER_CONTRACT for c in person.contrats}:
                out.types_contrat[contrat] = out.types_contrat.get(contrat, 0) + 1
        out.types_contrat = dict(sorted(out.types_contrat.items()))
        return out


def _physical(layout: tuple[Optional[int], ...], col: int) -> int:
    """Where today's column ``col`` sits in the sheet; a column the format lacks is named as today's."""
    found = layout[col]
    return found if found is not None else col


def _hours_layout(version: int) -> tuple[list[str], tuple[Optional[int], ...]]:
    """Headers of « Suivi heures » and where each of today's columns sits, for a grid's format."""
    if version < 2:
        return HOURS_HEADERS_V1, HOURS_LAYOUT_V1
    return [name for name, _ in HOURS_COLUMNS], tuple(range(len(HOURS_COLUMNS)))


def read_hours(wb: Any, reader: Reader, lots: set[int], lists: dict[str, set[str]], version: int = FORMAT_VERSION) -> Hours:
    sheet, out = HOURS_SHEET, Hours()
    seen_months: dict[tuple, int] = {}
    headers, layout = _hours_layout(version)
    for n, physical in reader.rows(wb, sheet, len(headers), headers):
        # today's column order, whatever the format; a column the format lacks reads as empty
        row = tuple(None if col is None else cell_at(physical, col) for col in layout)
        ref = lambda col, n=n: address(_physical(layout, col), n)  # noqa: E731
        key = identifier(reader, row[H_ID], sheet, ref(H_ID))
        lot = lot_of(reader, row[H_LOT], lots, sheet, ref(H_LOT), "clause d'insertion")
        if key is None and row[H_ID] is None:
            reader.problems.add(sheet, ref(H_ID), "identifiant pseudonymisé manquant : ligne non comptée")
        if key is None or lot is None:
            continue
        worked = hours_value(reader, row[H_HEURES], sheet, ref(H_HEURES), "heures travaillées")
        training = hours_value(reader, row[H_FORMATION], sheet, ref(H_FORMATION), "heures de formation")
        if row[H_HEURES] is None and row[H_FORMATION] is None:
            reader.problems.add(sheet, ref(H_HEURES), "aucune heure saisie sur la ligne")
        out.worked[lot] = out.worked.get(lot, 0.0) + worked
        out.training[lot] = out.training.get(lot, 0.0) + training
        out.people.setdefault(lot, set()).add(key)
        person = out.persons.setdefault(key, Person())
        date_check(reader, row[H_VALIDATION], sheet, ref(H_VALIDATION), "date de validation par le facilitateur", True)
        modalite = in_list(reader, row[H_MODALITE], lists["modalites"], sheet, ref(H_MODALITE), "modalité", feminine=True)
        if modalite == SOUS_TRAITANCE:
            out.attested[lot] = out.attested.get(lot, 0.0) + worked
            if version >= 2 and date_check(reader, row[H_ATTESTATION], sheet, ref(H_ATTESTATION),
                                            "date de l'attestation de la structure") is None:
                reader.problems.add(sheet, ref(H_ATTESTATION), "heures réalisées en sous-traitance ou cotraitance sans "
                                                               "date d'attestation de la structure : comptées, à justifier")
            if text_of(row[H_EMPLOYEUR]) is None:
                reader.problems.add(sheet, ref(H_EMPLOYEUR), "structure sous-traitante ou cotraitante non nommée "
                                                             "(employeur juridique)")
        contrat = in_list(reader, row[H_CONTRAT], lists["contrats"], sheet, ref(H_CONTRAT), "type de contrat")
        if contrat:
            person.contrats.add(contrat)
        start = date_check(reader, row[H_DEBUT], sheet, ref(H_DEBUT), "date de début du contrat")
        end = date_check(reader, row[H_FIN], sheet, ref(H_FIN), "date de fin du contrat")
        if start and end and end < start:
            reader.problems.add(sheet, ref(H_FIN), "fin du contrat antérieure à son début")
        rome = row[H_ROME]
        if rome not in (None, IGNORED) and not ROME.match(str(rome).strip().upper()):
            reader.problems.add(sheet, ref(H_ROME), "code ROME invalide (une lettre et quatre chiffres, ex. F1703)")
        month = date_check(reader, row[H_MOIS], sheet, ref(H_MOIS), "mois", True)
        if month:
            slot = (key, lot, month.year, month.month)
            if slot in seen_months:
                reader.problems.add(sheet, ref(H_MOIS), f"même personne, même lot et même mois que la ligne "
                                                        f"{seen_months[slot]} : vérifiez qu'il ne s'agit pas d'un doublon")
            seen_months.setdefault(slot, n)
        for col, target in ((H_FEMME, person.femme), (H_QPV, person.qpv)):
            answer = yes_no(row[col])
            if answer == "?":
                reader.problems.add(sheet, ref(col), "réponse non reconnue : répondez O ou N")
            elif answer:
                target.add(answer)
    return out


@dataclass
class Actions:
    done: dict[int, int] = field(default_factory=dict)
    participants: dict[int, float] = field(default_factory=dict)


def read_actions(wb: Any, reader: Reader, lots: set[int], lists: dict[str, set[str]]) -> Actions:
    sheet, out = ACTIONS_SHEET, Actions()
    for n, row in reader.rows(wb, sheet, len(ACTION_COLUMNS)):
        ref = lambda col, n=n: address(col, n)  # noqa: E731
        lot = lot_of(reader, row[A_LOT], lots, sheet, ref(A_LOT), "clause d'action sociale")
        day = date_check(reader, row[A_DATE], sheet, ref(A_DATE), "date de l'action", True)
        people = row[A_PARTICIPANTS]
        count = reader.number(people) if people is not IGNORED else None
        if people is None:
            reader.problems.add(sheet, ref(A_PARTICIPANTS), "nombre de participants manquant : action non comptée")
        elif people is not IGNORED and count is None:
            reader.problems.add(sheet, ref(A_PARTICIPANTS), "pas un nombre de participants : action non comptée")
        elif count is not None and count < 1:
            reader.problems.add(sheet, ref(A_PARTICIPANTS), "aucun participant : action non comptée")
        elif count is not None and count > MAX_PARTICIPANTS:
            reader.problems.add(sheet, ref(A_PARTICIPANTS), f"plus de {say_number(MAX_PARTICIPANTS)} participants "
                                                            f"({say_number(count)}) : erreur de saisie ? action non comptée")
            count = None
        elif count is not None and count != int(count):
            reader.problems.add(sheet, ref(A_PARTICIPANTS), "nombre de participants non entier")
        in_list(reader, row[A_TYPE], lists["actions"], sheet, ref(A_TYPE), "type d'action", True)
        if lot is None or day is None or count is None or count < 1:
            continue
        out.done[lot] = out.done.get(lot, 0) + 1
        out.participants[lot] = out.participants.get(lot, 0.0) + count
    return out


@dataclass
class Plans:
    years: dict[int, set[int]] = field(default_factory=dict)


def read_plans(wb: Any, reader: Reader, lots: set[int], lists: dict[str, set[str]]) -> Plans:
    sheet, out = PLAN_SHEET, Plans()
    for n, row in reader.rows(wb, sheet, len(PLAN_COLUMNS)):
        ref = lambda col, n=n: address(col, n)  # noqa: E731
        lot = lot_of(reader, row[P_LOT], lots, sheet, ref(P_LOT), "plan de progrès")
        year_value = row[P_ANNEE]
        year = reader.number(year_value) if year_value not in (None, IGNORED) else None
        if year_value is None:
            reader.problems.add(sheet, ref(P_ANNEE), "année d'exécution manquante : ligne non comptée")
        elif year_value is not IGNORED and (year is None or not 1 <= year <= YEAR_MAX or year != int(year)):
            reader.problems.add(sheet, ref(P_ANNEE), f"année d'exécution{shown(year_value)} invalide (1, 2, 3…) : ligne non comptée")
            year = None
        missing = [name for col, name in ((P_ACTION, "l'action"), (P_INDICATEUR, "l'indicateur"), (P_CIBLE, "la cible"))
                   if text_of(row[col]) is None]
        if missing:
            names = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} et {missing[-1]}"
            verb = "manque" if len(missing) == 1 else "manquent"
            reader.problems.add(sheet, ref(P_ACTION), f"ligne incomplète ({names} {verb}) : non comptée")
        in_list(reader, row[P_AXE], lists["axes"], sheet, ref(P_AXE), "axe de progrès", True)
        if lot is None or year is None or missing:
            continue
        out.years.setdefault(lot, set()).add(int(year))
    return out
