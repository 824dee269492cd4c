"""The reports clausier writes with xlsxwriter: programme review, consolidation, the questionnaire form, the yearly bilan.

xlsxwriter stays for these documents, written once per command, where its features matter more
than its speed; the monitoring grid, written for every market of a portfolio, has its own small
SpreadsheetML writer (``drafting.ooxml.xlsx``). xlsxwriter is imported here only, when a report
is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def report_workbook(buffer: Any, title: str, created: dt.datetime) -> Any:
    """An xlsxwriter workbook for the reports written with xlsxwriter (review, consolidation, the
    questionnaire form): in memory, text always text, a fixed creation date (same input, same bytes)."""
    import xlsxwriter  # lazy: ≈ 30 ms of import, paid only by the commands that write a report

    wb = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                                      "strings_to_urls": False, "nan_inf_to_errors": True})
    wb.set_properties({"title": title, "author": "clausier", "created": created})
    return wb
