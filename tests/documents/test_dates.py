"""Dates are written in the site's language's style, the same in every place."""

from __future__ import annotations

import datetime as dt

import pytest

from generator.documents.dates import date_style

DAY = dt.date(2026, 12, 7)


@pytest.mark.parametrize(
    ("language", "shown", "excel"),
    [
        ("en", "12/07/2026", "mm/dd/yyyy"),
        ("de", "07.12.2026", "dd.mm.yyyy"),
        ("fr", "07/12/2026", "dd/mm/yyyy"),
        ("pt-BR", "07/12/2026", "dd/mm/yyyy"),
        ("nl", "07-12-2026", "dd-mm-yyyy"),
        ("ja", "2026/12/07", "yyyy/mm/dd"),
        ("ko", "2026. 12. 07.", "yyyy. mm. dd."),
        ("sv", "2026-12-07", "yyyy-mm-dd"),
        ("bg", "07.12.2026", "dd.mm.yyyy"),  # its quoted year mark left out
        ("ar", "07/12/2026", "dd/mm/yyyy"),  # without direction marks
    ],
)
def test_a_languages_date(language: str, shown: str, excel: str) -> None:
    style = date_style(language)
    assert style.format(DAY) == shown
    assert style.excel == excel
    assert style.format_text("2026-12-07") == shown  # a template's example
    assert style.hint.lower() == style.pattern.lower()


def test_an_unknown_language_writes_dates_the_iso_way() -> None:
    for language in ("xx", "sh"):
        assert date_style(language).format(DAY) == "2026-12-07"
    assert date_style("").format(DAY) == "12/07/2026"  # Material's default: English
    assert date_style("en").hint == "MM/DD/YYYY"
    assert date_style("en").format_text("Maria") == "Maria"  # not a date: as it is
