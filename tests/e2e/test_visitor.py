"""A visitor's first look at the bundled site, in Chromium, served by nginx."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import PageWatch, instant_navigation_ready, screenshot


def test_home_page_sells_the_membership(page: tuple[Page, PageWatch], served_site: str) -> None:
    tab, _ = page
    tab.goto(served_site)
    expect(tab).to_have_title(re.compile("Outsource without regret", re.I))
    expect(tab.get_by_role("heading", level=1)).to_contain_text("Hand work to remote freelancers")
    join = tab.get_by_role("link", name="Join the membership").first
    expect(join).to_be_visible()
    expect(tab.get_by_text("Six in-depth guides", exact=True)).to_be_visible()
    # The custom palette is applied: the header is the brand navy, not Material's indigo.
    header = tab.locator("header.md-header")
    assert header.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(23, 50, 77)"
    screenshot(tab, "home")
    join.click()
    expect(tab).to_have_url(re.compile(r"/join/$"))


def test_article_to_guide_teaser_with_instant_navigation(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, _ = page
    tab.goto(served_site + "three-mistakes/")
    expect(tab.get_by_role("heading", level=1)).to_contain_text("three outsourcing mistakes")
    instant_navigation_ready(tab)
    tab.evaluate("window.mkSamePage = true")  # a full page load would lose it
    tab.get_by_role("link", name="vetting and interviewing guide").click()
    expect(tab).to_have_url(re.compile(r"/guides/vetting-and-interviewing/$"))
    expect(tab.get_by_role("heading", level=1)).to_have_text(
        re.compile("Vetting and interviewing remote workers")
    )
    # The teaser is public; the rest waits behind the sign-in form.
    expect(
        tab.get_by_text("Most bad remote hires are visible before the first invoice")
    ).to_be_visible()
    expect(tab.get_by_role("button", name="Sign in")).to_be_visible()
    expect(tab.get_by_role("heading", name="Red flags")).to_have_count(0)
    assert tab.evaluate("window.mkSamePage === true"), "the page was loaded anew, not instantly"
    screenshot(tab, "guide-teaser")


def test_search_finds_a_public_article(page: tuple[Page, PageWatch], served_site: str) -> None:
    tab, _ = page
    tab.goto(served_site)
    tab.get_by_role("textbox", name="Search").click()
    tab.keyboard.type("budget nobody watches")
    expect(tab.locator(".md-search-result__item").first).to_be_visible()


def test_not_found_page_is_whole_under_the_sites_policy(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    """nginx answers a missing address with 404.html under the site's CSP header: its
    inline scripts (absolute links, unlike the pages') must be allowed, and the header
    must offer sign-in like every page. The fixture fails on any script error."""
    tab, watch = page
    response = tab.goto(served_site + "guides/no-such-guide/")
    assert response is not None and response.status == 404
    expect(tab.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(tab.locator(".mk1-account")).to_contain_text("Sign in")
    assert tab.evaluate("typeof __md_get") == "function"  # Material's inline script ran
    screenshot(tab, "not-found")
    # Chromium logs the page's own 404; any other failed request would add a second line.
    missing = "Failed to load resource: the server responded with a status of 404 (Not Found)"
    assert watch.errors.count(missing) == 1, watch.errors
    watch.errors.remove(missing)
