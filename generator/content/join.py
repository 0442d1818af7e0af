"""Inviting visitors to join: the join box and where join links go.

Join links lead to the join page, where the price and what members get are shown;
the join page's own join button leads to the checkout. Where a visitor meets a sealed
part, and on the sign-in page, a small public box says what joining costs, offers the
join button and says where to ask for a new password. It is plain HTML in the page,
there without JavaScript and readable by crawlers. The price is one setting: the box
shows it, and `memberkit:price` in a page stands for it. No MkDocs import.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import urlsplit

#: The checkout link until the owner sets theirs: the build warns about it.
CHECKOUT_PLACEHOLDER = "https://example.com/checkout"
#: What a new site (`memberkit new`) says until the owner sets it, and what it stands
#: for: the build warns about each one left, as about the checkout link.
TEXT_PLACEHOLDERS = {"[Site name]": "your site's name", "[Price]": "your price"}
DEFAULT_JOIN_TEXT = "Not a member yet? Join to read every guide in full."
#: Write `[Join](memberkit:join)` anywhere, snippets included: the join page, or the
#: checkout on the join page itself. `memberkit:checkout` is always the checkout.
JOIN_LINK = 'href="memberkit:join"'
CHECKOUT_LINK = 'href="memberkit:checkout"'
#: Where the join box goes on a page of the owner's (the sign-in page has one).
BOX_MARK = "<div data-mk1-join></div>"
#: The class of the join box (as minifiers leave it: a single word).
BOX_CLASS = "mk1-join"
BUTTON = "Join now"
#: Write `memberkit:price` anywhere in a page or snippet (a heading, a button's text):
#: the `price` setting takes its place.
PRICE_MARK = "memberkit:price"
#: A price is a short line: the join box and a button show it whole.
PRICE_LENGTH = 60
_PRICE_EXAMPLE = 'price: "$19 a month"'

_PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net")
_PLACEHOLDER_SUFFIXES = (".example", ".test", ".invalid", ".localhost")
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")


def is_address(target: str) -> bool:
    """A URL, mailto: or absolute path, rather than a page of docs/ (`join.md`)."""
    return "://" in target or target.startswith(("mailto:", "/"))


def is_placeholder(url: str) -> bool:
    """An address on a domain kept for examples (RFC 2606): nobody's real checkout."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return (
        any(host == d or host.endswith("." + d) for d in _PLACEHOLDER_DOMAINS)
        or host.endswith(_PLACEHOLDER_SUFFIXES)
        or host in ("example", "invalid", "test")
    )


def is_published(site_url: str | None) -> bool:
    """Whether `site_url` is a real public address (not an example one, not local)."""
    if not site_url:
        return False
    host = (urlsplit(site_url).hostname or "").lower()
    return not is_placeholder(site_url) and host not in _LOCAL_HOSTS


def checkout_setting(join_url: str) -> str:
    """The setting that holds the checkout link: `join_url` when it is an address."""
    return "join_url" if is_address(join_url) else "checkout_url"


def checkout_problem(
    join_url: str, checkout_url: str, site_url: str | None
) -> tuple[Literal["warning", "info"], str] | None:
    """(level, message) when the checkout link is still a placeholder.

    A warning once `site_url` is a real address: the site is about to go out with a
    join button that sells nothing. Before that (the bundled example site, a local
    preview) a note, so that the example builds in strict mode.
    """
    setting = checkout_setting(join_url)
    checkout = join_url if setting == "join_url" else checkout_url
    if not is_placeholder(checkout):
        return None
    return _level(site_url), (
        f"mkdocs.yml: plugins.memberkit.{setting} is still the placeholder {checkout}: "
        "set it to your checkout link (Stripe, Gumroad, Lemon Squeezy...) before you publish"
    )


def text_placeholder_problems(
    where: str, text: str, site_url: str | None
) -> list[tuple[Literal["warning", "info"], str]]:
    """(level, message) for each placeholder of a new site that `text` still holds.
    `where`: what the owner edits, `mkdocs.yml: site_name` or `docs/join.md`. Levels as
    for the checkout link: a warning once `site_url` is real, a note before."""
    return [
        (
            _level(site_url),
            f"{where} still holds the placeholder {token}: "
            f"replace it with {meaning} before you publish",
        )
        for token, meaning in TEXT_PLACEHOLDERS.items()
        if token in text
    ]


def price_problem(value: object) -> str | None:
    """Why `value` cannot be the `price` setting, in words the owner can act on."""
    where = "mkdocs.yml: plugins.memberkit.price"
    if isinstance(value, bool) or not isinstance(value, str):
        kind = "a number" if isinstance(value, int | float) else f"a {type(value).__name__}"
        return (
            f"{where} is {value!r}, {kind}: write the price as visitors read it, in quotes, "
            f"e.g. {_PRICE_EXAMPLE}"
        )
    if not value.strip():
        return f"{where} is empty: write your price, e.g. {_PRICE_EXAMPLE}, or leave it out"
    if "\n" in value.strip() or len(value.strip()) > PRICE_LENGTH:
        return (
            f"{where} must be one short line (at most {PRICE_LENGTH} characters), "
            f"e.g. {_PRICE_EXAMPLE}: what members get goes into join_text"
        )
    return None


def price_mark_problems(where: str, text: str, price: str | None) -> list[tuple[str, str]]:
    """A warning when `text` (the page `where`) shows the price and none is set."""
    if price is not None or PRICE_MARK not in text:
        return []
    return [
        (
            "warning",
            f"{where} shows {PRICE_MARK}, but mkdocs.yml sets no price: add it under "
            f"plugins.memberkit, e.g. {_PRICE_EXAMPLE}",
        )
    ]


def fill_price(html_text: str, price: str | None) -> str:
    """`memberkit:price` in HTML replaced with the price (left as it is without one)."""
    if price is None or PRICE_MARK not in html_text:
        return html_text
    return html_text.replace(PRICE_MARK, html.escape(price))


def fill_price_titles(links: Iterable[Any], price: str | None) -> None:
    """`memberkit:price` in the titles of a page's table of contents (each entry's
    `title`, and its children's) replaced with the price, as in the page itself."""
    for link in links:
        link.title = fill_price(link.title, price)
        fill_price_titles(link.children, price)


def _level(site_url: str | None) -> Literal["warning", "info"]:
    return "warning" if is_published(site_url) else "info"


def join_box(text: str, join_href: str, help_href: str, price: str | None = None) -> str:
    """The public box beside a sealed part and on the sign-in page: the price (when
    there is one) first, then what members get, the join button and where to ask for
    a new password."""
    shown = f'<p class="mk1-join__price">{html.escape(price)}</p>' if price else ""
    return (
        # Not in the site search: it would answer every search for "join" or "password".
        '<aside class="mk1-join" aria-label="Membership" data-search-exclude>'
        + shown
        + f'<p class="mk1-join__text">{fill_price(html.escape(text), price)}</p>'
        f'<p class="mk1-join__action"><a class="md-button md-button--primary" '
        f'href="{html.escape(join_href)}">{BUTTON}</a></p>'
        f'<p class="mk1-join__help">Forgot your password? <a href="{html.escape(help_href)}">'
        "Ask for a new one</a>.</p>"
        "</aside>"
    )
