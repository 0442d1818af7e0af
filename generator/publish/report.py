"""`memberkit report`: what each audience gets, as text to review before publishing.

Made from the plugin settings and the front matter of the pages and templates alone:
no build, no private state. The text is sorted and holds no padding or clock time, so
`memberkit report > access.txt; git diff access.txt` shows exactly what a change does.
No MkDocs import.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from generator.content import access, schedule
from generator.documents.library import DocumentLibrary, download_path
from generator.documents.model import DocumentTemplate

#: What visitors see of a page: all of it, its teaser, or its title and description.
FULL, TEASER, TITLE = "full", "teaser", "title-only"


@dataclass(frozen=True, order=True)
class PageLine:
    path: str  # as the owner names it: docs/guides/x.md
    tier: str  # public, or the tier whose members read all of it
    visitors: str  # FULL, TEASER or TITLE
    available: dt.date | None = None

    def __str__(self) -> str:
        fields = [self.path, self.tier, self.visitors]
        if self.available is not None:
            fields.append(f"available {self.available.isoformat()}")
        return "  ".join(fields)


def page_line(
    text: str,
    src_uri: str,
    *,
    path: str,
    tiers: Sequence[str],
    folder_defaults: Mapping[str, str],
) -> PageLine:
    """One page's line, from its source; its mistakes are errors naming the file."""
    meta = access.read_front_matter(text, path)
    rule = access.page_access(
        text, src_uri, tiers=tiers, folder_defaults=folder_defaults, path=path, meta=meta
    )
    visitors = FULL if not rule.protected else TEASER if rule.has_divider else TITLE
    return PageLine(path, rule.tier, visitors, schedule.release_date(meta, path))


def render(
    pages: Iterable[PageLine],
    templates: Sequence[DocumentTemplate],
    *,
    tiers: Sequence[str],
    today: dt.date,
) -> str:
    """The report: pages, templates, what each tier opens, and what is scheduled."""
    pages = sorted(pages)
    library = DocumentLibrary(templates, tiers)
    lines = [
        "# What each audience gets: memberkit report (pages, templates, tiers, schedule).",
        "# Visitors see: full = the whole page; teaser = above <!-- more -->;",
        "# title-only = the title and description. 'available' = not published before.",
        "# A template marked 'sample' shows visitors its document filled in with its examples.",
        "",
        "[pages] path  who reads all of it  what visitors see  release date",
        *map(str, pages),
        "",
        "[templates] path  who may use it  downloads  sample",
    ]
    for template in sorted(templates, key=lambda t: t.source):
        files = " ".join(download_path(template, fmt) for fmt in template.formats)
        sample = "  sample" if template.shows_sample else ""
        lines.append(f"{template.source}  {template.access}  {files}{sample}")
    lines += ["", "[tiers] what members of each tier open besides the public pages"]
    for tier in tiers:
        own_pages = [p for p in pages if p.tier == tier]
        own_templates = [t for t in templates if t.access == tier]
        downloads = sum(len(t.formats) for t in own_templates)
        bundle = " and a zip of all templates" if tier in library.bundle_tiers() else ""
        lines.append(
            f"{tier}: {_count(len(own_pages), 'page')}, {_count(len(own_templates), 'template')}, "
            f"{_count(downloads, 'download')}{bundle}"
        )
    waiting = sorted(
        (p.available, p.path, p.tier) for p in pages if p.available and p.available > today
    )
    lines += ["", "[scheduled] release date  page  who reads all of it"]
    lines += [f"{day.isoformat()}  {path}  {tier}" for day, path, tier in waiting] or ["(none)"]
    return "\n".join(lines) + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")
