"""Scheduled release: a page's content stays out of the site until its date.

`available: 2027-01-15` in a page's front matter: a build before that day publishes
the page with its title and "Available on 15 January 2027" only; its content is in no
file of the site (the leak check holds it as protected), not in search, not in the
feed. The first build on or after that day publishes it as usual. No MkDocs import.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Mapping
from typing import Any

from generator.content.dates import front_matter_date, long_date
from generator.errors import MemberkitError

FIELD = "available"
#: For tests and previews: build as if today were this day (YYYY-MM-DD).
TODAY_ENV = "MEMBERKIT_TODAY"


def today() -> dt.date:
    """The day the build counts as today: `MEMBERKIT_TODAY` if set, else the clock's."""
    value = os.environ.get(TODAY_ENV, "").strip()
    if not value:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise MemberkitError(
            f"{TODAY_ENV}={value!r} is not a date; write it as YYYY-MM-DD, e.g. 2027-01-15"
        ) from None


def release_date(meta: Mapping[str, Any], path: str) -> dt.date | None:
    """The page's `available` date, None if it has none; a bad date names the file."""
    return front_matter_date(meta, FIELD, path)


def unreleased(meta: Mapping[str, Any], path: str, on: dt.date) -> dt.date | None:
    """The release date if the page is not released yet on day `on`, else None."""
    day = release_date(meta, path)
    return day if day is not None and day > on else None


def notice(day: dt.date) -> str:
    return f"Available on {long_date(day)}."


def notice_html(title: str, day: dt.date) -> str:
    """What an unreleased page shows: its title and the day it opens."""
    return (
        f"<h1>{html.escape(title)}</h1>\n"
        f'<p class="mk-available">Available on <time datetime="{day.isoformat()}">'
        f"{long_date(day)}</time>.</p>\n"
    )
