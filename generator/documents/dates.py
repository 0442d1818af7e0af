"""How a date is written on the site: one pattern, from the site's language.

The site's language (`theme.language`, as Material reads it) decides how every date a
member sees or downloads is written: in the form, the preview, the copies, the Word
and text files, and the spreadsheet's date cells. The pattern comes from the
language's short date in the Unicode CLDR (through Babel, which Material itself
uses), made unambiguous: the day and month with two digits, the year with four
(`07.12.2026` in German, `12/07/2026` in English).

The browser gets the same pattern (`dates.js`), so the page and the files made at
build time can never disagree.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from babel.dates import get_date_format

DEFAULT_LANGUAGE = "en"
ISO = "yyyy-MM-dd"
_FIELD = re.compile(r"(y+|M+|L+|d+)")
_QUOTED = re.compile(r"'[^']*'")
#: What a spreadsheet's number format shows as it is; anything else is escaped.
_EXCEL_PLAIN = set("/.-, ")


@dataclass(frozen=True)
class DateStyle:
    """A date pattern of `dd`, `MM`, `yyyy` and the separators between them."""

    language: str
    pattern: str = ISO

    @property
    def hint(self) -> str:
        """The pattern as a member reads it: `DD.MM.YYYY`."""
        return self.pattern.replace("dd", "DD").replace("yyyy", "YYYY")

    def format(self, day: dt.date) -> str:
        return (
            self.pattern.replace("yyyy", f"{day.year:04d}")
            .replace("MM", f"{day.month:02d}")
            .replace("dd", f"{day.day:02d}")
        )

    def format_text(self, text: str) -> str:
        """A YYYY-MM-DD date (as templates write their examples) in this style; any
        other text as it is."""
        try:
            return self.format(dt.date.fromisoformat(text.strip()))
        except ValueError:
            return text

    @property
    def excel(self) -> str:
        """The pattern as a spreadsheet's number format (`dd.mm.yyyy`)."""
        out = []
        for part in _FIELD.split(self.pattern):
            if _FIELD.fullmatch(part):
                out.append(part.lower())
            else:
                out.extend(c if c in _EXCEL_PLAIN else "\\" + c for c in part)
        return "".join(out)


def _short_pattern(language: str) -> str | None:
    """CLDR's short date pattern of a language (`de`, `pt-BR`, `zh-Hant`), or None."""
    for tag in (language, language.split("-")[0]):
        try:
            locale = Locale.parse(tag.replace("-", "_"))
        except (UnknownLocaleError, ValueError, TypeError):
            continue
        return str(get_date_format("short", locale=locale).pattern)
    return None


def date_style(language: str | None) -> DateStyle:
    """The date style of a site language; an unknown language writes dates YYYY-MM-DD."""
    language = (language or DEFAULT_LANGUAGE).strip() or DEFAULT_LANGUAGE
    found = _short_pattern(language)
    if found is None:
        return DateStyle(language)
    # Quoted words (Bulgarian's year mark) and direction marks are dropped; each field
    # gets its full width.
    text = "".join(c for c in _QUOTED.sub("", found) if unicodedata.category(c) != "Cf")
    parts = _FIELD.split(text)
    fields = [p[0] for p in parts[1::2]]
    if sorted(fields) != ["M", "d", "y"] and sorted(fields) != ["L", "d", "y"]:
        return DateStyle(language)
    full = {"y": "yyyy", "M": "MM", "L": "MM", "d": "dd"}
    separators = [re.sub(r"\s+", " ", s) or " " for s in parts[2:-1:2]]
    # After the last field only a closing dot is kept (Korean, Hungarian: `2026. 12. 07.`).
    tail = "." if parts[-1] == "." else ""
    pattern = "".join(full[f] + (separators[i] if i < 2 else "") for i, f in enumerate(fields))
    return DateStyle(language, pattern + tail)
