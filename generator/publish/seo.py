"""What search engines and link previews read in a page's `<head>`.

Every page gets Open Graph and Twitter card tags; members' pages also get schema.org
`Article` markup that marks their sealed part as paywalled, the markup Google reads
to tell a paywall from cloaking. Everything here is made from public text only: the
title, the description from front matter, or the first paragraph of what visitors
see. Material already writes the description, canonical link and author tags; they
are not repeated. No MkDocs import.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from generator.errors import MemberkitError

#: The class of the element that stands in for a page's sealed part
#: (`protect.envelope_element`): what the paywall markup points at.
SEALED_SELECTOR = ".mk1-locked"
TEASERS = ("index", "noindex")
#: Search results show about this much of a description.
DESCRIPTION_CHARS = 200

_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class PageFacts:
    """What a page tells crawlers and link previews about itself: public text only."""

    title: str
    description: str
    site_name: str
    url: str | None = None  # canonical, absolute; None when the site has no site_url
    image: str | None = None  # absolute URL
    members_only: bool = False  # part of it is sealed
    article: bool = False  # a guide or article rather than a site page
    noindex: bool = False
    published: dt.date | None = None
    modified: dt.date | None = None
    author: str | None = None


def first_paragraph(public_html: str, limit: int = DESCRIPTION_CHARS) -> str:
    """The first plain paragraph of a page's public HTML, as text, shortened at a word.

    Paragraphs with attributes (an admonition's title, the note of a sealed part) are
    passed over: they are labels, not prose.
    """
    for match in _PARAGRAPH.finditer(public_html):
        text = " ".join(html.unescape(_TAG.sub(" ", match.group(1))).split())
        text = re.sub(r" ([.,;:!?)])", r"\1", text)  # "word ." left by removed tags
        if text:
            return shorten(text, limit)
    return ""


def shorten(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-")
    return cut + "…"


_SITEMAP_URL = re.compile(r"[ \t]*<url>\s*<loc>([^<]*)</loc>.*?</url>[ \t]*\n?", re.S)


def without_urls(sitemap: str, urls: set[str]) -> str:
    """The sitemap (as MkDocs' theme renders it) without the entries of `urls`: pages
    waiting for their release date are in no sitemap until their day."""
    if not urls:
        return sitemap
    return _SITEMAP_URL.sub(
        lambda entry: "" if html.unescape(entry.group(1)) in urls else entry.group(0), sitemap
    )


def noindex(
    meta: Mapping[str, Any], *, members_only: bool, teasers: str, unreleased: bool, path: str
) -> bool:
    """Whether a page asks search engines to leave it out.

    Front matter `noindex: true|false` decides for its page. Otherwise a page waiting
    for its release date is left out, and a members' page (its teaser) only when the
    site chose `teasers: noindex`.
    """
    value = meta.get("noindex")
    if value is not None:
        if not isinstance(value, bool):
            raise MemberkitError(
                f"front matter 'noindex' is {value!r}; write true or false", path=path
            )
        return value
    return unreleased or (members_only and teasers == "noindex")


def image_url(
    value: object,
    *,
    site_url: str | None,
    exists: Callable[[str], bool],
    field: str,
    path: str,
) -> str | None:
    """An absolute image URL from a setting: an http(s) URL, or a file of docs/.

    None when a file is named but the site has no `site_url` (link previews need an
    absolute address).
    """
    if not isinstance(value, str) or not value.strip():
        raise MemberkitError(f"{field} must be an image URL or a path in docs/", path=path)
    value = value.strip()
    if value.startswith(("https://", "http://")):
        return value
    relative = value.lstrip("/")
    if "://" in value or not exists(relative):
        raise MemberkitError(
            f"{field} is {value!r}, which is neither an https:// URL nor a file in docs/ "
            "(write the path from the docs folder, e.g. assets/social.png)",
            path=path,
        )
    if not site_url:
        return None
    return site_url.rstrip("/") + "/" + relative


def head_tags(facts: PageFacts, *, feed: tuple[str, str] | None = None) -> str:
    """The page's tags for `<head>`. `feed` is (its URL from this page, its title)."""
    tags = []
    if facts.noindex:
        tags.append('<meta name="robots" content="noindex">')
    properties = [
        ("og:type", "article" if facts.article or facts.members_only else "website"),
        ("og:site_name", facts.site_name),
        ("og:title", facts.title),
        ("og:description", facts.description),
        ("og:url", facts.url),
        ("og:image", facts.image),
    ]
    tags += [
        f'<meta property="{name}" content="{_attribute(value)}">'
        for name, value in properties
        if value
    ]
    card = "summary_large_image" if facts.image else "summary"
    tags.append(f'<meta name="twitter:card" content="{card}">')
    if feed is not None:
        href, title = feed
        tags.append(
            '<link rel="alternate" type="application/atom+xml" '
            f'title="{_attribute(title)}" href="{_attribute(href)}">'
        )
    if facts.article or facts.members_only:
        data = json.dumps(article(facts), ensure_ascii=False, separators=(",", ":"))
        # Nothing in the data can end the script element or open a comment.
        data = data.replace("<", "\\u003c")
        tags.append(f'<script type="application/ld+json">{data}</script>')
    return "".join(tags)


def article(facts: PageFacts) -> dict[str, Any]:
    """schema.org `Article`; for a members' page, its sealed part marked paywalled."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Article",
        "headline": facts.title,
    }
    if facts.description:
        data["description"] = facts.description
    if facts.url:
        data["url"] = facts.url
        data["mainEntityOfPage"] = facts.url
    if facts.image:
        data["image"] = facts.image
    if facts.published:
        data["datePublished"] = facts.published.isoformat()
    if facts.modified:
        data["dateModified"] = facts.modified.isoformat()
    if facts.author:
        data["author"] = {"@type": "Person", "name": facts.author}
    else:
        data["author"] = {"@type": "Organization", "name": facts.site_name}
    data["publisher"] = {"@type": "Organization", "name": facts.site_name}
    if facts.members_only:
        data["isAccessibleForFree"] = False
        data["hasPart"] = {
            "@type": "WebPageElement",
            "isAccessibleForFree": False,
            "cssSelector": SEALED_SELECTOR,
        }
    return data


def _attribute(value: str) -> str:
    return html.escape(value, quote=True)
