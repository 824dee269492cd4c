"""The decision policy on small questionnaires written for each rule."""

from __future__ import annotations

import json

from cli import main
from drafting.decide.policy import build_plan
from drafting.intake.model import Questionnaire
from drafting.library import CONSIDERATION_TYPES
from tests.support import questionnaire


def plan_of(library, data):
    return build_plan(Questionnaire.model_validate(data), library)


def codes(lot_or_plan):
    return {w.code for w in lot_or_plan.avertissements}


def test_insertion_retained_with_hours_and_formula(library):
    lot = plan_of(library, questionnaire()).lots[0]
    decision = lot.decision("insertion")
    assert decision.statut == "retenue"
    assert decision.heures == 643  # 1 000 000 × 45 % × 5 % ÷ 35
    assert any("÷ 35,00" in r and "643" in r for r in decision.raisons)
    assert decision.clauses and decision.clauses[0]["id"] == "insertion/ccap"


def test_below_territory_minimum_sets_insertion_aside_and_falls_back(library):
    data = questionnaire()
    data["lots"][0]["montant_estime_ht"] = 50000  # 32 h < 70 h
    lot = plan_of(library, data).lots[0]
    assert lot.decision("insertion").statut == "ecartee"
    assert "insertion_non_adaptee" in codes(lot)
    assert lot.decision("action_sociale").statut == "retenue"
    assert "exception" in lot.decision("action_sociale").raisons[0].lower()


def test_no_labour_on_site_raises_lien_objet_and_retains_nothing(library):
    data = questionnaire(**{"marche.nature": "fournitures"})
    data["lots"][0]["secteur"] = "fournitures"
    lot = plan_of(library, data).lots[0]
    assert "lien_objet" in codes(lot)
    assert all(d.statut != "retenue" for d in lot.decisions)


def test_framework_without_minimum_uses_maximum_and_warns(library):
    data = questionnaire(**{"marche.forme": "accord_cadre_bons_de_commande"})
    data["lots"][0] = {"numero": 1, "intitule": "Nettoyage", "secteur": "nettoyage", "montant_maximum_ht": 400000}
    lot = plan_of(library, data).lots[0]
    decision = lot.decision("insertion")
    assert decision.statut == "retenue"
    assert decision.heures is None and decision.heures_maximum == 696 and decision.heures_par_100k == 173.9
    assert "accord_cadre_sans_minimum" in codes(lot)


def test_object_is_insertion(library):
    lot = plan_of(library, questionnaire(**{"objectifs.objet_insertion": True})).lots[0]
    assert lot.decision("insertion_qualification").statut == "retenue"
    assert lot.decision("insertion").statut == "ecartee"
    assert lot.decision("marche_reserve").statut == "ecartee"


def test_buyer_override_wins_and_is_recorded_without_silencing_warnings(library):
    data = questionnaire(**{"considerations": {"insertion": "oui"}})
    data["lots"][0]["montant_estime_ht"] = 50000
    lot = plan_of(library, data).lots[0]
    assert lot.decision("insertion").statut == "retenue"
    assert "Imposée par l'acheteur" in lot.decision("insertion").raisons[0]
    assert "insertion_non_adaptee" in codes(lot)
    data["lots"][0]["considerations"] = {"insertion": "non"}
    lot = plan_of(library, data).lots[0]
    assert lot.decision("insertion").statut == "ecartee"
    assert "Écartée par l'acheteur" in lot.decision("insertion").raisons[0]


def test_missing_facilitator_is_a_market_warning(library):
    data = questionnaire()
    del data["facilitateur"]
    plan = plan_of(library, data)
    assert "facilitateur_absent" in codes(plan)


def test_reservation_from_sourcing_sets_insertion_aside(library):
    data = questionnaire()
    data["lots"][0].update(secteur="espaces_verts", montant_estime_ht=300000, sourcing={"structures_inclusives": 12})
    lot = plan_of(library, data).lots[0]
    assert lot.decision("marche_reserve").statut == "retenue"
    assert lot.decision("insertion").statut == "ecartee"


def test_mandatory_social_condition_above_eu_threshold(library):
    data = questionnaire(**{"marche.nature": "services", "considerations": {"insertion": "non", "action_sociale": "non"},
                            "marche.date_notification_prevue": "2026-09-01"})
    data["lots"][0].update(secteur="nettoyage", montant_estime_ht=900000)
    plan = plan_of(library, data)
    assert "condition_sociale_obligatoire" in codes(plan)
    data["justifications"] = {"exception_condition_sociale": "Solution immédiatement disponible sur le marché."}
    assert "condition_sociale_obligatoire" not in codes(plan_of(library, data))
    data["marche"]["date_notification_prevue"] = "2026-08-21"
    data["justifications"] = {}
    assert "condition_sociale_obligatoire" not in codes(plan_of(library, data))


def test_decp_values(library):
    assert plan_of(library, questionnaire()).decp == ["Clause sociale"]
    data = questionnaire(**{"considerations": {t: "non" for t in CONSIDERATION_TYPES}})
    assert plan_of(library, data).decp == ["Pas de considération sociale"]


def test_plan_json_contract(runner, write_q):
    result = runner.invoke(main, ["plan", str(write_q(questionnaire())), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["marche"]["reference"] == "2026-T-001"
    assert data["bibliotheque"]["version"]
    for lot in data["lots"]:
        assert [c["type"] for c in lot["considerations"]] == list(CONSIDERATION_TYPES)
        for c in lot["considerations"]:
            assert c["statut"] in ("retenue", "a_etudier", "ecartee")
            assert c["raisons"] and all(isinstance(r, str) and r for r in c["raisons"])
        insertion = lot["considerations"][0]
        assert isinstance(insertion["heures"], int)
        assert set(insertion["calcul"]) >= {"montant_ht", "part_main_oeuvre", "taux_insertion", "cout_horaire"}
    assert data["decp"] == {"considerationsSociales": ["Clause sociale"]}


def test_plan_text_reads_like_advice(runner):
    from tests.support import EXAMPLES

    result = runner.invoke(main, ["plan", str(EXAMPLES / "example-ecole.yaml")])
    assert result.exit_code == 0
    text = result.stdout
    assert "Lot n° 1 — Gros œuvre" in text and "Retenu :" in text and "Écarté :" in text
    assert "964 heures" in text and "1 500 000,00 € HT × 45 %" in text
    assert "[insertion_non_adaptee]" in text


def test_override_quotes_the_buyers_reason_from_its_own_level(library):
    data = questionnaire()
    data["lots"][0]["considerations"] = {"insertion": "non"}
    data["lots"][0]["justifications"] = {"insertion": "Lot confié à une régie de quartier."}
    data["justifications"] = {"insertion": "Motif du marché, qui ne vaut pas pour le lot."}
    first = plan_of(library, data).lots[0].decision("insertion").raisons[0]
    assert first == ("Écartée par l'acheteur (considerations.insertion : non), "
                     "motif : « Lot confié à une régie de quartier. ».")
    del data["lots"][0]["considerations"], data["lots"][0]["justifications"]
    data["considerations"] = {"insertion": "non"}
    assert "Motif du marché" in plan_of(library, data).lots[0].decision("insertion").raisons[0]
    data["justifications"] = {}
    assert plan_of(library, data).lots[0].decision("insertion").raisons[0].endswith("(considerations.insertion : non).")
