"""A member whose membership ended, in Chromium behind nginx: signing in tells them the
day it ended and how to renew, and opens nothing; a wrong password still says the usual;
a remembered member whose membership ended between two builds is told calmly, once, on
the next visit, and forgotten. And what the form shows while the password is checked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from generator.members import store

from ..conftest import MEMBER, TestMember
from . import test_keystore as keystore_site
from .conftest import PageWatch, screenshot, sign_in, watched_tab
from .test_accessibility import PHONE, SCHEMES, violations
from .test_keystore import GENERIC, STORED

PROTECTED = "Estimating time"  # below the divider of the task-briefs guide
GUIDE = "guides/task-briefs/"
YESTERDAY = dt.date.today() - dt.timedelta(days=1)
ENDED = TestMember(
    "ended@example.org", "Ended Member", "an ended long password 81", expires=YESTERDAY.isoformat()
)
#: Signed in and remembered, then their membership ends before the next build.
LEAVING = TestMember("leaving@example.org", "Leaving Soon", "a leaving long password 64")
# "7 December 2026", as the site's language (en) writes it in the browser.
LONG_DATE = "(d) => new Intl.DateTimeFormat(document.documentElement.lang, {day: 'numeric', "
LONG_DATE += "month: 'long', year: 'numeric', timeZone: 'UTC'}).format(new Date(d + 'T00:00Z'))"


class Site(keystore_site.Site):
    def end(self, email: str, last_day: dt.date) -> None:
        """The member's last day moved to `last_day`, as `members` commands would."""
        folder = self.project / store.STATE_DIR
        state = store.load(folder)
        state.members[email].expires = last_day.isoformat()
        store.save(state, folder)


@pytest.fixture(scope="module")
def ending(tmp_path_factory: pytest.TempPathFactory, nginx_bin: str) -> Iterator[Site]:
    with Site.served(tmp_path_factory, "ended", (MEMBER, ENDED, LEAVING)) as site:
        yield site


def _submit(tab: Page, member: TestMember, password: str | None = None) -> None:
    tab.get_by_label("Email", exact=True).fill(member.email)
    tab.get_by_label("Password", exact=True).fill(password or member.password)
    tab.get_by_role("button", name="Sign in").click()


def _join_href(tab: Page) -> str:
    return str(tab.locator(".mk1-join .md-button").first.evaluate("a => a.href"))


@pytest.mark.parametrize("view", ["light", "dark", "phone"])
def test_an_ended_member_is_told_the_day_and_the_way_to_renew(
    ending: Site, browser: Any, view: str
) -> None:
    site = ending.url
    options: dict[str, Any] = {"color_scheme": "dark" if view == "dark" else "light"}
    with watched_tab(browser, site, **options) as (tab, _):
        if view == "phone":
            tab.set_viewport_size(PHONE)
        tab.goto(site + "login/")
        expect(tab.locator("body")).to_have_attribute(
            "data-md-color-scheme", SCHEMES["dark" if view == "dark" else "light"]
        )
        _submit(tab, ENDED)
        day = tab.evaluate(LONG_DATE, ENDED.expires)
        alert = tab.locator(".mk1-signin__error")
        expect(alert).to_have_text(f"Your membership ended on {day}. Renew it to read on.")
        renew = alert.get_by_role("link", name="Renew it")
        expect(renew).to_have_attribute("href", _join_href(tab))  # as the join box's button
        # The password was right: no field is marked at fault; nothing is kept or opened.
        expect(tab.locator("[aria-invalid]")).to_have_count(0)
        expect(tab.get_by_role("button", name="Sign in")).to_be_visible()
        expect(tab.locator(".mk1-account")).to_contain_text("Sign in")
        assert tab.evaluate(STORED) is None
        screenshot(tab, f"ended-sign-in-{view}")
        assert not violations(tab)
        # On a guide: the same, where the form stands in for the members' part.
        tab.goto(site + GUIDE)
        _submit(tab, ENDED)
        expect(tab.locator(".mk1-signin__error")).to_contain_text(f"ended on {day}")
        expect(tab.get_by_role("heading", name=PROTECTED)).to_have_count(0)
        assert tab.evaluate(STORED) is None
        renew = tab.locator(".mk1-signin__error").get_by_role("link", name="Renew it")
        renew.click()
        expect(tab).to_have_url(site + "join/")


def test_a_wrong_password_still_says_the_usual(ending: Site, browser: Any) -> None:
    with watched_tab(browser, ending.url) as (tab, _):
        tab.goto(ending.url + "login/")
        _submit(tab, ENDED, "not the password of this member")
        expect(tab.locator(".mk1-signin__error")).to_have_text(
            GENERIC + ". Check both and try again."
        )
        expect(tab.locator(".mk1-signin__error a")).to_have_count(0)
        expect(tab.locator("[aria-invalid=true]")).to_have_count(2)


def test_an_entry_that_holds_no_key_ended_whatever_the_browsers_clock(
    ending: Site, browser: Any
) -> None:
    """A clock a few days behind the build's (or another time zone): still ended, never
    a session that holds no key."""
    with watched_tab(browser, ending.url) as (tab, _):
        tab.clock.install(time=f"{YESTERDAY - dt.timedelta(days=3)}T12:00:00Z")
        tab.goto(ending.url + "login/")
        _submit(tab, ENDED)
        expect(tab.locator(".mk1-signin__error")).to_contain_text("Your membership ended on")
        assert tab.evaluate(STORED) is None


def test_the_login_link_of_a_membership_that_ended_says_it_no_longer_works(
    ending: Site, browser: Any
) -> None:
    from generator.members.roster import login_link

    with watched_tab(browser, ending.url) as (tab, _):
        tab.goto(login_link(ending.url, ENDED.email, ENDED.link))
        note = tab.locator(".mk1-signin__note")
        expect(note).to_contain_text("This login link no longer works")
        expect(tab.locator(".mk1-signin__error")).to_be_empty()
        expect(tab.locator(".mk1-account")).to_contain_text("Sign in")


def test_a_remembered_member_whose_membership_ended_is_told_calmly_once(
    ending: Site, browser: Any
) -> None:
    site = ending.url
    with watched_tab(browser, site) as (tab, _):
        sign_in(tab, site, LEAVING, remember=True)
        tab.goto(site + GUIDE)
        expect(tab.get_by_role("heading", name=PROTECTED)).to_be_visible()
        assert tab.evaluate(STORED)["email"] == LEAVING.email
        ending.end(LEAVING.email, YESTERDAY)  # between two builds
        ending.build()
        tab.goto(site + GUIDE)  # the next visit
        day = tab.evaluate(LONG_DATE, YESTERDAY.isoformat())
        note = tab.locator("[data-mk1] .mk1-signin__note")
        expect(note).to_have_text(f"Your membership ended on {day}. Renew it to read on.")
        expect(note.get_by_role("link", name="Renew it")).to_have_attribute("href", _join_href(tab))
        # No error on a form they never typed in; the keys they kept are forgotten.
        expect(tab.locator(".mk1-signin__error")).to_be_empty()
        expect(tab.locator("[aria-invalid]")).to_have_count(0)
        expect(tab.get_by_role("heading", name=PROTECTED)).to_have_count(0)
        expect(tab.locator(".mk1-account")).to_contain_text("Sign in")
        assert tab.evaluate(STORED) is None
        screenshot(tab, "ended-remembered")
        assert not violations(tab)
        # Once: the visit after, the form as for anyone.
        tab.reload()
        expect(tab.get_by_role("button", name="Sign in")).to_be_visible()
        expect(tab.locator(".mk1-signin__note")).to_have_count(0)


# -- while the password is checked -------------------------------------------------------

# Everything the form showed while it was busy, from the click until it was done.
WATCH_BUSY = """() => {
  const form = document.querySelector(".mk1-signin");
  window.mkBusy = [];
  new MutationObserver(() => {
    if (form.getAttribute("aria-busy") !== "true") return;
    window.mkBusy.push({
      button: form.querySelector("button").textContent,
      status: form.querySelector(".mk1-signin__progress").textContent.trim(),
      bar: Boolean(form.querySelector(".mk1-signin__progress progress")),
    });
  }).observe(form, { subtree: true, childList: true, attributes: true, characterData: true });
}"""


def test_signing_in_says_so_and_shows_progress_on_a_slow_phone(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, _ = page
    cdp = tab.context.new_cdp_session(tab)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 6})  # a slow phone
    tab.goto(served_site + "login/")
    form = tab.locator(".mk1-signin")
    # What the member sees while PBKDF2 runs (a wrong password: the page stays).
    expect(form.get_by_role("button", name="Sign in")).to_be_visible()
    tab.evaluate(WATCH_BUSY)
    _submit(tab, MEMBER, "not the right password at all")
    expect(tab.locator(".mk1-signin__error")).to_contain_text(GENERIC)
    seen = tab.evaluate("window.mkBusy")
    assert seen, "the form never showed it was busy"
    assert {s["button"] for s in seen} == {"Signing in…"}
    assert {(s["status"], s["bar"]) for s in seen} == {("Checking your password…", True)}
    expect(form.get_by_role("button")).to_have_text("Sign in")  # and back
    expect(form.get_by_role("status")).to_be_empty()
    # Seen on the screen: the member's shard held back, the form stays busy.
    held: list[Any] = []
    tab.route("**/mk1/keys/*.json", lambda route: held.append(route))
    tab.reload()
    _submit(tab, MEMBER)
    button = form.get_by_role("button", name="Signing in…")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-disabled", "true")
    status = form.get_by_role("status")
    expect(status).to_have_text("Checking your password…")
    expect(status.locator("progress")).to_be_visible()
    screenshot(tab, "signing-in")
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    for route in held:
        route.continue_()
    tab.unroute("**/mk1/keys/*.json")
    tab.wait_for_url(served_site)
    expect(tab.locator(".mk1-account")).to_contain_text(MEMBER.name)
