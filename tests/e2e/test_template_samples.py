"""A template's sample and its writing hints in Chromium, served by nginx: a visitor
reads the sample with the offer to join beside it; a member gets the form, each hint
under its input and read with it, and a preview without a hint; in the light and the
dark scheme, and on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import PageWatch, screenshot, sign_in, watched_tab
from .test_accessibility import PHONE, SCHEMES, violations

HINT = "List finished work only. Add numbers where you can"


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_a_visitor_reads_the_sample_beside_the_offer(
    browser: Browser, served_site: str, scheme: str
) -> None:
    with watched_tab(browser, served_site, color_scheme=scheme) as (tab, _):
        tab.goto(served_site + "templates/daily-status-report/")
        sample = tab.get_by_role("region", name="Sample: Daily status report")
        expect(tab.get_by_role("heading", name="Sample", exact=True)).to_be_visible()
        expect(sample).to_be_visible()
        expect(sample).to_contain_text("Answered 34 support tickets")
        expect(sample).to_contain_text("Thanks, Maria Santos")
        expect(sample).not_to_contain_text(HINT)
        expect(sample.locator("input, textarea, select")).to_have_count(0)  # read only
        join = tab.get_by_role("link", name="Join to use this template")
        expect(join).to_be_visible()
        expect(tab.get_by_role("link", name="Members: sign in")).to_be_visible()
        # The form and its hints stay in the members' part.
        expect(tab.get_by_label("What you finished today")).to_have_count(0)
        expect(tab.get_by_text(HINT)).to_have_count(0)
        assert violations(tab) == []
        screenshot(tab, f"sample-visitor-{scheme}")
        tab.get_by_role("link", name="Members: sign in").click()
        expect(tab.get_by_label("Email", exact=True)).to_be_in_viewport()
        join.click()
        expect(tab).to_have_url(re.compile(r"/join/$"))


def test_a_spreadsheets_sample_on_a_phone(browser: Browser, served_site: str) -> None:
    with watched_tab(browser, served_site) as (tab, _):
        tab.set_viewport_size(PHONE)
        tab.goto(served_site + "templates/timesheet/")
        sheet = tab.get_by_role("region", name="Timesheet", exact=True)
        expect(sheet.get_by_role("columnheader", name="Amount (USD)")).to_have_count(1)
        expect(sheet.get_by_role("row")).to_have_count(1 + 5 + 1)  # header, examples, total
        expect(sheet.get_by_role("row", name=re.compile("^Total"))).to_contain_text("171.00")
        # The table scrolls inside its box: the page itself does not scroll sideways.
        assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        expect(tab.get_by_role("link", name="Join to use this template")).to_be_visible()
        assert violations(tab) == []
        screenshot(tab, "sample-visitor-phone", full_page=True)
        tab.goto(served_site + "templates/")
        expect(tab.get_by_role("link", name="See a sample")).to_have_count(2)
        tab.get_by_role("link", name="See a sample").first.scroll_into_view_if_needed()
        screenshot(tab, "library-visitor-phone")


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_a_member_reads_hints_under_the_inputs_and_none_in_the_preview(
    browser: Browser, served_site: str, scheme: str
) -> None:
    with watched_tab(browser, served_site, color_scheme=scheme) as (tab, _):
        sign_in(tab, served_site)
        tab.goto(served_site + "templates/daily-status-report/")
        expect(tab.locator("[data-mk1]")).to_have_count(0)  # the members' part is open
        # No sample and no offer for a member: the page as it always was.
        expect(tab.get_by_role("region", name="Sample: Daily status report")).to_be_hidden()
        expect(tab.get_by_role("link", name="Join to use this template")).to_be_hidden()
        done = tab.get_by_label("What you finished today")
        expect(done).to_have_accessible_description(re.compile(f"^{HINT}"))
        hint = tab.locator("#mk-daily-status-report-done_today-hint")
        expect(hint).to_be_visible()
        # Under its own input, before the next field's label.
        box, below = done.bounding_box(), hint.bounding_box()
        assert box and below and below["y"] >= box["y"] + box["height"]
        done.fill("Closed 41 tickets.")
        preview = tab.get_by_role("region", name="Preview")
        expect(preview).to_contain_text("Closed 41 tickets.")
        expect(preview).not_to_contain_text("List finished work only")
        expect(preview.locator("em")).to_have_count(0)
        assert violations(tab) == []
        done.scroll_into_view_if_needed()
        screenshot(tab, f"hints-member-{scheme}")


def test_a_members_hints_on_a_phone(member_page: tuple[Page, PageWatch], served_site: str) -> None:
    tab, _ = member_page
    tab.set_viewport_size(PHONE)
    tab.goto(served_site + "templates/daily-status-report/")
    blockers = tab.get_by_label("What is blocking you")
    expect(blockers).to_have_accessible_description(re.compile('^Write "None" if nothing'))
    blockers.scroll_into_view_if_needed()
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(tab, "hints-member-phone")


# The addresses Material's requests go to (boot.js sends the index it asked for to
# the member's own, a blob: address).
RECORD_REQUESTS = """(() => {
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    (window.mkAsked = window.mkAsked || []).push(String(url));
    return open.call(this, method, url, ...rest);
  };
})();"""
# Material reads a page's entry before the entries of its sections: a section met
# before its page is taken for a page, and its results are shown broken.
INDEX_ORDER = """async (url) => {
  const { docs } = await (await fetch(url)).json();
  const seen = new Set();
  const orphans = [];
  for (const { location } of docs) {
    const [page, section] = location.split("#");
    if (section !== undefined && !seen.has(page)) orphans.push(location);
    if (section === undefined) seen.add(page);
  }
  return { orphans, locations: docs.map((doc) => doc.location) };
}"""


def test_a_members_search_index_has_no_sample_and_no_section_before_its_page(
    member_page: tuple[Page, PageWatch], served_site: str
) -> None:
    """A sample is for visitors: the member's search index (the page's members'
    entries in place of all the visitors' entries of it) holds none, and Material finds
    each page's entry before its sections."""
    tab, _ = member_page
    tab.add_init_script(RECORD_REQUESTS)
    tab.goto(served_site + "guides/")
    tab.get_by_role("textbox", name="Search").click()
    tab.keyboard.type("estimating time")
    expect(tab.locator(".md-search-result__item").first).to_be_visible()
    [merged] = [url for url in tab.evaluate("window.mkAsked") if url.startswith("blob:")]
    index = tab.evaluate(INDEX_ORDER, merged)
    assert index["orphans"] == []
    assert "templates/daily-status-report/" in index["locations"]
    assert not [loc for loc in index["locations"] if "#mk-sample-" in loc]
