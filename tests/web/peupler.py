"""Fill a data folder (or the database of CLAUSIER_DATABASE_URL) as months of real use would: accounts, markets
generated and imported, returns over several months (one sent again), a penalty decision, the audit trail.

Run in its own process: ``python -m tests.web.peupler DOSSIER`` (the backup and PostgreSQL tests do).
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(folder: Path) -> None:
    from web.server import database_ready

    database_ready(folder)
    import datetime as dt

    from tests.web.bureau import PASSWORD, fill, grid_of, months, render
    from web import acces
    from web.comptes.services import create_account
    from web.suivi import portefeuille, retours
    from web.suivi.models import MarcheSuivi

    facilitator = create_account("facilitatrice@plie.fr", "facilitateur", ["Ville A", "Ville B"], PASSWORD).user
    create_account("admin@clausier.fr", "admin", [], PASSWORD)
    buyer = create_account("acheteur@ville-a.fr", "acheteur", ["Ville A"], PASSWORD)
    org_a = buyer.organisations[0][0]
    org_b = create_account("acheteur@ville-b.fr", "acheteur", ["Ville B"], PASSWORD).organisations[0][0]
    scope = acces.portee_of(facilitator)
    for org, reference in ((org_a, "2026-TRV-014"), (org_a, "2027-TRV-020"), (org_b, "2027-SRV-101")):
        market, raw = render(reference)
        suivi, _ = portefeuille.record(market.files, org, facilitator, origine=MarcheSuivi.DOSSIER,
                                       questionnaire=(raw, f"{reference}.yaml"))
        grid = grid_of(market)
        for count in (1, 2, 3):
            issues = retours.deposit([(f"{reference}-{count}.xlsx", fill(grid, months("2027-01-01", count), actions=count))],
                                     dt.date(2027, count, 1), facilitator, scope)
            assert issues[0].etat == retours.ACCEPTE, issues[0].message
        again = retours.deposit([(f"{reference}-3b.xlsx", fill(grid, months("2027-01-01", 3), per_month=45))],
                                dt.date(2027, 3, 1), facilitator, scope)
        assert again[0].etat == retours.REMPLACE
    suivi = MarcheSuivi.objects.get(reference="2026-TRV-014")
    suivi.procedure_contradictoire_le = dt.date(2027, 11, 3)
    suivi.penalites_retenues = 1250
    suivi.save()
    acces.journal(None, "penalites", suivi=suivi, user=facilitator, montant="1250.00")
    print("peuplé")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
