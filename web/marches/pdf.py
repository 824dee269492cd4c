"""PDF copies in the background: LibreOffice takes seconds, the buyer keeps working meanwhile.

One conversion at a time (LibreOffice is heavy); the generation's ``pdf_etat`` says where
it stands, and its page shows it. The copies come with their own manifest, as
``clausier generate --pdf`` writes it: the set with PDF is the same market drafted with
the PDF option, byte for byte.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connection

from drafting import api

from .. import blobs, moteur
from .models import Generation

log = logging.getLogger("clausier.web")
_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clausier-pdf")


def submit(task, *args) -> None:
    _EXECUTOR.submit(task, *args)


def start(generation: Generation) -> None:
    """Queue the PDF copies of a generation, or record why there will be none."""
    if not moteur.ENGINE.pdf_available():
        Generation.objects.filter(pk=generation.pk).update(
            pdf_etat=Generation.PDF_INDISPONIBLE,
            pdf_message="LibreOffice n'est pas installé sur ce poste : les pièces sont livrées en Word seulement.")
        return
    Generation.objects.filter(pk=generation.pk).update(pdf_etat=Generation.PDF_EN_COURS, pdf_message="")
    submit(convert, generation.pk)


def convert(pk: int) -> None:
    close_old_connections()
    try:
        generation = Generation.objects.get(pk=pk)
        lib = moteur.library(generation.bibliotheque_demandee or None)
        raw = blobs.get(generation.questionnaire_sha256)
        options = api.Options(premier_article=generation.options.get("premier_article"), pdf=True)
        market, archive = moteur.RENDERS.render(raw, generation.questionnaire_nom, lib, options)
        files = {name: blobs.put(data) for name, data in sorted(market.files.items())}
        Generation.objects.filter(pk=pk).update(pdf_etat=Generation.PDF_PRET, pdf_fichiers=files,
                                                pdf_zip_sha256=blobs.put(archive), pdf_message="")
    except api.ClausierError as exc:
        Generation.objects.filter(pk=pk).update(pdf_etat=Generation.PDF_ECHEC, pdf_message=exc.message[:1000])
    except Exception:  # a bug: the state says so, the log keeps the details
        log.exception("conversion PDF de la génération %s", pk)
        Generation.objects.filter(pk=pk).update(pdf_etat=Generation.PDF_ECHEC,
                                                pdf_message="erreur interne pendant la conversion (voir le journal du serveur)")
    finally:
        connection.close()


def interrupted() -> int:
    """At start: conversions cut short by a stop are marked as such (the buyer can ask again)."""
    return Generation.objects.filter(pdf_etat=Generation.PDF_EN_COURS).update(
        pdf_etat=Generation.PDF_ECHEC, pdf_message="conversion interrompue par l'arrêt du serveur : relancez-la")
