"""The one archive guard (common.archive): the same limits for every zip the engine reads."""

from __future__ import annotations

import io
import zipfile

import pytest

from drafting import api
from drafting.common import archive
from drafting.common.archive import LIMITS, Limits
from drafting.errors import ModelError, ProgrammeError, QuestionnaireError
from drafting.ooxml.ccap_model import BuyerCcap


def zipped(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


XLSX_HEAD = {"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}


def test_each_limit_has_its_french_reason():
    small = Limits(entries=3, inflated=10 * 2**20, shared_strings=2**20, ratio=100, ratio_floor=2**20)
    many = zipped({f"xl/{n}.xml": b"x" for n in range(4)})
    assert archive.inspect(many, small)[1] == "archive anormale : plus de 3 parties"
    big = zipped({"xl/a.bin": bytes(11 * 2**20)}, zipfile.ZIP_STORED)
    assert archive.inspect(big, small)[1] == "contenu décompressé démesuré (plus de 10 Mo une fois décompressé)"
    strings = zipped({"[Content_Types].xml": b'<Types><Override PartName="/xl/t.xml" ContentType="application/'
                                             b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                      "xl/t.xml": b"<sst>" + b"a" * (2 * 2**20) + b"</sst>"}, zipfile.ZIP_STORED)
    assert archive.inspect(strings, small)[1].startswith("textes du classeur trop volumineux (plus de 1 Mo")
    bomb = zipped({"xl/zeros.bin": bytes(3 * 2**20)})
    assert archive.inspect(bomb, small)[1].startswith("élément « xl/zeros.bin » compressé plus de 100 fois")
    assert archive.inspect(zipped({"xl/zeros.bin": bytes(2**19)}), small)[1] is None  # small: never a bomb


def test_what_is_no_zip_and_what_is_no_workbook_are_told_apart(tmp_path):
    with pytest.raises(archive.NotAZip):
        archive.inspect(b"ceci n'est pas une archive")
    names, why = archive.inspect(zipped(XLSX_HEAD))
    assert why is None and archive.is_xlsx(names)
    assert not archive.is_xlsx(archive.inspect(zipped({"word/document.xml": b"<w/>"}))[0])
    path = tmp_path / "grille.xlsx"
    path.write_bytes(zipped(XLSX_HEAD))
    assert archive.inspect(path)[0] == set(XLSX_HEAD)


def test_every_reader_refuses_the_same_bomb_with_the_same_words(tmp_path, library):
    """Filled grid, Excel questionnaire, programme, buyer's CCAP: one guard, one limit, one message."""
    bomb = zipped({**XLSX_HEAD, "word/document.xml": b"<w/>", "xl/media/zeros.bin": bytes(2 * LIMITS.ratio_floor)})
    expected = f"élément « xl/media/zeros.bin » compressé plus de {LIMITS.ratio} fois"
    path = tmp_path / "bombe.xlsx"
    path.write_bytes(bomb)

    result = api.consolidate([path])
    assert expected in result.failures[0][1]
    with pytest.raises(QuestionnaireError) as form:
        api.read_questionnaire(bomb, library, "bombe.xlsx")
    assert expected in form.value.issues[0].message
    with pytest.raises(ProgrammeError, match=expected):
        api.review(path, library)
    with pytest.raises(ModelError, match=expected):
        BuyerCcap(bomb, "bombe.docx")


def test_the_limits_leave_room_for_real_files():
    """A 5 000-row programme or a buyer's CCAP with its logos is a few Mo: far below the guard."""
    assert LIMITS.inflated >= 50 * 2**20 and LIMITS.entries >= 1000
