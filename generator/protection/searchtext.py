"""The text of protected HTML as search entries, in Material's search index format.

No cryptography here: the build's helper process (generator.protection.worker) uses this and
the leak check only, and starts faster and smaller for it.
"""

from __future__ import annotations

import html
import re

HEADING_ID = re.compile(r"<h([1-6])[^>]*\bid=\"([^\"]+)\"[^>]*>(.*?)</h\1>", re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")
_HEADERLINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>', re.DOTALL)
#: Not text a reader sees: code and data (a template widget's data is a <template>).
_NOT_TEXT = re.compile(r"<(script|style|template)\b.*?</\1>", re.DOTALL | re.IGNORECASE)
_TITLE = re.compile(r"<h1\b[^>]*>.*?</h1>", re.DOTALL)
_SEARCH_BLOCK = re.compile(r"</?(?:p|li|td|th|h[1-6]|pre|div|tr|ul|ol|table)\b[^>]*>")


def plain_text(fragment: str) -> str:
    text = _TAGS.sub(" ", _HEADERLINK.sub("", _NOT_TEXT.sub(" ", fragment)))
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def search_entries(
    url: str, title: str, protected_html: str, teaser_html: str = ""
) -> list[dict[str, str]]:
    """Entries in Material's search index format for the protected part of a page.

    The page's own entry holds its teaser too: it takes the place of the teaser's
    entry of the public index, so that a member finds the page once.
    """
    entries: list[dict[str, str]] = []
    cuts = list(HEADING_ID.finditer(protected_html))
    lead = protected_html[: cuts[0].start()] if cuts else protected_html
    teaser_cuts = list(HEADING_ID.finditer(teaser_html))
    # The teaser up to its first heading below the title (those have entries of their own).
    first = next((m for m in teaser_cuts if m.group(1) != "1"), None)
    lead = _TITLE.sub("", teaser_html[: first.start()] if first else teaser_html) + lead
    if plain_text(lead) or teaser_html:
        entries.append({"location": url, "title": title, "text": _paragraphs(lead)})
    for index, match in enumerate(cuts):
        end = cuts[index + 1].start() if index + 1 < len(cuts) else len(protected_html)
        body = protected_html[match.end() : end]
        entries.append(
            {
                "location": f"{url}#{match.group(2)}",
                "title": plain_text(match.group(3)),
                "text": _paragraphs(body),
            }
        )
    return entries


def _paragraphs(fragment: str) -> str:
    """Search text as Material keeps it: block elements as <p>, nothing else."""
    # The blocks are made text in one pass, joined by a character HTML text never holds.
    texts = plain_text("\x00".join(_SEARCH_BLOCK.split(fragment))).split("\x00")
    return "".join(f"<p>{html.escape(t.strip())}</p>" for t in texts if t.strip())
