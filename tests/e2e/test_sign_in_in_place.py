"""Signing in where the members' part is locked: the page opens in place, no second load.

Chromium behind nginx. The window survives the sign-in (a mark set before it is still
there), the page's HTML is not asked for again, and what a load would give is there: the
members' text and its table of contents, the header's account, Material's components
mounted on the opened part, a template's form working, and the search finding members'
text.
"""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page, expect

from ..conftest import MEMBER
from .conftest import PageWatch, screenshot

PROTECTED = "Estimating time"  # a heading below the divider of the task-briefs guide


def sign_in_on_the_page(tab: Page) -> None:
    form = tab.locator("article .mk1-signin")
    form.get_by_label("Email", exact=True).fill(MEMBER.email)
    form.get_by_label("Password", exact=True).fill(MEMBER.password)
    form.get_by_role("button", name="Sign in").click()


def watch_loads(tab: Page, path: str) -> list[str]:
    """The requests for the page's own HTML from now on."""
    asked: list[str] = []
    tab.on("request", lambda r: asked.append(r.url) if r.url.endswith(path) else None)
    return asked


def test_a_guide_opens_in_place_with_its_contents_account_and_search(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, _ = page
    tab.goto(served_site + "guides/task-briefs/")
    expect(tab.locator("article .mk1-signin")).to_be_visible()
    tab.evaluate("window.mkSamePage = true")
    asked = watch_loads(tab, "/guides/task-briefs/")
    sign_in_on_the_page(tab)
    expect(tab.get_by_role("heading", name=PROTECTED)).to_be_visible()
    assert tab.evaluate("window.mkSamePage === true"), "the page was loaded again"
    assert tab.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert asked == [], f"the page was fetched again: {asked}"
    expect(tab.locator("[data-mk1]")).to_have_count(0)
    toc = tab.locator('.md-sidebar--secondary [data-md-component="toc"]')
    expect(toc).to_contain_text(PROTECTED)
    expect(tab.locator(".mk1-account")).to_contain_text(MEMBER.name)
    # Material mounted the opened part as it mounts a page: each code block's copy button.
    blocks = tab.locator(".mk1-opened pre > code").count()
    assert blocks > 0
    expect(tab.locator(".mk1-opened .md-code__button")).to_have_count(blocks)
    assert tab.evaluate("document.documentElement.classList.contains('mk1-signed-in')")
    # The focus, in the form that is gone, is on the text that took its place.
    assert tab.evaluate("document.activeElement.classList.contains('mk1-opened')")
    screenshot(tab, "signed-in-in-place")
    # Material's search, set up with the public index, now finds the members' text.
    tab.get_by_role("textbox", name="Search").click()
    tab.keyboard.type("estimating time")
    result = tab.locator(".md-search-result__item", has_text=PROTECTED).first
    expect(result).to_be_visible()


def test_a_templates_form_works_after_signing_in_on_it(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, _ = page
    tab.goto(served_site + "templates/daily-status-report/")
    tab.evaluate("window.mkSamePage = true")
    sign_in_on_the_page(tab)
    name = tab.get_by_label("Your name")
    expect(name).to_be_visible()
    name.fill("Rosa Lima")
    expect(tab.locator(".mk-doc__preview")).to_contain_text("Rosa Lima")
    assert tab.evaluate("window.mkSamePage === true"), "the page was loaded again"


# When the members' text first stands in the page, and when the theme's bundle arrived.
SHOWN_BEFORE_THEME = """(() => {
  const observer = new MutationObserver(() => {
    if (!document.getElementById("estimating-time")) return;
    observer.disconnect();
    window.mkShown = { at: performance.now(), theme: Boolean(window.document$) };
  });
  observer.observe(document, { childList: true, subtree: true });
})();"""


def test_a_members_page_opens_while_the_theme_still_loads(
    member_page: tuple[Page, PageWatch], served_site: str
) -> None:
    """On a load, the member's text does not wait for the rest of the page: with the
    theme's script slow to arrive, the text is there before it, and the theme then
    mounts the page with it as it mounts any page."""
    tab, _ = member_page
    tab.add_init_script(SHOWN_BEFORE_THEME)

    def late(route: Any) -> None:
        time.sleep(1.0)
        route.continue_()

    tab.route("**/assets/javascripts/bundle.*.min.js", late)
    tab.goto(served_site + "guides/task-briefs/")
    expect(tab.get_by_role("heading", name=PROTECTED)).to_be_visible()
    shown = tab.evaluate("window.mkShown")
    bundle = tab.evaluate(
        "performance.getEntriesByType('resource').find(e => /bundle\\.[^/]*\\.min\\.js$/"
        ".test(e.name)).responseEnd"
    )
    assert not shown["theme"], "the members' text waited for the theme's script"
    assert shown["at"] < bundle, (shown, bundle)
    # Mounted by the theme all the same: its copy buttons, the contents with the text.
    blocks = tab.locator(".mk1-opened pre > code").count()
    assert blocks > 0
    expect(tab.locator(".mk1-opened .md-code__button")).to_have_count(blocks)
    toc = tab.locator('.md-sidebar--secondary [data-md-component="toc"]')
    expect(toc).to_contain_text(PROTECTED)
    expect(tab.locator(".mk1-account")).to_contain_text(MEMBER.name)
