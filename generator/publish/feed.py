"""The site's Atom feed: new guides and articles, for feed readers and newsletters.

A page is in the feed when its front matter has a `date` (when it was published) and
it is released; `feed: false` leaves a dated page out. Public pages are in the feed in
full, members' pages as their teaser with a link to the page: the feed is built from
the same public HTML a visitor gets, never from the sealed part. Dates come from front
matter, not the clock, so the same sources give the same feed. No MkDocs import.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from generator.errors import MemberkitError

FEED_PATH = "feed.xml"
FIELD = "feed"

_H1 = re.compile(r"^\s*<h1\b[^>]*>.*?</h1>", re.DOTALL)
_HEADERLINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>', re.DOTALL)
_SCRIPT = re.compile(r"<(script|style|form)\b.*?</\1>", re.DOTALL | re.IGNORECASE)
_LINK = re.compile(r'(\s(?:href|src)=")([^"]*)(")')
# Characters XML 1.0 does not allow, whatever the escaping.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class FeedEntry:
    title: str
    url: str  # absolute
    published: dt.date
    updated: dt.date
    summary: str  # plain text; may be empty
    content: str  # HTML with absolute links


def wanted(meta: Mapping[str, Any], path: str) -> bool:
    """Whether a dated page asks to be in the feed (`feed: false` leaves it out)."""
    value = meta.get(FIELD, True)
    if not isinstance(value, bool):
        raise MemberkitError(f"front matter 'feed' is {value!r}; write true or false", path=path)
    return value


def entry_content(public_html: str, url: str, *, members_only: bool, site_name: str) -> str:
    """A page's HTML as a feed reader should show it: no title (the entry has one), no
    heading anchors or scripts, absolute links; a members' page ends with a link to it."""
    body = _H1.sub("", public_html, count=1)
    body = _HEADERLINK.sub("", body)
    body = _SCRIPT.sub("", body)
    body = _LINK.sub(
        lambda m: m.group(1) + html.escape(_absolute(m.group(2), url)) + m.group(3), body
    )
    body = body.strip()
    if members_only:
        body += (
            f'\n<p><em>The rest is for members.</em> <a href="{html.escape(url)}">'
            f"Continue reading on {html.escape(site_name)}</a></p>"
        )
    return body


def _absolute(value: str, base: str) -> str:
    return urljoin(base, html.unescape(value))


def atom(
    entries: Iterable[FeedEntry],
    *,
    title: str,
    subtitle: str,
    site_url: str,
    author: str,
    limit: int,
) -> str | None:
    """The feed document, newest first, or None when no page is dated."""
    chosen = sorted(entries, key=lambda e: (e.published, e.url), reverse=True)[:limit]
    if not chosen:
        return None
    home = site_url.rstrip("/") + "/"
    updated = max(e.updated for e in chosen)
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"  <title>{_text(title)}</title>",
    ]
    if subtitle:
        lines.append(f"  <subtitle>{_text(subtitle)}</subtitle>")
    lines += [
        f'  <link rel="self" type="application/atom+xml" href="{_text(home + FEED_PATH)}"/>',
        f'  <link rel="alternate" type="text/html" href="{_text(home)}"/>',
        f"  <id>{_text(home)}</id>",
        f"  <updated>{_timestamp(updated)}</updated>",
        f"  <author><name>{_text(author)}</name></author>",
    ]
    for entry in chosen:
        lines += [
            "  <entry>",
            f"    <title>{_text(entry.title)}</title>",
            f'    <link rel="alternate" type="text/html" href="{_text(entry.url)}"/>',
            f"    <id>{_text(entry.url)}</id>",
            f"    <published>{_timestamp(entry.published)}</published>",
            f"    <updated>{_timestamp(entry.updated)}</updated>",
        ]
        if entry.summary:
            lines.append(f"    <summary>{_text(entry.summary)}</summary>")
        lines += [f'    <content type="html">{_text(entry.content)}</content>', "  </entry>"]
    lines.append("</feed>")
    return "\n".join(lines) + "\n"


def _timestamp(day: dt.date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def _text(value: str) -> str:
    return html.escape(_NOT_XML.sub("", value), quote=True)
