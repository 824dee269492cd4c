"""Property-based tests on generated questionnaires (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drafting.decide.policy import build_plan
from drafting.intake.model import Questionnaire
from drafting.library import CONSIDERATION_TYPES, load_library

LIBRARY = load_library()
SECTORS = sorted(LIBRARY.sectors)
THEMES = ["metiers_en_tension", "decouverte_metiers", "illettrisme", "egalite_femmes_hommes",
          "lutte_discriminations", "amelioration_continue"]
choices = st.dictionaries(st.sampled_from(CONSIDERATION_TYPES), st.sampled_from(["auto", "oui", "non"]), max_size=4)
amounts = st.integers(min_value=0, max_value=50_000_000)


@st.composite
def questionnaires(draw):
    forme = draw(st.sampled_from(["ordinaire", "accord_cadre_bons_de_commande", "accord_cadre_marches_subsequents"]))
    lots = []
    for numero in range(1, draw(st.integers(1, 4)) + 1):
        lot = {"numero": numero, "intitule": f"Lot {numero}", "secteur": draw(st.sampled_from(SECTORS)),
               "considerations": draw(choices)}
        if forme == "ordinaire":
            lot["montant_estime_ht"] = draw(amounts)
        else:
            maximum = draw(amounts)
            lot["montant_maximum_ht"] = maximum
            if draw(st.booleans()):
                lot["montant_minimum_ht"] = draw(st.integers(0, maximum))
        if draw(st.booleans()):
            lot["sourcing"] = {"structures_inclusives": draw(st.integers(0, 60))}
        lots.append(lot)
    return {
        "version": 1,
        "acheteur": {"nom": "Acheteur", "type": draw(st.sampled_from(["etat", "collectivite", "region"]))},
        "marche": {"reference": "P-1", "objet": "Objet", "nature": draw(st.sampled_from(["travaux", "fournitures", "services"])),
                   "forme": forme, "attributaires": draw(st.sampled_from(["mono", "multi"])),
                   "duree_mois": draw(st.integers(1, 96)), "reconductions": draw(st.integers(0, 3)),
                   "date_notification_prevue": draw(st.sampled_from(["2026-06-01", "2026-12-15", "2028-01-01"]))},
        "territoire": {"heures_minimum": draw(st.integers(1, 300))},
        "objectifs": {"themes": draw(st.lists(st.sampled_from(THEMES), unique=True, max_size=3)),
                      "premier_essai_secteur": draw(st.booleans()), "objet_insertion": draw(st.booleans())},
        "considerations": draw(choices),
        "lots": lots,
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(questionnaires())
def test_plan_never_crashes_and_lists_seven_types_once(data):
    q = Questionnaire.model_validate(data)
    plan = build_plan(q, LIBRARY)
    as_json = plan.to_json()
    for lot, source in zip(as_json["lots"], q.lots):
        assert [c["type"] for c in lot["considerations"]] == list(CONSIDERATION_TYPES)
        for c in lot["considerations"]:
            assert c["raisons"]
            if source.choix(c["type"], q.considerations) == "non":
                assert c["statut"] != "retenue"
            if source.choix(c["type"], q.considerations) == "oui":
                assert c["statut"] == "retenue"
    assert as_json["decp"]["considerationsSociales"]


@settings(max_examples=100, deadline=None)
@given(questionnaires(), st.integers(1, 10_000_000))
def test_hours_grow_with_the_amount(data, extra):
    q = Questionnaire.model_validate(data)
    bigger = data | {"lots": [dict(lot) for lot in data["lots"]]}
    for lot in bigger["lots"]:
        for key in ("montant_estime_ht", "montant_maximum_ht"):
            if key in lot:
                lot[key] += extra
    before = build_plan(q, LIBRARY).lots
    after = build_plan(Questionnaire.model_validate(bigger), LIBRARY).lots
    for a, b in zip(before, after):
        da, db = a.decision("insertion"), b.decision("insertion")
        if da.heures is not None:
            assert db.heures >= da.heures
        if da.heures_maximum is not None:
            assert db.heures_maximum >= da.heures_maximum


HOSTILE = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30),
                    st.text(max_size=300), st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(questionnaires(), st.data())
def test_any_value_anywhere_gives_a_french_error_never_a_crash(data, draw):
    import json

    from drafting.errors import QuestionnaireError
    from drafting.intake.reader import parse_questionnaire

    paths = [p for p in _paths(data) if p]
    path = draw.draw(st.sampled_from(paths))
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = draw.draw(HOSTILE)
    raw = json.dumps(data, default=str).encode()
    try:
        loaded = parse_questionnaire(raw, "q.json", LIBRARY)
    except QuestionnaireError as exc:
        assert exc.issues and all(issue.message for issue in exc.issues)
        return
    build_plan(loaded.model, LIBRARY)
