"""The French words for the questionnaire's codes: one place for the documents, the note, the prompts and the web forms.

Documents use the formal wording (« Établissement public de coopération intercommunale »), the
prompts and forms a short one (« EPCI (intercommunalité) ») in ``PROMPTS``.
"""

from __future__ import annotations

PROCEDURE_LABELS = {
    "mapa": "procédure adaptée", "appel_offres_ouvert": "appel d'offres ouvert",
    "appel_offres_restreint": "appel d'offres restreint", "procedure_negociee": "procédure avec négociation",
    "dialogue_competitif": "dialogue compétitif", "sans_publicite": "marché sans publicité ni mise en concurrence préalables",
}


NATURE_LABELS = {"travaux": "Travaux", "fournitures": "Fournitures", "services": "Services"}


FORME_LABELS = {
    "ordinaire": "Marché ordinaire",
    "accord_cadre_bons_de_commande": "Accord-cadre à bons de commande",
    "accord_cadre_marches_subsequents": "Accord-cadre à marchés subséquents",
}


ACHETEUR_LABELS = {
    "etat": "Service de l'État", "collectivite": "Collectivité territoriale",
    "epci": "Établissement public de coopération intercommunale", "departement": "Département",
    "region": "Région", "etablissement_sante": "Établissement de santé",
    "bailleur_social": "Bailleur social", "autre": "Acheteur public",
}


THEME_LABELS = {
    "metiers_en_tension": "promotion des métiers en tension",
    "decouverte_metiers": "découverte des métiers",
    "illettrisme": "lutte contre l'illettrisme",
    "egalite_femmes_hommes": "égalité entre les femmes et les hommes",
    "lutte_discriminations": "lutte contre les discriminations",
    "amelioration_continue": "amélioration continue",
}


PROMPTS = {
    **NATURE_LABELS, **FORME_LABELS,
    "etat": "Service de l'État", "collectivite": "Commune ou collectivité", "epci": "EPCI (intercommunalité)",
    "departement": "Département", "region": "Région", "etablissement_sante": "Établissement de santé",
    "bailleur_social": "Bailleur social", "autre": "Autre acheteur public",
    "mapa": "Procédure adaptée (MAPA)", "appel_offres_ouvert": "Appel d'offres ouvert",
    "appel_offres_restreint": "Appel d'offres restreint", "procedure_negociee": "Procédure avec négociation",
    "dialogue_competitif": "Dialogue compétitif", "sans_publicite": "Sans publicité ni mise en concurrence",
    "mono": "Un seul titulaire", "multi": "Plusieurs titulaires",
    "fcs": "CCAG-FCS (fournitures courantes et services)", "tic": "CCAG-TIC", "pi": "CCAG-PI (prestations intellectuelles)",
    "moe": "CCAG-MOE (maîtrise d'œuvre)", "mi": "CCAG-MI (marchés industriels)", "aucun": "Aucun CCAG",
    "metiers_en_tension": "Faire connaître des métiers en tension", "decouverte_metiers": "Faire découvrir les métiers",
    "illettrisme": "Lutter contre l'illettrisme", "egalite_femmes_hommes": "Égalité femmes-hommes",
    "lutte_discriminations": "Lutter contre les discriminations", "amelioration_continue": "Amélioration continue (plan de progrès)",
}
