"""The keystore in Chromium behind nginx: what sign-in fetches, and key changes members
do not notice (the site rebuilt in place while nginx serves it)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Self

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from generator.members import keystore_writer, store
from generator.protection import keystore, mk1

from ..conftest import (
    EXPIRING,
    MEMBER,
    OTHER,
    TestMember,
    copy_project,
    run_memberkit,
    write_state,
)
from .conftest import Nginx, PageWatch, instant_navigation_ready, serve_from, sign_in

PROTECTED = "Estimating time"  # below the divider of the task-briefs guide
GENERIC = "That email and password do not match a membership"
# What a browser signed in as a removed member (or with an old password) is told.
SIGNED_OUT = "You were signed out. Sign in again to read on."
LEAVERS = [
    TestMember(f"leaver{n}@example.org", f"Leaver {n}", f"leaving long pass {n}99")
    for n in range(3)
]
RESET = TestMember("reset@example.org", "Reset Soon", "an old long password 31")
FAST = {"MEMBERKIT_PBKDF2_ITERATIONS": "100000"}

# The records of the session store, read from IndexedDB in the page.
READ_RECORDS = """
    const db = await new Promise((ok, ko) => {
        const request = indexedDB.open("memberkit", 1);
        request.onsuccess = () => ok(request.result);
        request.onerror = () => ko(request.error);
    });
    const records = await new Promise((ok) => {
        const request = db.transaction("sessions").objectStore("sessions").getAll();
        request.onsuccess = () => ok(request.result);
    });
    db.close();
"""
# What the browser stored of its session, and how many CryptoKeys the record holds.
STORED = (
    """async () => {"""
    + READ_RECORDS
    + """
    const keys = (value) => value instanceof CryptoKey ? 1
        : value && typeof value === "object" && !ArrayBuffer.isView(value)
        ? Object.values(value).reduce((sum, item) => sum + keys(item), 0) : 0;
    const record = records[0];
    return record ? {
        v: record.keys.members.v, remember: record.remember, email: record.email,
        cryptoKeys: keys(record), fields: Object.keys(record.keys.members).sort(),
    } : null;
}"""
)


class Site:
    """A project served by nginx that the tests change and build again in place."""

    def __init__(self, project: Path, url: str) -> None:
        self.project = project
        self.url = url

    @classmethod
    @contextlib.contextmanager
    def served(
        cls, factory: pytest.TempPathFactory, name: str, members: Iterable[TestMember]
    ) -> Iterator[Self]:
        """The bundled project with `members`, built and served while in use."""
        server = Nginx(factory.mktemp(f"{name}-nginx"))
        project = copy_project(factory.mktemp(name), with_state=False)
        write_state(project, tuple(members))
        serve_from(project, server.url)
        site = cls(project, server.url)
        site.build()
        server.serve(project / "site")
        try:
            yield site
        finally:
            server.stop()

    def members(self, *args: str) -> None:
        result = run_memberkit("members", *args, cwd=self.project, env=FAST)
        assert result.returncode == 0, result.stderr

    def build(self) -> None:
        result = run_memberkit("build", cwd=self.project)
        assert result.returncode == 0, result.stderr

    def version(self) -> int:
        return store.load(self.project / store.STATE_DIR).tier_keys()["members"].v


@pytest.fixture(scope="module")
def changing(tmp_path_factory: pytest.TempPathFactory, nginx_bin: str) -> Iterator[Site]:
    members = (MEMBER, OTHER, EXPIRING, RESET, *LEAVERS)
    with Site.served(tmp_path_factory, "changing", members) as site:
        yield site


def _context(browser: Any, site: str) -> tuple[BrowserContext, Page, PageWatch]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    # Routed requests skip the HTTP cache: each load asks nginx for what it serves now.
    context.route("**/*", lambda route: route.continue_())
    tab = context.new_page()
    return context, tab, PageWatch(tab, site.rstrip("/"))


def _keystore_requests(tab: Page) -> list[str]:
    seen: list[str] = []
    tab.on("request", lambda r: seen.append(r.url) if "/mk1/" in r.url else None)
    return seen


def test_members_read_on_after_a_removal_and_the_removed_one_is_locked_out(
    changing: Site, browser: Any
) -> None:
    site = changing.url
    readers = []
    for member, remember in ((MEMBER, False), (EXPIRING, True)):
        context, tab, watch = _context(browser, site)
        sign_in(tab, site, member, remember=remember)
        tab.goto(site + "guides/task-briefs/")
        expect(tab.get_by_role("heading", name=PROTECTED)).to_be_visible()
        readers.append((context, tab, watch))
    leaver_context, leaver, _ = _context(browser, site)
    sign_in(leaver, site, LEAVERS[0])
    # Its page at rest (its search index fetched with the keys of now): the removal
    # below is met on a later visit, the case this test is about. (Met by the search
    # index of a page still loading, it signs the member out there, without a word.)
    leaver.wait_for_load_state("networkidle")
    before = changing.version()
    assert readers[0][1].evaluate(STORED)["v"] == before

    changing.members("remove", LEAVERS[0].email)
    changing.build()
    after = changing.version()
    assert after != before

    for _, tab, watch in readers:
        asked = _keystore_requests(tab)
        tab.goto(site + "guides/vetting-and-interviewing/")  # a full load
        expect(tab.get_by_role("heading", name="The paid trial task")).to_be_visible()
        expect(tab.locator(".mk1-signin")).to_have_count(0)
        stored = tab.evaluate(STORED)
        assert stored["v"] == after, "the new keys were fetched and kept"
        # The index and the member's own shard, nothing else of the keystore.
        assert [u.split("/mk1/")[1] for u in asked][:1] == ["keystore.json"]
        assert len(asked) == 2 and "/mk1/keys/" in asked[1]
        # Instant navigation opens the next page with the renewed keys.
        instant_navigation_ready(tab)
        tab.evaluate("window.mkSamePage = true")
        tab.locator(".md-sidebar--primary").get_by_role(
            "link", name="Budgeting and paying remote workers"
        ).click()
        expect(tab.get_by_role("heading", name="The five payment models")).to_be_visible()
        assert tab.evaluate("window.mkSamePage === true")
        assert not watch.errors, watch.errors
    assert [tab.evaluate(STORED)["remember"] for _, tab, _ in readers] == [False, True]

    leaver.goto(site + "guides/task-briefs/")
    expect(leaver.get_by_role("button", name="Sign in")).to_be_visible()
    expect(leaver.locator(".mk1-signin__note")).to_have_text(SIGNED_OUT)
    expect(leaver.locator(".mk1-account")).to_contain_text("Sign in")
    assert PROTECTED not in leaver.locator("article").inner_text()
    assert leaver.evaluate(STORED) is None, "signed out: nothing kept"
    for context, *_ in [*readers, (leaver_context,)]:
        context.close()


def test_downloads_and_search_renew_the_keys_too(changing: Site, browser: Any) -> None:
    """A download and the members' search meet the new keys and renew them; a member
    removed meanwhile who follows a link is told so."""
    site = changing.url
    context, template, watch = _context(browser, site)
    sign_in(template, site, MEMBER)
    template.goto(site + "templates/daily-status-report/")
    expect(template.get_by_role("link", name="Word (.docx)")).to_be_visible()
    searcher_context, searcher, _ = _context(browser, site)
    sign_in(searcher, site, OTHER)
    leaver_context, leaver, leaver_watch = _context(browser, site)
    sign_in(leaver, site, LEAVERS[1])
    leaver.goto(site + "guides/task-briefs/")
    expect(leaver.get_by_role("heading", name=PROTECTED)).to_be_visible()
    instant_navigation_ready(leaver)
    before = changing.version()

    changing.members("remove", LEAVERS[1].email)
    changing.build()
    after = changing.version()
    assert after != before

    # The removed member follows a link by instant navigation: told as on a page load.
    leaver.evaluate("window.mkSamePage = true")
    leaver.locator(".md-sidebar--primary").get_by_role(
        "link", name="Budgeting and paying remote workers"
    ).click()
    expect(leaver.locator(".mk1-signin__note")).to_have_text(SIGNED_OUT)
    assert leaver.evaluate("window.mkSamePage === true")
    assert "The five payment models" not in leaver.locator("article").inner_text()
    assert leaver.evaluate(STORED) is None, "signed out: nothing kept"
    assert not leaver_watch.errors, leaver_watch.errors
    leaver_context.close()

    # The template page was opened with the old keys; its download is sealed with the new.
    with template.expect_download() as info:
        template.get_by_role("link", name="Word (.docx)").click()
    assert info.value.suggested_filename == "daily-status-report.docx"
    assert Path(info.value.path()).read_bytes()[:2] == b"PK"
    assert template.evaluate(STORED)["v"] == after
    # A public page has nothing sealed: the members' search is the first to meet new keys.
    searcher.goto(site + "three-mistakes/")
    searcher.get_by_role("textbox", name="Search").click()
    searcher.keyboard.type("estimating time")
    expect(searcher.locator(".md-search-result__item", has_text=PROTECTED).first).to_be_visible()
    assert searcher.evaluate(STORED)["v"] == after
    assert not watch.errors, watch.errors
    context.close()
    searcher_context.close()


def test_a_copy_older_than_the_keys_is_fetched_again_and_never_signs_out(
    changing: Site, browser: Any
) -> None:
    """A cache (the browser's, a CDN's) may hand out a page from before a build whose
    keys the member already holds anew: the page is fetched from the site again; if
    only the old copy comes, the member is told to reload and stays signed in."""
    site = changing.url
    page_url = site + "guides/task-briefs/"
    old_html = (changing.project / "site" / "guides" / "task-briefs" / "index.html").read_text()
    context, tab, watch = _context(browser, site)
    sign_in(tab, site, MEMBER)
    before = changing.version()

    changing.members("remove", LEAVERS[2].email)
    changing.build()
    after = changing.version()
    assert after != before

    tab.goto(site + "guides/vetting-and-interviewing/")  # the new keys, fetched and kept
    expect(tab.get_by_role("heading", name="The paid trial task")).to_be_visible()
    assert tab.evaluate(STORED)["v"] == after
    served_old: list[str] = []

    def old_copy(route: Any, times: int) -> None:
        if len(served_old) < times:
            served_old.append(route.request.url)
            route.fulfill(status=200, content_type="text/html", body=old_html)
        else:
            route.continue_()

    # Once: the old copy, then the site's own (the page loads itself again).
    tab.route(page_url, lambda route: old_copy(route, 1))
    tab.goto(page_url)
    expect(tab.get_by_role("heading", name=PROTECTED)).to_be_visible()
    assert len(served_old) == 1
    # Only old copies: a message, and the member is still signed in with the new keys.
    tab.unroute(page_url)
    served_old.clear()
    tab.route(page_url, lambda route: old_copy(route, 10))
    tab.goto(site + "about/")
    tab.goto(page_url)
    expect(tab.locator(".mk1-signin__note")).to_contain_text("older copy of the page")
    assert PROTECTED not in tab.locator("article").inner_text()
    assert len(served_old) >= 2, "fetched again from the site before giving up"
    assert tab.evaluate(STORED)["v"] == after
    expect(tab.locator(".mk1-account")).to_contain_text(MEMBER.name)
    assert not watch.errors, watch.errors
    context.close()


def test_a_reset_cuts_off_the_browser_signed_in_with_the_old_password(
    changing: Site, browser: Any
) -> None:
    site = changing.url
    context, tab, _ = _context(browser, site)
    sign_in(tab, site, RESET, remember=True)
    tab.goto(site + "guides/task-briefs/")
    expect(tab.get_by_role("heading", name=PROTECTED)).to_be_visible()

    changing.members("reset", RESET.email)
    changing.build()

    tab.goto(site + "guides/task-briefs/")
    expect(tab.locator(".mk1-signin__note")).to_have_text(SIGNED_OUT)
    assert PROTECTED not in tab.locator("article").inner_text()
    assert tab.evaluate(STORED) is None
    # Nor do the old password and the old link sign in again.
    tab.get_by_label("Email", exact=True).fill(RESET.email)
    tab.get_by_label("Password", exact=True).fill(RESET.password)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("alert")).to_contain_text(GENERIC)
    context.close()


def test_a_site_of_layout_1_still_signs_in(
    bundled_project: Path, browser: Any, nginx_bin: str, tmp_path: Path
) -> None:
    """Sites built before the keystore was sharded keep working with this browser code."""
    old = tmp_path / "site"
    shutil.copytree(bundled_project / "site", old)
    state = store.load(bundled_project / store.STATE_DIR)
    _, entries = keystore_writer.sealed_entries(state, dt.date.today(), ["members"])
    document = keystore.build_keystore(state.site, entries, mk1.unb64url(state.secret), 100_000)
    assert "layout" not in json.loads(document)
    (old / "mk1" / "keystore.json").write_bytes(document)
    shutil.rmtree(old / "mk1" / "keys")
    server = Nginx(tmp_path / "nginx")
    try:
        server.serve(old)
        context, tab, watch = _context(browser, server.url)
        asked = _keystore_requests(tab)
        sign_in(tab, server.url, MEMBER)
        tab.goto(server.url + "guides/task-briefs/")
        expect(tab.get_by_role("heading", name=PROTECTED)).to_be_visible()
        assert all(url.endswith("/mk1/keystore.json") for url in asked)
        assert not watch.errors, watch.errors
        context.close()
    finally:
        server.stop()


# The stored record as plain data: typed arrays as lists of numbers, CryptoKeys counted.
RECORD = (
    """async () => {"""
    + READ_RECORDS
    + """
    const plain = (value) => value instanceof CryptoKey ? "CryptoKey"
        : ArrayBuffer.isView(value) ? Array.from(value)
        : value && typeof value === "object"
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)])) : value;
    return plain(records[0]);
}"""
)


@pytest.mark.parametrize("remember", [False, True], ids=["this-session-only", "remembered"])
def test_without_remember_me_nothing_on_disk_opens_a_key(
    served_site: str, bundled_project: Path, tmp_path: Path, browser: Any, remember: bool
) -> None:
    """ "Remember me" off: the tier keys and the key that reopens the member's entry are
    stored sealed under a key that lives in a session cookie only. Once the browser has
    closed, the profile on disk holds neither, nor anything that opens them."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from .conftest import CHROMIUM, LAUNCH_ARGS

    state = store.load(bundled_project / store.STATE_DIR)
    tier_key = mk1.unb64url(state.tier_keys()["members"].k)
    kek = mk1.unb64url(state.members[MEMBER.email].kek)
    profile = tmp_path / "profile"
    context = browser.browser_type.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=LAUNCH_ARGS
    )
    tab = context.new_page()
    sign_in(tab, served_site, remember=remember)
    tab.goto(served_site + "guides/task-briefs/")
    expect(tab.get_by_role("heading", name=PROTECTED)).to_be_visible()
    record = tab.evaluate(RECORD)
    cookies = {c["name"]: c for c in context.cookies()}
    context.close()
    on_disk = b"".join(p.read_bytes() for p in profile.rglob("*") if p.is_file())

    if remember:  # the control: CryptoKeys kept as they are, key bytes and all
        assert record["keys"]["members"]["key"] == "CryptoKey" and record["kek"] == "CryptoKey"
        assert tier_key in on_disk and kek in on_disk
        return
    assert "CryptoKey" not in json.dumps(record)
    sealed = record["keys"]["members"]
    assert sorted(sealed) == ["data", "iv", "v"] and sorted(record["kek"]) == ["data", "iv"]
    # Sealed under the cookie's key: with it they open, and the cookie dies with the browser.
    cookie = cookies["mk1session"]
    assert cookie["expires"] == -1, "a session cookie"
    wrapping = AESGCM(mk1.unb64url(cookie["value"]))
    assert wrapping.decrypt(bytes(sealed["iv"]), bytes(sealed["data"]), None) == tier_key
    assert wrapping.decrypt(bytes(record["kek"]["iv"]), bytes(record["kek"]["data"]), None) == kek
    assert cookie["value"].encode() not in on_disk and mk1.unb64url(cookie["value"]) not in on_disk
    assert tier_key not in on_disk and kek not in on_disk
    assert mk1.b64url(tier_key).encode() not in on_disk


def test_a_login_link_is_refused_after_its_last_day(
    page: tuple[Page, PageWatch], served_site: str
) -> None:
    from generator.members.roster import login_link

    tab, _ = page
    last_day = dt.date.today() + dt.timedelta(days=14)
    tab.clock.install(time=f"{last_day + dt.timedelta(days=1)}T12:00:00Z")
    link = login_link(served_site, OTHER.email, OTHER.link)
    tab.goto(link)
    expect(tab.locator(".mk1-signin__note")).to_contain_text(
        f"This login link expired on {last_day.isoformat()}. Sign in with your email and password"
    )
    expect(tab.locator(".mk1-account")).to_contain_text("Sign in")
    assert "#login" not in tab.url and link.partition("#")[2] not in tab.evaluate("location.href")
    # The day before, the same link signs in.
    tab.clock.set_fixed_time(f"{last_day}T12:00:00Z")
    tab.goto(link)
    expect(tab.locator(".mk1-account")).to_contain_text(OTHER.name)


@pytest.mark.parametrize("switch", [False, True], ids=["stays", "switches"])
def test_a_link_for_someone_else_asks_before_switching(
    member_page: tuple[Page, PageWatch], served_site: str, switch: bool
) -> None:
    from generator.members.roster import login_link

    tab, _ = member_page  # signed in as MEMBER
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept() if switch else dialog.dismiss()

    tab.on("dialog", answer)
    tab.goto(login_link(served_site, MEMBER.email, MEMBER.link))  # their own: no question
    expect(tab.locator(".mk1-account")).to_contain_text(MEMBER.name)
    tab.wait_for_load_state("load")
    assert asked == []
    tab.goto(served_site + "guides/task-briefs/")
    expect(tab.get_by_role("heading", name=PROTECTED)).to_be_visible()
    tab.goto(login_link(served_site, OTHER.email, OTHER.link))
    for _ in range(100):  # the question comes once the page knows who is signed in
        if asked:
            break
        tab.wait_for_timeout(50)
    expect(tab.locator(".mk1-account")).to_contain_text(OTHER.name if switch else MEMBER.name)
    tab.wait_for_load_state("load")
    assert asked == [
        f"You are signed in as {MEMBER.name}. Sign out, and sign in as {OTHER.email} instead?"
    ]
    assert "#login" not in tab.url
    assert tab.evaluate(STORED)["email"] == (OTHER.email if switch else MEMBER.email)
