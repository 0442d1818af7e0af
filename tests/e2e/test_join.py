"""A visitor is invited to join where members' content starts, in Chromium behind nginx."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from generator.content.join import CHECKOUT_PLACEHOLDER

from ..conftest import MEMBER
from .conftest import PageWatch, screenshot, watched_tab

JOIN_TEXT = "All six guides in full and twelve ready-made documents. Cancel at any time."
PRICE = "$19 a month"
GUIDE = "guides/task-briefs/"
SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def test_the_locked_part_offers_sign_in_join_and_a_new_password(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, _ = page
    tab.goto(served_site + GUIDE)
    expect(tab.get_by_role("button", name="Sign in")).to_be_visible()
    box = tab.get_by_role("complementary", name="Membership")
    expect(box).to_be_visible()
    expect(box).to_contain_text(JOIN_TEXT)
    expect(box.locator(".mk1-join__price")).to_have_text(PRICE)
    # Beside the sign-in form on a wide screen, not inside the part the browser replaces.
    form = tab.locator("form.mk1-signin").bounding_box()
    beside = box.bounding_box()
    assert form is not None and beside is not None
    assert beside["x"] >= form["x"] + form["width"] and beside["y"] == form["y"]
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


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_a_visitor_sees_the_price_within_a_screen_of_the_locked_part(
    browser: Any, served_site: str, screen: str, scheme: str
) -> None:
    """Where the page stops for visitors: the sign-in form for members, and for visitors
    the price, what members get and the join button, all in the one screen."""
    with watched_tab(browser, served_site, color_scheme=scheme) as (tab, _):
        tab.set_viewport_size(SCREENS[screen])
        tab.goto(served_site + GUIDE)
        sign_in = tab.locator("form.mk1-signin").get_by_role("button", name="Sign in")
        expect(sign_in).to_be_visible()
        # The members' part just under the header, as reached by scrolling to it.
        tab.locator(".mk1-locked").evaluate(
            "e => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 64)"
        )
        box = tab.get_by_role("complementary", name="Membership")
        for seen in (
            sign_in,
            box.get_by_text(PRICE, exact=True),
            box.get_by_text(JOIN_TEXT),
            box.get_by_role("link", name="Join now"),
        ):
            expect(seen).to_be_in_viewport(ratio=1)
        screenshot(tab, f"locked-part-{screen}-{scheme}")


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_home_page_shows_the_price_and_what_members_get_on_its_first_screen(
    browser: Any, served_site: str, screen: str
) -> None:
    with watched_tab(browser, served_site) as (tab, _):
        tab.set_viewport_size(SCREENS[screen])
        tab.goto(served_site)
        offer = tab.locator(".mk-hero__offer")
        expect(offer).to_contain_text(f"{PRICE}, cancel at any time: six in-depth guides")
        expect(offer).to_be_in_viewport(ratio=1)
        screenshot(tab, f"home-offer-{screen}")


def test_the_join_pages_offer_is_in_the_brands_colours_and_no_smaller_than_the_text(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, _ = page
    tab.goto(served_site + "join/")
    offer = tab.locator(".admonition.offer").first
    title = offer.locator(".admonition-title")
    expect(title).to_have_text(f"{PRICE}, cancel at any time")
    size = "e => parseFloat(getComputedStyle(e).fontSize)"
    text = tab.locator("article > p").first.evaluate(size)
    assert (
        title.evaluate(size) > text and offer.locator("p:not([class])").first.evaluate(size) == text
    )
    primary = tab.evaluate(
        """() => { const probe = document.createElement("i");
            probe.style.color = "var(--md-primary-fg-color)"; document.body.append(probe);
            const color = getComputedStyle(probe).color; probe.remove(); return color; }"""
    )
    assert title.evaluate("e => getComputedStyle(e).backgroundColor") == primary
    expect(offer.get_by_role("link", name=f"Join for {PRICE}")).to_be_visible()
    screenshot(tab, "join-offer")


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
