"""Nothing jumps: the layout shift (CLS, as Chromium reports it) of a members' page
while its part is opened for a member, or its sign-in form put in place for a visitor,
on a phone and on a desktop."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import MEMBER
from .conftest import sign_in

#: Chromium's layout shifts, summed, with the elements that moved (after 2 s at rest).
SHIFTS = """() => new Promise(done => {
    let total = 0;
    const moved = [];
    new PerformanceObserver(list => {
        for (const shift of list.getEntries()) {
            if (shift.hadRecentInput) continue;
            total += shift.value;
            for (const source of shift.sources) {
                if (source.node) moved.push(source.node.className || source.node.nodeName);
            }
        }
    }).observe({type: "layout-shift", buffered: true});
    setTimeout(() => done([total, moved]), 2000);
})"""

#: What the inline script began reading as the page started, and whether the modules
#: took it up (each taken once: null once taken), with the members' text shown.
EARLY = """() => ({
    early: window.mk1early === undefined ? "none"
        : {db: window.mk1early.db === null, record: window.mk1early.record === null},
    opened: document.querySelectorAll("article .mk1-opened").length,
    preloaded: document.querySelectorAll('link[rel="modulepreload"]').length,
})"""
PAGES = ["guides/task-briefs/", "templates/daily-status-report/"]
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


@pytest.mark.parametrize("size", SIZES)
def test_a_member_and_a_visitor_see_no_layout_shift(
    browser: Any, served_site: str, size: str
) -> None:
    shifts = {}
    early = {}
    for who in ("member", "visitor"):
        context = browser.new_context(viewport=SIZES["desktop"])
        tab = context.new_page()
        if who == "member":  # where the member's name shows when signed in
            sign_in(tab, served_site, MEMBER, remember=True)
        tab.set_viewport_size(SIZES[size])
        for url in PAGES:
            tab.goto(served_site + url)
            shifts[f"{who} {url}"] = tab.evaluate(SHIFTS)
            early[f"{who} {url}"] = tab.evaluate(EARLY)
        context.close()
    over = {page: found for page, found in shifts.items() if found[0] > 0.02}
    assert not over, f"layout shift over 0.02: {over}"
    # A member's page reads their session from the first lines of its <head> (and the
    # modules use that read), and asks for the modules there; a visitor's page does
    # neither (its modules come after the stylesheets).
    member = {"early": {"db": True, "record": True}, "opened": 1, "preloaded": 1}
    visitor = {"early": "none", "opened": 0, "preloaded": 0}
    assert early == {
        f"{who} {url}": seen
        for who, seen in (("member", member), ("visitor", visitor))
        for url in PAGES
    }, early
