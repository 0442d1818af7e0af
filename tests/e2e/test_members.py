"""A member's journey in Chromium behind nginx: sign in, read, search, sign out; and attacks."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from ..conftest import MEMBER, OTHER
from ..protection.test_mk1 import PAGE_VECTOR, SITE
from .conftest import (
    CHROMIUM,
    LAUNCH_ARGS,
    PageWatch,
    instant_navigation_ready,
    screenshot,
    sign_in,
)

PROTECTED = "Estimating time"  # a heading below the divider of the task-briefs guide
EXPIRING_AFTER = "2099-01-02T12:00:00Z"  # the browser's clock, a day after EXPIRING ends


def test_sign_in_read_navigate_search_and_sign_out(
    member_page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, _ = member_page
    expect(tab.locator(".mk1-account")).to_contain_text(MEMBER.name)
    tab.goto(served_site + "guides/task-briefs/")
    expect(tab.get_by_role("heading", name=PROTECTED)).to_be_visible()
    toc = tab.locator('.md-sidebar--secondary [data-md-component="toc"]')
    expect(toc).to_contain_text(PROTECTED)
    screenshot(tab, "member-guide")

    # Instant navigation: Material swaps the page in place (the window survives: a full
    # load would lose the mark set here); the new page opens all the same.
    instant_navigation_ready(tab)
    tab.evaluate("window.mkSamePage = true")
    # Material closes its drawer and its search 125 ms after a link is followed, page
    # there or not: a search opened before then is closed under the query being typed
    # (the results stay hidden). The drawer, the navigation of small screens, has no
    # effect at this width: left open, it shows when Material has closed them.
    drawer = tab.locator("#__drawer")
    drawer.evaluate("toggle => { toggle.checked = true; }")
    tab.locator(".md-sidebar--primary").get_by_role(
        "link", name="Budgeting and paying remote workers"
    ).click()
    expect(tab).to_have_url(re.compile(r"/guides/budgeting-and-paying/$"))
    expect(tab.get_by_role("heading", name="The five payment models")).to_be_visible()
    expect(tab.locator("[data-mk1]")).to_have_count(0)
    assert tab.evaluate("window.mkSamePage === true"), "the page was loaded anew, not instantly"
    expect(drawer).not_to_be_checked()

    tab.get_by_role("textbox", name="Search").click()
    tab.keyboard.type("estimating time")
    result = tab.locator(".md-search-result__item", has_text=PROTECTED).first
    expect(result).to_be_visible()
    tab.keyboard.press("Escape")

    tab.get_by_role("button", name="Sign out").click()
    expect(tab.locator(".mk1-account")).to_contain_text("Sign in")
    tab.goto(served_site + "guides/task-briefs/")
    tab.reload()
    expect(tab.get_by_role("button", name="Sign in")).to_be_visible()
    assert PROTECTED not in tab.content()


def test_wrong_password_gets_one_generic_message(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, _ = page
    messages = []
    for email, password in ((MEMBER.email, "not the right password"), ("nobody@x.org", "x" * 14)):
        tab.goto(served_site + "guides/task-briefs/")
        tab.get_by_label("Email", exact=True).fill(email)
        tab.get_by_label("Password", exact=True).fill(password)
        tab.get_by_role("button", name="Sign in").click()
        alert = tab.get_by_role("alert")
        expect(alert).to_contain_text("do not match")
        messages.append(alert.inner_text())
    assert messages[0] == messages[1]
    screenshot(tab, "wrong-password")
    assert PROTECTED not in tab.content()


def test_login_link_signs_in_and_leaves_no_trace(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    from generator.members.roster import login_link

    tab, _ = page
    tab.goto(served_site + "three-mistakes/")  # a page before the link, to go back to
    link = login_link(served_site, OTHER.email, OTHER.link)
    secret = link.partition("#login=")[2]
    tab.goto(link)
    # Signed in, the browser moves on to the home page and shows the member there.
    expect(tab).to_have_url(served_site)
    expect(tab.locator(".mk1-account")).to_contain_text(OTHER.name)
    tab.wait_for_load_state("load")
    assert "#login" not in tab.url
    assert secret not in tab.evaluate("location.href + JSON.stringify(history.state)")
    # Back through the history: the link's entry, the sign-in page, no longer carries
    # its secret. go_back returns at the first navigation it sees, and Material saving
    # the scroll offset of the page being left (history.replaceState, about 100 ms after
    # it started) is one: each step waits for the page it goes back to, not only for
    # go_back, before the next (a second go_back while the first is arriving fails).
    for previous in ("login/", "three-mistakes/"):
        tab.go_back()
        expect(tab).to_have_url(served_site + previous)
        tab.wait_for_load_state("load")
        assert secret not in tab.url and "#login" not in tab.url


def test_login_link_opened_on_the_sign_in_page_signs_in(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    """Only the fragment changes, so the page is not loaded again: the link still works."""
    from generator.members.roster import login_link

    tab, _ = page
    tab.goto(served_site + "login/")
    expect(tab.get_by_label("Email", exact=True)).to_be_visible()
    tab.goto(login_link(served_site, OTHER.email, OTHER.link))
    expect(tab.locator(".mk1-account")).to_contain_text(OTHER.name)
    assert "#login" not in tab.url


def _rewrite_envelope(route: Route, change: Any) -> None:
    response = route.fetch()
    body = response.text()
    match = re.search(r'data-mk1="([^"]+)"', body)
    assert match
    body = body.replace(match.group(1), change(match.group(1)))
    route.fulfill(response=response, body=body)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_tampered_or_moved_envelope_shows_an_error_not_garbage(
    member_page: tuple[Page, PageWatch], served_site: str, bundled_site: Path
) -> None:
    tab, watch = member_page

    def flip(envelope: str) -> str:
        data = bytearray(_unb64(envelope))
        data[-20] ^= 0x01
        return _b64(bytes(data))

    tab.route("**/guides/task-briefs/", lambda route: _rewrite_envelope(route, flip))
    tab.goto(served_site + "guides/task-briefs/")
    expect(tab.get_by_role("alert")).to_contain_text("could not be opened")
    assert PROTECTED not in tab.locator("article").inner_text()
    screenshot(tab, "tampered")

    other = re.search(
        r'data-mk1="([^"]+)"',
        (bundled_site / "guides/budgeting-and-paying/index.html").read_text(),
    ).group(1)
    tab.unroute("**/guides/task-briefs/")
    tab.route("**/guides/task-briefs/", lambda route: _rewrite_envelope(route, lambda _: other))
    tab.goto(served_site + "guides/task-briefs/")
    expect(tab.get_by_role("alert")).to_contain_text("could not be opened")
    assert "The five payment models" not in tab.locator("article").inner_text()
    watch.errors.clear()  # the failed decryptions are expected here


def test_a_page_of_another_key_renews_the_keys_and_never_signs_out(
    member_page: tuple[Page, PageWatch], served_site: str
) -> None:
    """`v` names a key (PROTOCOL.md): a page sealed under another version than the one
    the member holds makes the browser fetch the site's keys again (they may have
    changed since sign-in), then the page; when neither matches, the member is told
    and stays signed in."""
    tab, _ = member_page

    def other_version(envelope: str) -> str:
        data = _unb64(envelope)
        held = re.search(rb'"v":(\d+),', data)
        assert held is not None
        return _b64(data.replace(held.group(0), b'"v":%d,' % (int(held.group(1)) + 1), 1))

    asked: list[str] = []
    tab.on("request", lambda request: asked.append(request.url))
    tab.route("**/guides/task-briefs/", lambda route: _rewrite_envelope(route, other_version))
    tab.goto(served_site + "guides/task-briefs/")
    expect(tab.locator(".mk1-signin__note")).to_contain_text("older copy of the page")
    assert any(url.endswith("/mk1/keystore.json") for url in asked), "keys fetched again"
    assert len([url for url in asked if url.endswith("/guides/task-briefs/")]) >= 2
    assert PROTECTED not in tab.locator("article").inner_text()
    tab.unroute("**/guides/task-briefs/")
    tab.goto(served_site + "guides/vetting-and-interviewing/")
    expect(tab.get_by_role("heading", name="The paid trial task")).to_be_visible()
    expect(tab.locator(".mk1-account")).to_contain_text(MEMBER.name)


@pytest.mark.parametrize("remember", [True, False], ids=["remembered", "this-session-only"])
def test_remember_me_across_a_browser_restart(
    served_site: str, tmp_path: Path, remember: bool, browser: Any
) -> None:
    profile = tmp_path / "profile"
    for run in range(2):  # two browser processes, one profile on disk: a restart
        context = browser.browser_type.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, args=LAUNCH_ARGS
        )
        tab = context.new_page()
        if run == 0:
            sign_in(tab, served_site, remember=remember)
        tab.goto(served_site + "guides/task-briefs/")
        if run == 1 and remember:
            expect(tab.get_by_role("heading", name=PROTECTED)).to_be_visible()
        elif run == 1:
            expect(tab.get_by_role("button", name="Sign in")).to_be_visible()
            assert PROTECTED not in tab.content()
        context.close()


def test_protocol_vectors_in_the_browser(page: tuple[Page, PageWatch], served_site: str) -> None:
    tab, _ = page
    tab.goto(served_site)
    result = tab.evaluate(
        """async ([site, vector]) => {
            const mk = window.memberkit;
            const alice = await mk.deriveMember(site, "Alice@Example.com",
                "correct horse battery staple", 1000);
            const bob = await mk.deriveMember(site, "bob@example.org", "  Tr0ub4dor&3  ", 600000);
            const tierKey = await crypto.subtle.importKey("raw",
                Uint8Array.from({length: 32}, (_, i) => i), "AES-GCM", false, ["decrypt"]);
            const session = {site, keys: {members: {v: 1, key: tierKey}}};
            const opened = await mk.openEnvelope(mk.b64(vector), "guides/hiring/", session);
            let moved = "";
            try { await mk.openEnvelope(mk.b64(vector), "guides/other/", session); }
            catch (error) { moved = error.code; }
            return {
                alice: [alice.lookup, mk.hex(alice.kekBytes)],
                bob: [bob.lookup, mk.hex(bob.kekBytes)],
                layout3: [
                    mk.hex(alice.lookupKeyBytes).slice(0, 32),
                    await mk.epochLookup(alice.lookupKey, "q7ZP0cY2m1H8vT3xK9aR4w"),
                    (await mk.emailShard(site, " Alice@Example.com")).slice(0, 4),
                    (await mk.emailShard(site, "bob@example.org")).slice(0, 4),
                ],
                plain: new TextDecoder().decode(opened.data),
                moved,
            };
        }""",
        [SITE, PAGE_VECTOR],
    )
    assert result["alice"] == [
        "ef0326931c9709ab309d210d6ee67ee6",
        "dd53ba88c00f45cc33ba3fd12ca0803d3f9046fd5a1640e13d943fc2633ea70f",
    ]
    assert result["bob"] == [
        "c02f6695f26207314c24de4bb8518e3a",
        "db3e0389e7209a84225087d707620cb6e1347cbaca0ac9c21a183e0725a1d852",
    ]
    assert result["layout3"] == [
        "ef0326931c9709ab309d210d6ee67ee6",
        "7e80c7e3aa925f0a9d81863446e402b8",
        "85f7",
        "7dea",
    ]
    assert result["plain"] == '{"content":"<p>Secret</p>"}'
    assert result["moved"] == "moved"


def test_an_expired_membership_is_refused_in_the_browser(
    page: tuple[Page, PageWatch], served_site: str, bundled_project: Path
) -> None:
    """Between builds a member's expiry can pass: the browser refuses the stale entry."""
    from ..conftest import EXPIRING

    tab, _ = page
    tab.clock.install(time=EXPIRING_AFTER)
    tab.goto(served_site + "login/")
    tab.get_by_label("Email", exact=True).fill(EXPIRING.email)
    tab.get_by_label("Password", exact=True).fill(EXPIRING.password)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("alert")).to_contain_text("Your membership ended on")
    expect(tab.locator(".mk1-account")).to_contain_text("Sign in")


def test_the_headers_sign_in_comes_back_to_the_page_being_read(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    """From a guide's teaser, reached by instant navigation, the header's "Sign in":
    the cursor waits in the email field, and the member lands on the guide, opened."""
    tab, _ = page
    tab.goto(served_site)
    tab.goto(served_site + "three-mistakes/")
    tab.locator("article").get_by_role("link", name="task briefs guide").click()
    expect(tab).to_have_url(re.compile(r"/guides/task-briefs/$"))
    # Clicked before the page instant navigation brought is set up, the link still
    # names the page before: it is set as it is followed.
    header = tab.locator(".mk1-account").get_by_role("link", name="Sign in")
    header.evaluate("(link) => { link.href = link.href.replace(/guides%2F[^&]*/, 'about%2F'); }")
    header.click()
    expect(tab).to_have_url(re.compile(r"/login/\?next=guides%2Ftask-briefs%2F$"))
    email = tab.get_by_label("Email", exact=True)
    expect(email).to_be_focused()
    tab.keyboard.type(MEMBER.email)
    screenshot(tab, "sign-in-from-a-guide")
    tab.get_by_label("Password", exact=True).fill(MEMBER.password)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab).to_have_url(re.compile(r"/guides/task-briefs/$"))
    expect(tab.get_by_role("heading", name=PROTECTED)).to_be_visible()


@pytest.mark.parametrize(
    ("size", "url"),
    [
        ({"width": 1280, "height": 800}, "login/"),
        ({"width": 1280, "height": 800}, "guides/task-briefs/"),
        ({"width": 390, "height": 844}, "guides/task-briefs/"),
    ],
    ids=["sign-in page", "guide", "guide on a phone"],
)
def test_a_wrong_password_is_said_where_the_eye_is(
    browser: Any, served_site: str, size: dict[str, int], url: str
) -> None:
    context = browser.new_context(viewport=size, is_mobile=size["width"] < 500)
    try:
        tab = context.new_page()
        tab.goto(served_site + url)
        form = tab.locator("form.mk1-signin").first
        form.get_by_label("Email", exact=True).fill(MEMBER.email)
        form.get_by_label("Password", exact=True).fill("not the right password")
        form.get_by_role("button", name="Sign in").click()
        alert = form.get_by_role("alert")
        expect(alert).to_contain_text("do not match a membership")
        expect(alert).to_be_in_viewport(ratio=1)
        name = "-".join(url.strip("/").split("/")[-1:]) + f"-{size['width']}"
        screenshot(tab, f"wrong-password-{name}")
    finally:
        context.close()
