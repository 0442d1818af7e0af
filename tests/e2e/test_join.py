"""A visitor is invited to join where members' content starts, in Chromium behind nginx."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Page, Route, expect

from generator.content.join import CHECKOUT_PLACEHOLDER

from ..conftest import MEMBER
from .conftest import PageWatch, screenshot

JOIN_TEXT = "Join for $19 a month: all six guides in full and twelve ready-made documents."
GUIDE = "guides/task-briefs/"


def test_the_locked_part_offers_sign_in_join_and_a_new_password(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, _ = page
    tab.goto(served_site + GUIDE)
    expect(tab.get_by_role("button", name="Sign in")).to_be_visible()
    box = tab.get_by_role("complementary", name="Membership")
    expect(box).to_be_visible()
    expect(box).to_contain_text(JOIN_TEXT)
    # Below the sign-in form, not inside the part the browser replaces.
    form = tab.locator("form.mk1-signin").bounding_box()
    below = box.bounding_box()
    assert form is not None and below is not None and below["y"] >= form["y"] + form["height"]
    box.scroll_into_view_if_needed()
    screenshot(tab, "join-box")
    # The link followed right after a scroll, and the join page arriving later than
    # Material's scroll bookkeeping (100 ms after the last scroll): it lands on the
    # heading all the same, not at the offset of the page it left.
    tab.route("**/join/", slow_answer)
    tab.mouse.wheel(0, 40)
    box.get_by_role("link", name="Ask for a new one").click()
    expect(tab).to_have_url(re.compile(r"/join/#forgot-your-password$"))
    expect(tab.get_by_role("heading", name="Forgot your password?")).to_be_in_viewport()
    tab.go_back()
    expect(tab).to_have_url(re.compile(f"/{GUIDE}$"))
    tab.get_by_role("complementary", name="Membership").get_by_role("link", name="Join now").click()
    expect(tab).to_have_url(re.compile(r"/join/$"))
    # The join page's own button goes to the checkout, not to the join page again.
    price = tab.get_by_role("link", name="Join for $19 a month")
    expect(price).to_have_attribute("href", CHECKOUT_PLACEHOLDER)


def slow_answer(route: Route) -> None:
    """A page that takes 0.3 s to arrive, as on a slow connection."""
    time.sleep(0.3)
    route.continue_()


def test_the_join_box_is_there_without_javascript(browser: Any, served_site: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        tab = context.new_page()
        tab.goto(served_site + GUIDE)
        # (Chromium's switch for scripts leaves <noscript> unrendered: the note stands.)
        expect(tab.get_by_text("This part is for members.")).to_be_visible()
        box = tab.get_by_role("complementary", name="Membership")
        expect(box).to_contain_text(JOIN_TEXT)
        expect(box.get_by_role("link", name="Join now")).to_have_attribute("href", "../../join/")
        expect(box).to_contain_text("Forgot your password?")
        tab.goto(served_site + "login/")
        expect(tab.get_by_role("complementary", name="Membership")).to_contain_text(JOIN_TEXT)
    finally:
        context.close()


def test_the_sign_in_page_invites_visitors_to_join(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, _ = page
    tab.goto(served_site + "login/")
    expect(tab.get_by_role("button", name="Sign in")).to_be_visible()
    box = tab.get_by_role("complementary", name="Membership")
    expect(box).to_contain_text(JOIN_TEXT)
    expect(box.get_by_role("link", name="Ask for a new one")).to_be_visible()
    box.get_by_role("link", name="Join now").click()
    expect(tab).to_have_url(re.compile(r"/join/$"))


def test_members_are_not_asked_to_join(
    member_page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, _ = member_page
    tab.goto(served_site + GUIDE)
    expect(tab.get_by_role("heading", name="Estimating time")).to_be_visible()
    expect(tab.locator(".mk1-join")).to_be_hidden()


def test_a_visitors_download_says_why_it_asks_to_sign_in(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    """ "Download all templates (.zip)" for a visitor: the sign-in page says it is for
    members, and signing in comes back to the library."""
    tab, _ = page
    tab.goto(served_site + "templates/")
    tab.get_by_role("link", name=re.compile(r"Download all templates \(\.zip\)")).click()
    expect(tab).to_have_url(re.compile(r"/login/\?next=templates%2F&download="))
    note = tab.locator(".mk1-signin__note")
    expect(note).to_have_text(
        "“Download all templates (.zip)” is for members: sign in to download it."
    )
    screenshot(tab, "sign-in-for-a-download")
    tab.get_by_label("Email", exact=True).fill(MEMBER.email)
    tab.get_by_label("Password", exact=True).fill(MEMBER.password)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab).to_have_url(re.compile(r"/templates/$"))
