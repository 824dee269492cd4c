"""One test per step of spec/decisions.md not covered in test_decisions.py, and per warning."""

from __future__ import annotations

from drafting.decide.policy import build_plan
from drafting.intake.model import Questionnaire
from tests.support import questionnaire


def lot0(library, data):
    return build_plan(Questionnaire.model_validate(data), library).lots[0]


def codes(lot):
    return {w.code for w in lot.avertissements}


def statut(lot, type_):
    return lot.decision(type_).statut


def test_step5_first_try_in_a_sector(library):
    lot = lot0(library, questionnaire(**{"objectifs.premier_essai_secteur": True}))
    assert statut(lot, "insertion") == "a_etudier"
    assert lot.decision("insertion").heures == 643  # still computed: the potential for the renewal
    assert statut(lot, "action_sociale") == "retenue"
    assert "premier essai" in lot.decision("action_sociale").raisons[0]


def test_step5_unsuited_trades_fall_back_to_a_qualitative_action(library):
    data = questionnaire(**{"marche.nature": "services"})
    data["lots"][0]["secteur"] = "informatique"
    lot = lot0(library, data)
    assert statut(lot, "insertion") == "ecartee"
    assert statut(lot, "action_sociale") == "retenue"
    assert not codes(lot)


def test_step6_themes_retain_their_clause_beside_insertion(library):
    data = questionnaire(**{"objectifs.themes": ["illettrisme", "egalite_femmes_hommes", "metiers_en_tension"]})
    lot = lot0(library, data)
    assert [statut(lot, t) for t in ("insertion", "illettrisme", "egalite_diversite", "action_sociale")] == ["retenue"] * 4
    assert "complementarite" not in codes(lot)


def test_step6_theme_without_insertion_is_to_study_with_complementarite(library):
    data = questionnaire(**{"objectifs.themes": ["illettrisme"], "considerations": {"insertion": "non"}})
    lot = lot0(library, data)
    assert statut(lot, "illettrisme") == "a_etudier"
    assert "complementarite" in codes(lot)


def test_step6_forced_diversification_alone_is_retained_with_complementarite(library):
    data = questionnaire(**{"considerations": {"insertion": "non", "egalite_diversite": "oui"}})
    lot = lot0(library, data)
    assert statut(lot, "egalite_diversite") == "retenue"
    assert "complementarite" in codes(lot)


def test_step6_without_theme_sector_and_size_make_them_to_study(library):
    lot = lot0(library, questionnaire(**{"marche.duree_mois": 48}))
    assert statut(lot, "illettrisme") == "a_etudier"          # low-qualification trades over 12 months
    assert statut(lot, "egalite_diversite") == "a_etudier"    # gender-segregated trades
    assert statut(lot, "plan_de_progres") == "a_etudier"      # over 36 months
    short = lot0(library, questionnaire(**{"marche.duree_mois": 10}))
    assert statut(short, "illettrisme") == "ecartee"


def test_step7_plan_de_progres_unsuited(library):
    data = questionnaire(**{"objectifs.themes": ["amelioration_continue"], "marche.duree_mois": 12})
    lot = lot0(library, data)
    assert statut(lot, "plan_de_progres") == "ecartee" and "plan_de_progres_inadapte" in codes(lot)
    data["considerations"] = {"plan_de_progres": "oui"}
    lot = lot0(library, data)
    assert statut(lot, "plan_de_progres") == "retenue" and "plan_de_progres_inadapte" in codes(lot)
    data = questionnaire(**{"objectifs.themes": ["amelioration_continue"], "marche.duree_mois": 48})
    assert statut(lot0(library, data), "plan_de_progres") == "retenue"


def test_step4_reservation_thresholds_and_volume(library):
    data = questionnaire(**{"marche.nature": "services"})
    data["lots"][0].update(secteur="nettoyage", montant_estime_ht=200000, sourcing={"structures_inclusives": 31})
    lot = lot0(library, data)
    assert statut(lot, "marche_reserve") == "retenue" and "ensemble du marché" in lot.decision("marche_reserve").raisons[0]
    data["lots"][0]["sourcing"] = {"structures_inclusives": 5}
    assert statut(lot0(library, data), "marche_reserve") == "ecartee"
    data["lots"][0]["sourcing"] = {}
    assert statut(lot0(library, data), "marche_reserve") == "a_etudier"
    data["lots"][0].update(montant_estime_ht=6000000, sourcing={"structures_inclusives": 15})
    assert "reservation_volume" in codes(lot0(library, data))


def test_lot_choice_wins_over_market_choice(library):
    data = questionnaire(**{"considerations": {"insertion": "non"}})
    data["lots"][0]["considerations"] = {"insertion": "oui"}
    assert statut(lot0(library, data), "insertion") == "retenue"


def test_warnings_carry_advice_in_french(library):
    data = questionnaire()
    data["lots"][0]["montant_estime_ht"] = 40000
    warning = lot0(library, data).avertissements[0]
    assert warning.code == "insertion_non_adaptee"
    assert warning.message.startswith("Lot n° 1 (Gros œuvre)") and "Préférez" in warning.message


def test_parrainage_is_a_doubtful_link_with_the_object(library):
    data = questionnaire(**{"objectifs.themes": ["decouverte_metiers"], "objectifs.actions_envisagees": ["parrainage"]})
    lot = lot0(library, data)
    assert statut(lot, "action_sociale") == "retenue"
    assert "lien_objet" in codes(lot)
    data["objectifs"]["actions_envisagees"] = ["visite_chantier"]
    assert "lien_objet" not in codes(lot0(library, data))
