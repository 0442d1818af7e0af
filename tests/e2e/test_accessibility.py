"""Readable and usable for everyone: axe-core on visitors' and members' pages in the light
and the dark scheme, the sign-in and template forms by keyboard alone, what a screen
reader hears while signing in, the header on a phone, and the "page not found" page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from ..conftest import MEMBER
from .conftest import PageWatch, screenshot, sign_in, watched_tab

SCHEMES = {"light": "default", "dark": "slate"}  # Material's name for each
VISITOR_PAGES = {
    "home": "",
    "article": "three-mistakes/",
    "guide teaser": "guides/task-briefs/",
    "template library": "templates/",
    "template with a sample": "templates/daily-status-report/",
    "sign-in": "login/",
    "join": "join/",
    "not found": "guides/no-such-guide/",
}
MEMBER_PAGES = {
    "home": "",
    "guide": "guides/task-briefs/",
    "template library": "templates/",
    "template, filled in": "templates/daily-status-report/",
    "spreadsheet template, filled in": "templates/timesheet/",
}
PHONE = {"width": 390, "height": 844}
NOT_FOUND = "Failed to load resource: the server responded with a status of 404 (Not Found)"
axe = Axe()  # axe-core from the package's own file: no network


# Every transition and animation under way, awaited until none is left: Material's
# header fades its tabs and swaps its title while the page scrolls (filling a form
# scrolls it), and a colour halfway through a fade is one no reader is left with.
AT_REST = """async () => {
  // Material answers a scroll in the frames after it (an IntersectionObserver swaps the
  // header's title, the tabs fade): the page is at rest when two frames have passed
  // with no transition running, twice in a row.
  const frame = () => new Promise((done) => requestAnimationFrame(done));
  const frames = () => frame().then(frame);
  let quiet = 0;
  for (let round = 0; round < 40 && quiet < 2; round++) {
    await frames();
    const running = document.getAnimations().filter(
      (a) => a.playState === "running" && Number.isFinite(a.effect.getComputedTiming().endTime));
    quiet = running.length ? 0 : quiet + 1;
    await Promise.all(running.map((a) => a.finished.catch(() => null)));
  }
}"""


def violations(tab: Page) -> list[str]:
    """axe-core's violations of any impact on the page at rest, one line each."""
    tab.evaluate(AT_REST)
    found = axe.run(tab).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {v['help']}: "
        + "; ".join(node["html"][:160] for node in v["nodes"][:3])
        for v in found
    ]


@pytest.fixture(params=list(SCHEMES))
def scheme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def schemed_page(
    browser: Browser, served_site: str, scheme: str
) -> Iterator[tuple[Page, PageWatch]]:
    """A tab whose system asks for the scheme: Material follows it (the palette's media)."""
    with watched_tab(browser, served_site, color_scheme=scheme) as opened:
        yield opened


def fill_daily_report(tab: Page) -> None:
    tab.get_by_label("Your name").fill("Rosa Lima")
    tab.get_by_label("Client or manager name").fill("David Clarke")
    tab.get_by_label("Date").fill("12/01/2026")  # the site is in English: MM/DD/YYYY
    tab.get_by_label("Overall status").select_option("At risk")
    tab.get_by_label("Hours worked today", exact=True).fill("6.5")
    tab.get_by_label("What you finished today").fill("Closed 41 tickets.")


def fill_timesheet(tab: Page) -> None:
    tab.get_by_label("Worker name").fill("Rosa Lima")
    tab.get_by_label("Week starting").fill("3/9/2026")
    tab.get_by_label("Hourly rate in USD").fill("9")
    tab.get_by_label("Client or business").fill("7/7")  # not a date: but not a date field
    tab.locator(".mk-doc__example summary").click()  # the example sheet, opened


def test_axe_finds_nothing_on_visitors_and_members_pages(
    schemed_page: tuple[Page, PageWatch], served_site: str, scheme: str
) -> None:
    tab, watch = schemed_page
    found = {}
    for name, url in VISITOR_PAGES.items():
        tab.goto(served_site + url)
        expect(tab.locator("body")).to_have_attribute("data-md-color-scheme", SCHEMES[scheme])
        expect(tab.locator(".mk1-account")).to_be_visible()  # our modules have run
        found[f"visitor, {name}"] = violations(tab)
    # The not-found page's own 404 status, logged by Chromium, once: expected.
    watch.errors.remove(NOT_FOUND)

    sign_in(tab, served_site)
    for name, url in MEMBER_PAGES.items():
        tab.goto(served_site + url)
        expect(tab.locator("[data-mk1]")).to_have_count(0)  # every members' part opened
        if url.startswith("templates/daily"):
            fill_daily_report(tab)
            expect(tab.get_by_role("region", name="Preview")).to_contain_text("Rosa Lima")
        if url.startswith("templates/timesheet"):
            fill_timesheet(tab)
            expect(tab.get_by_role("region", name="Preview")).to_contain_text("03/09/2026")
            found["member, spreadsheet template, its date written right"] = violations(tab)
            # Then a date the site does not write that way: marked, and still clean.
            tab.get_by_label("Week starting").fill("31/12/2026")
            tab.get_by_label("Week starting").press("Tab")
            expect(tab.get_by_label("Week starting")).to_have_attribute("aria-invalid", "true")
        found[f"member, {name}"] = violations(tab)
    failed = {page: lines for page, lines in found.items() if lines}
    assert not failed, "\n".join(f"{page}: {line}" for page, ls in failed.items() for line in ls)


def test_dark_scheme_keeps_buttons_and_filled_blanks_readable(
    schemed_page: tuple[Page, PageWatch], served_site: str, scheme: str
) -> None:
    """What was unreadable in the dark: the outlined buttons, a filled blank; screenshots."""
    tab, _ = schemed_page
    tab.goto(served_site)
    screenshot(tab, f"home-{scheme}")
    sign_in(tab, served_site)
    tab.goto(served_site + "guides/task-briefs/")
    expect(tab.get_by_role("heading", name="Estimating time")).to_be_attached()
    screenshot(tab, f"member-guide-{scheme}")
    tab.goto(served_site + "templates/daily-status-report/")
    fill_daily_report(tab)
    filled = tab.locator(".mk-blank--filled").first
    expect(filled).to_have_text("12/01/2026")
    screenshot(tab, f"template-filled-{scheme}")
    for element in (filled, tab.get_by_role("button", name="Copy as Markdown")):
        assert contrast(element) >= 4.5, element


def test_every_way_to_join_is_readable_in_both_schemes(
    schemed_page: tuple[Page, PageWatch], served_site: str, scheme: str
) -> None:
    """The join buttons and links a visitor meets: their text on their own colour, and a
    button's colour on the page's, where the dark scheme's navy button on its near-black
    page was hard to find."""
    tab, _ = schemed_page
    for url, name, on_the_page in (
        ("", "Join the membership", False),  # the hero's, on its own navy
        ("", "Join the membership", True),  # the offer at the foot
        ("join/", "Join for $19 a month", True),
        ("guides/task-briefs/", "Join now", True),
        ("guides/task-briefs/", "Ask for a new one", False),
        ("login/", "Join now", True),
    ):
        tab.goto(served_site + url)
        expect(tab.locator(".mk1-account")).to_be_visible()  # our modules have run
        tab.evaluate(AT_REST)
        ways = tab.get_by_role("link", name=name, exact=True)
        link = ways.last if on_the_page else ways.first
        link.scroll_into_view_if_needed()
        where = f"{scheme}, /{url}: {name}"
        assert contrast(link) >= 4.5, where
        if on_the_page:
            assert surface_contrast(link) >= 3, where
    screenshot(tab, f"sign-in-join-{scheme}")


#: WCAG's relative luminance of a computed colour, and the contrast of two colours.
LUMINANCE = """
    const lum = (c) => c.match(/[\\d.]+/g).slice(0, 3).map((v) => v / 255)
        .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
        .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
    const ratio = (x, y) => {
        const [a, b] = [lum(x), lum(y)];
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    };
    const behind = (e) => {
        let back = e;
        while (back && getComputedStyle(back).backgroundColor.endsWith(", 0)")) {
            back = back.parentElement;
        }
        return getComputedStyle(back || document.body).backgroundColor;
    };
"""


def surface_contrast(element: Any) -> float:
    """WCAG contrast of an element's own background colour on what is behind it."""
    return float(
        element.evaluate(
            "e => {"
            + LUMINANCE
            + "return ratio(getComputedStyle(e).backgroundColor, behind(e.parentElement)); }"
        )
    )


def contrast(element: Any) -> float:
    """WCAG contrast of an element's text on its own (opaque) background colour."""
    return float(
        element.evaluate(
            "e => {" + LUMINANCE + "return ratio(getComputedStyle(e).color, behind(e)); }"
        )
    )


def focus_by_tab(tab: Page, target: Any, limit: int = 60) -> int:
    """Press Tab until `target` has the focus, as a keyboard user would; the presses."""
    for presses in range(1, limit + 1):
        tab.keyboard.press("Tab")
        if target.evaluate("e => e === document.activeElement"):
            return presses
    raise AssertionError(f"{target} not reached with {limit} presses of Tab")


def test_sign_in_by_keyboard_alone_and_what_a_screen_reader_hears(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, _ = page
    tab.goto(served_site + "login/")
    form = tab.get_by_role("form", name="Members, welcome back.")
    status, alert = form.get_by_role("status"), form.get_by_role("alert")
    # Live regions are in the page from the start, empty: what comes is announced.
    expect(status).to_have_text("")
    expect(alert).to_have_text("")
    tab.evaluate(
        """() => {
            window.mkHeard = [];
            const record = (m) => m.forEach(() => {
                for (const e of document.querySelectorAll('[role=status], [role=alert]')) {
                    const said = e.textContent.trim();
                    if (said && window.mkHeard.at(-1) !== said) window.mkHeard.push(said);
                }
            });
            new MutationObserver(record).observe(document.body,
                { subtree: true, childList: true, characterData: true });
        }"""
    )

    email = form.get_by_label("Email", exact=True)
    focus_by_tab(tab, email)
    tab.keyboard.press("Enter")  # nothing typed yet: said at once, and the focus stays
    expect(alert).to_have_text("Enter your email and your password.")
    expect(email).to_be_focused()
    expect(email).to_have_attribute("aria-invalid", "true")
    tab.keyboard.type(MEMBER.email)
    tab.keyboard.press("Tab")
    tab.keyboard.type("not the right password")
    tab.keyboard.press("Enter")
    expect(alert).to_contain_text("do not match")
    expect(status).to_have_text("")
    assert tab.evaluate("window.mkHeard")[:3] == [
        "Enter your email and your password.",
        "Checking your password…",
        "That email and password do not match a membership. Check both and try again.",
    ]
    expect(form.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")

    # Again (the focus is still in the password field), by the button this time: Tab
    # past "Remember me" to it, then Enter.
    expect(form.get_by_label("Password", exact=True)).to_be_focused()
    tab.keyboard.press("ControlOrMeta+A")
    tab.keyboard.type(MEMBER.password)
    focus_by_tab(tab, form.get_by_role("button", name="Sign in"), limit=2)
    tab.keyboard.press("Enter")
    tab.wait_for_url(served_site)
    expect(tab.get_by_text(MEMBER.name, exact=True)).to_be_visible()


def test_template_form_by_keyboard_alone(
    member_page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, _ = member_page
    tab.goto(served_site + "templates/daily-status-report/")
    preview = tab.get_by_role("region", name="Preview")
    focus_by_tab(tab, tab.get_by_label("Your name"))
    tab.keyboard.type("Rosa Lima")
    tab.keyboard.press("Tab")
    tab.keyboard.type("David Clarke")
    expect(preview).to_contain_text("Hi David Clarke, here is my update")
    copy = tab.get_by_role("button", name="Copy as plain text")
    focus_by_tab(tab, copy, limit=25)  # past the other fields and "Clear the form"
    tab.keyboard.press("Enter")
    expect(tab.locator(".mk-doc").get_by_role("status")).to_have_text("Copied as plain text.")
    text = tab.evaluate("navigator.clipboard.readText()")
    assert "- From: Rosa Lima" in text and "- To: David Clarke" in text


def test_header_on_a_phone_keeps_the_title_and_folds_the_account(
    browser: Browser, served_site: str
) -> None:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2)
    tab = context.new_page()
    sign_in_hidden_name(tab, served_site)
    title = tab.locator(".md-header__title")
    assert title.bounding_box()["width"] >= 140  # type: ignore[index]
    header = tab.locator(".md-header__inner")
    assert header.evaluate("e => e.scrollWidth <= e.clientWidth"), "the header overflows"
    account = tab.get_by_role("button", name=f"Account: {MEMBER.name}")
    expect(account).to_be_visible()
    expect(tab.get_by_text(MEMBER.name, exact=True)).to_be_hidden()
    screenshot(tab, "home-phone")

    focus_by_tab(tab, account)
    tab.keyboard.press("Enter")
    expect(account).to_have_attribute("aria-expanded", "true")
    expect(tab.get_by_text(MEMBER.name, exact=True)).to_be_visible()
    sign_out = tab.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_visible()
    assert sign_out.bounding_box()["x"] >= 0  # type: ignore[index]  # on the screen
    found = violations(tab)  # the open menu, on a phone
    assert not found, found
    tab.keyboard.press("Tab")
    expect(sign_out).to_be_focused()
    tab.keyboard.press("Escape")
    expect(account).to_be_focused()
    expect(sign_out).to_be_hidden()

    tab.goto(served_site + "guides/task-briefs/")
    expect(tab.get_by_role("heading", name="Estimating time")).to_be_attached()
    screenshot(tab, "member-guide-phone")
    tab.goto(served_site + "templates/daily-status-report/")
    fill_daily_report(tab)
    # The copy buttons at the top, under the header, and the filled-in preview below;
    # reached by scrolling down (scrolling up shows Material's "Back to top" over them).
    tab.evaluate("window.scrollTo(0, 0)")
    tab.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    tab.locator(".mk-doc__actions").evaluate(
        "e => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 64)"
    )
    screenshot(tab, "template-filled-phone")
    tab.goto(served_site + "templates/timesheet/")
    fill_timesheet(tab)
    tab.get_by_role("region", name="Preview").scroll_into_view_if_needed()
    screenshot(tab, "timesheet-filled-phone")
    page_width = tab.evaluate("document.documentElement.scrollWidth")
    assert page_width <= PHONE["width"], "the sheet makes the page wider than the phone"
    found = violations(tab)  # the sheet and the example, on a phone
    assert not found, found
    context.close()


@pytest.mark.parametrize("name", ["", "The Freelance Bookkeeping Handbook"])
def test_a_phone_shows_the_site_name_whole(browser: Browser, served_site: str, name: str) -> None:
    """Material cut the name off ("Outsource Wi…") beside a visitor's "Sign in" and the
    search: it wraps instead, the bundled one and a long one alike."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2)
    tab = context.new_page()
    tab.goto(served_site)
    account = tab.locator(".mk1-account")
    expect(account).to_be_visible()
    shown = tab.locator(".md-header__topic").first.locator(".md-ellipsis")
    if name:
        shown.evaluate("(e, name) => { e.textContent = name; }", name)
    expect(shown).to_have_text(name or "Outsource Without Regret")
    tab.evaluate(AT_REST)
    screenshot(tab, "header-phone" + ("-long-name" if name else ""))
    assert shown.evaluate(
        "e => e.scrollWidth <= e.clientWidth && e.scrollHeight <= e.clientHeight"
    ), "the site's name is cut off"
    # In the header, clear of the sign-in link and the search button, which stay usable.
    box, header = shown.bounding_box(), tab.locator(".md-header").bounding_box()
    search = tab.locator(".md-header__inner > label[for=__search]")
    assert box is not None and header is not None
    assert header["y"] <= box["y"] and box["y"] + box["height"] <= header["y"] + header["height"]
    assert box["x"] + box["width"] <= account.bounding_box()["x"]  # type: ignore[index]
    expect(account.get_by_role("link", name="Sign in")).to_be_visible()
    expect(search).to_be_visible()
    search.click()
    expect(tab.get_by_role("textbox", name="Search")).to_be_focused()
    context.close()


def sign_in_hidden_name(tab: Page, site: str) -> None:
    """Sign in where the header shows no name (a phone): wait for the account button."""
    tab.goto(site + "login/")
    tab.get_by_label("Email", exact=True).fill(MEMBER.email)
    tab.get_by_label("Password", exact=True).fill(MEMBER.password)
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(site)
    expect(tab.get_by_role("button", name=f"Account: {MEMBER.name}")).to_be_visible()


def test_members_and_visitors_each_get_their_own_calls_to_action(
    page: tuple[Page, PageWatch], member_page: tuple[Page, PageWatch], served_site: str
) -> None:
    visitor, _ = page
    visitor.goto(served_site)
    hero = visitor.locator(".mk-hero")
    expect(hero.get_by_role("link", name="Join the membership")).to_be_visible()
    expect(hero.get_by_role("link", name="Open the guides")).to_be_hidden()
    visitor.goto(served_site + "login/")
    expect(visitor.locator(".mk1-join")).to_be_visible()

    member, watch = member_page
    member.goto(served_site)
    hero = member.locator(".mk-hero")
    expect(hero.get_by_role("link", name="Open the guides")).to_be_visible()
    expect(hero.get_by_role("link", name="Join the membership")).to_be_hidden()
    expect(member.get_by_text("Every guide and reporting document for $19 a month")).to_be_hidden()
    member.goto(served_site + "login/")
    expect(member.get_by_text(f"You are signed in as {MEMBER.name}.")).to_be_visible()
    expect(member.locator(".mk1-join")).to_be_hidden()

    # The join box is hidden before any module runs (no flash): with main.js held back,
    # the boot script alone marks a member's page from the last visit's hint.
    member.route("**/assets/memberkit/main.*.js", lambda route: route.abort())
    member.goto(served_site + "login/")
    expect(member.locator("html")).to_have_class(re.compile(r"\bmk1-signed-in\b"))
    expect(member.locator(".mk1-join")).to_be_hidden()
    member.unroute("**/assets/memberkit/main.*.js")
    watch.errors = [e for e in watch.errors if "net::ERR_FAILED" not in e]


@pytest.mark.parametrize("width", [1280, 900, 600, 390])
def test_home_page_cards_fill_even_rows(browser: Browser, served_site: str, width: int) -> None:
    tab = browser.new_page(viewport={"width": width, "height": 900})
    tab.goto(served_site)
    for grid in tab.locator(".mk-hero ~ .grid.cards").all():
        tops = [card.bounding_box()["y"] for card in grid.locator("li").all()]  # type: ignore[index]
        per_row = [tops.count(top) for top in sorted(set(tops))]
        assert len(set(per_row)) == 1, f"{width}px: rows of {per_row}"
    tab.close()


def test_not_found_page_offers_a_way_on(page: tuple[Page, PageWatch], served_site: str) -> None:
    tab, watch = page
    tab.goto(served_site + "guides/no-such-guide/")
    expect(tab).to_have_title(re.compile("^Page not found"))
    expect(tab.get_by_role("heading", level=1)).to_have_text("Page not found")
    # Absolute links: the page is served at any depth.
    for name, url in (
        ("The home page", ""),
        ("The guides", "guides/"),
        ("The templates", "templates/"),
    ):
        assert tab.get_by_role("link", name=name).evaluate("a => a.href") == served_site + url
    search = tab.get_by_role("search", name="Search the site")
    search.get_by_role("searchbox").fill("budget nobody watches")
    search.get_by_role("searchbox").press("Enter")
    # The home page, with Material's search open on the words asked for.
    expect(tab.get_by_role("textbox", name="Search")).to_have_value("budget nobody watches")
    expect(tab.locator(".md-search-result__item").first).to_be_visible()
    watch.errors.remove(NOT_FOUND)
