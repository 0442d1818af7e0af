"""The browser figures: a built site served on 127.0.0.1 (Python's server, or nginx with
the server block `memberkit nginx` writes), Debian's Chromium driven by Playwright, and
what a member waits for there: signing in, and opening a protected page.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from corpora import EMAIL, PAGES_PER_SECTION, PASSWORD, synthetic_page
from results import Row

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, ViewportSize

CHROMIUM = "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(site: Path, port: int) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(Quiet, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


NGINX_TEMP = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx_path() -> str:
    """nginx's executable, or "" when it is not installed."""
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")


@contextmanager
def nginx_serving(site: Path, port: int) -> Iterator[str]:
    """nginx on 127.0.0.1 with the server block `memberkit nginx` writes (the site's
    headers, the keystore's Cache-Control): a static host, as members meet one. Python's
    own server instead when nginx is not installed."""
    nginx = nginx_path()
    if not nginx:
        with serving(site, port) as url:
            yield url
        return
    from generator.publish.hosting import nginx_server

    work = site.with_name(site.name + "-nginx")
    work.mkdir()
    # A plain MkDocs site has no _headers: served the same way, with one header.
    headers = site / "_headers"
    rules = headers.read_text() if headers.exists() else "/*\n  X-Content-Type-Options: nosniff\n"
    server = nginx_server(rules, str(site), listen=f"127.0.0.1:{port}")
    user = "user root;" if os.geteuid() == 0 else ""
    (work / "nginx.conf").write_text(
        f"{user}\ndaemon off;\nworker_processes 1;\npid {work}/nginx.pid;\n"
        f"error_log {work}/error.log warn;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n  default_type application/octet-stream;\n  access_log off;\n"
        + "".join(f"  {kind}_temp_path {work}/{kind};\n" for kind in NGINX_TEMP)
        + f"{server}}}\n"
    )
    process = subprocess.Popen([nginx, "-c", str(work / "nginx.conf"), "-p", str(work)])
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait()
        shutil.rmtree(work, ignore_errors=True)


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, without the work a browser does on its own."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    )


BARE_PBKDF2 = """async () => {
    const t = performance.now();
    const key = await crypto.subtle.importKey("raw",
        new TextEncoder().encode("a long measuring phrase 9"), "PBKDF2", false, ["deriveBits"]);
    await crypto.subtle.deriveBits({name: "PBKDF2", hash: "SHA-256",
        salt: new TextEncoder().encode("mk1|salt"), iterations: 600000}, key, 256);
    return performance.now() - t; }"""
SIGN_IN = """async ([email, password]) => {
    const t = performance.now();
    await window.memberkit.signIn(email, password, false);
    return performance.now() - t; }"""
# Click a link and wait until a heading of the next page is in the document: Material's
# instant navigation swaps the page in place, and memberkit opens its envelope.
NAVIGATE = """async ([href, heading]) => {
    const url = new URL(href, location.href).href;  // instant navigation makes links absolute
    const link = [...document.querySelectorAll("a.md-nav__link")].find(a => a.href === url);
    const t = performance.now();
    link.click();
    await new Promise(done => {
        const look = () => document.getElementById(heading) ? done() : requestAnimationFrame(look);
        look();
    });
    return performance.now() - t; }"""


# On a guide's teaser, the member's email and password typed: from the click on "Sign in"
# to the members' text in the document (a MutationObserver: no frame's delay).
CLICK_TO_TEXT = """async (heading) => {
    const button = document.querySelector("article .mk1-signin button[type=submit]");
    const shown = new Promise(done => {
        const observer = new MutationObserver(() => {
            if (!document.getElementById(heading)) return;
            observer.disconnect();
            done(performance.now());
        });
        observer.observe(document.documentElement, {childList: true, subtree: true});
    });
    const t = performance.now();
    button.click();
    return (await shown) - t; }"""


def click_to_text(
    site: Path, port: int, runs: int, log: Callable[[str], None]
) -> tuple[list[float], list[float]]:
    """(from the click on "Sign in" on a protected page to its members' text shown, a
    bare PBKDF2 in the same tab) in milliseconds: a fresh browser context each run, the
    site served by nginx as `memberkit nginx` sets it up."""
    from playwright.sync_api import sync_playwright

    shown: list[float] = []
    bare: list[float] = []
    heading = "section-5-of-page-0"
    with nginx_serving(site, port) as url, sync_playwright() as playwright:
        browser = launch(playwright)
        for _ in range(runs):
            context = browser.new_context()
            tab = context.new_page()
            tab.goto(url + synthetic_page(0))
            form = tab.locator("article .mk1-signin")
            form.get_by_role("button", name="Sign in").wait_for()
            tab.wait_for_load_state("networkidle")
            # As a member does: the email typed, then the password.
            form.get_by_label("Email", exact=True).fill(EMAIL)
            form.get_by_label("Password", exact=True).fill(PASSWORD)
            tab.wait_for_timeout(1500)
            bare.append(tab.evaluate(BARE_PBKDF2))
            tab.wait_for_timeout(300)
            shown.append(tab.evaluate(CLICK_TO_TEXT, heading))
            context.close()
        browser.close()
    log(f"  click to text {statistics.median(shown):.0f} ms, bare {statistics.median(bare):.0f} ms")
    return shown, bare


# From the start of a page's load to a heading of it in the document (set up before the
# page's own scripts run: it sees the parser's work and memberkit's alike).
WATCH_HEADING = """(() => {
    const heading = "%s";
    const observer = new MutationObserver(() => {
        if (!document.getElementById(heading)) return;
        observer.disconnect();
        window.mkShownAt = performance.now();
    });
    observer.observe(document, {childList: true, subtree: true});
})();"""
SHOWN_AT = """async () => {
    while (window.mkShownAt === undefined) await new Promise(done => setTimeout(done, 10));
    return window.mkShownAt;
}"""
LAYOUT_SHIFT = """() => new Promise(done => {
    let total = 0;
    new PerformanceObserver(list => {
        for (const shift of list.getEntries()) if (!shift.hadRecentInput) total += shift.value;
    }).observe({type: "layout-shift", buffered: true});
    setTimeout(() => done(total), 2000);
})"""
FCP = """() => new Promise(done => {
    const look = () => {
        const paint = performance.getEntriesByName("first-contentful-paint")[0];
        paint ? done(paint.startTime) : setTimeout(look, 50);
    };
    look();
})"""
PHONE: ViewportSize = {"width": 412, "height": 823}


def remembered_sign_in(tab: Page, site: str) -> None:
    """The benchmark's member signs in on the sign-in page, "Remember me" on."""
    tab.goto(site + "login/")
    tab.get_by_label("Email", exact=True).fill(EMAIL)
    tab.get_by_label("Password", exact=True).fill(PASSWORD)
    tab.get_by_label("Remember me on this device").check()
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(site)


def count_requests(tab: Page) -> list[str]:
    """The URLs `tab` asks for from now on."""
    asked: list[str] = []
    tab.on("request", lambda request: asked.append(request.url))
    return asked


@dataclass
class Loads:
    """What a page's load costs, memberkit's site and the plain one (milliseconds,
    counts)."""

    first: list[float] = field(default_factory=list)  # a member's protected page, cold cache
    first_plain: list[float] = field(default_factory=list)
    fcp: list[float] = field(default_factory=list)  # a public page on a throttled phone
    fcp_plain: list[float] = field(default_factory=list)
    requests: int = 0  # a public page's, memberkit's
    requests_plain: int = 0
    shifts: dict[str, float] = field(default_factory=dict)  # what: the worst layout shift


def page_loads(plain: str, member: str, runs: int, log: Callable[[str], None]) -> Loads:
    """Cold loads in Chromium, memberkit's site (`member`, its first guide protected)
    against the plain one (`plain`, the same pages unprotected), a fresh browser
    context each run."""
    from playwright.sync_api import sync_playwright

    loads = Loads()
    heading = "section-5-of-page-0"
    with sync_playwright() as playwright:
        browser = launch(playwright)

        def cold(url: str, signed_in: bool) -> float:
            context = browser.new_context()
            tab = context.new_page()
            if signed_in:
                remembered_sign_in(tab, url)
                tab.wait_for_load_state("networkidle")
                context.new_cdp_session(tab).send("Network.clearBrowserCache")
            tab.add_init_script(WATCH_HEADING % heading)
            tab.goto(url + synthetic_page(0))
            shown = float(tab.evaluate(SHOWN_AT))
            context.close()
            return shown

        def throttled_fcp(url: str) -> float:
            context = browser.new_context(viewport=PHONE)
            tab = context.new_page()
            cdp = context.new_cdp_session(tab)
            cdp.send("Network.enable")
            # Lighthouse's mobile: a slow 4G and a CPU four times slower.
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": 150,
                    "downloadThroughput": 204800,
                    "uploadThroughput": 96000,
                },
            )
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
            tab.goto(url)
            paint = float(tab.evaluate(FCP))
            context.close()
            return paint

        for number in range(runs):
            order = [(member, True), (plain, False)]
            for url, protected in order if number % 2 else reversed(order):
                (loads.first if protected else loads.first_plain).append(cold(url, protected))
                (loads.fcp if protected else loads.fcp_plain).append(throttled_fcp(url))
        for url, kind in ((member, "requests"), (plain, "requests_plain")):
            context = browser.new_context()
            tab = context.new_page()
            asked = count_requests(tab)
            tab.goto(url)
            tab.wait_for_load_state("networkidle")
            tab.wait_for_timeout(500)
            setattr(loads, kind, len(asked))
            context.close()
        for who in ("member", "visitor"):
            context = browser.new_context(viewport=PHONE)
            tab = context.new_page()
            if who == "member":
                remembered_sign_in(tab, member)
            worst = 0.0
            for _ in range(3):
                tab.goto(member + synthetic_page(0))
                worst = max(worst, float(tab.evaluate(LAYOUT_SHIFT)))
            loads.shifts[who] = worst
            context.close()
        browser.close()
    log(
        f"  first load {statistics.median(loads.first):.0f} ms protected, "
        f"{statistics.median(loads.first_plain):.0f} ms plain; FCP "
        f"{statistics.median(loads.fcp):.0f} against {statistics.median(loads.fcp_plain):.0f} ms; "
        f"requests {loads.requests} against {loads.requests_plain}; shifts {loads.shifts}"
    )
    return loads


def load_rows(loads: Loads) -> list[Row]:
    requests, requests_plain = loads.requests, loads.requests_plain
    fcp, fcp_plain = statistics.median(loads.fcp), statistics.median(loads.fcp_plain)
    rows = [
        Row(
            "Chromium: a member's protected page, first load (cold cache) to its text",
            statistics.median(loads.first),
            statistics.median(loads.first_plain),
            "ms",
            1.10,
            "the page unprotected",
        ),
        Row(
            "Chromium: requests of a public page (plain + 3)",
            requests,
            requests_plain,
            "requests",
            (requests_plain + 3) / requests_plain,
            "plain MkDocs",
        ),
        Row(
            "Chromium: first contentful paint, a public page, phone on slow 4G (plain + 0.1 s)",
            fcp,
            fcp_plain,
            "ms",
            (fcp_plain + 100) / fcp_plain,
            "plain MkDocs",
        ),
    ]
    for who, shift in loads.shifts.items():
        rows.append(
            Row(
                f"Chromium: layout shift, a {who} opens a protected page (phone)",
                shift,
                0.02,
                "CLS",
                0.02,
                "the target",
                absolute=True,
            )
        )
    return rows


def browser_measures(
    plain: Path, member: Path, ports: dict[str, int], runs: int, log: Callable[[str], None]
) -> tuple[list[float], list[float], list[float], list[float]]:
    """(sign-in, bare PBKDF2, page open protected, page open plain) in milliseconds."""
    from playwright.sync_api import sync_playwright

    sign_in: list[float] = []
    bare: list[float] = []
    opened: list[float] = []
    opened_plain: list[float] = []
    with (
        serving(plain / "site", ports["plain"]) as plain_url,
        serving(member / "site", ports["memberkit"]) as member_url,
        sync_playwright() as playwright,
    ):
        browser = launch(playwright)
        page = browser.new_page()
        page.goto(member_url + "login/")  # where members sign in: the form fetches the keystore
        page.get_by_role("button", name="Sign in").wait_for()
        for _ in range(runs):  # PBKDF2 in a browser varies by tens of percent: take many
            bare.append(page.evaluate(BARE_PBKDF2))
            page.reload()  # a fresh form: its keystore fetch starts as it shows
            page.get_by_role("button", name="Sign in").wait_for()
            # A member types for seconds: the page's own start-up work (the search worker
            # indexing) is over by the time they press Enter.
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1500)
            sign_in.append(page.evaluate(SIGN_IN, [EMAIL, PASSWORD]))
            page.evaluate("window.memberkit.signOut(false)")
        log(f"  sign-in {statistics.median(sign_in):.0f} ms, bare {statistics.median(bare):.0f} ms")

        # Instant navigation through one section, each page new to the browser.
        member_tab = browser.new_page()
        member_tab.goto(member_url + synthetic_page(0))
        member_tab.evaluate(SIGN_IN, [EMAIL, PASSWORD])
        member_tab.reload()
        member_tab.wait_for_selector("#section-5-of-page-0")
        plain_tab = browser.new_page()
        plain_tab.goto(plain_url + synthetic_page(0))
        plain_tab.wait_for_selector("#section-5-of-page-0")
        for view in (member_tab, plain_tab):
            view.wait_for_load_state("networkidle")
            view.wait_for_timeout(1500)
        for number in range(1, min(runs, PAGES_PER_SECTION - 1) + 1):
            step = [f"../p{number:04d}/", f"section-5-of-page-{number}"]
            pairs = ((member_tab, opened), (plain_tab, opened_plain))
            for view, times in pairs if number % 2 else reversed(pairs):
                times.append(view.evaluate(NAVIGATE, step))
                view.wait_for_timeout(300)
        log(
            f"  open a page: {statistics.median(opened):.0f} ms protected, "
            f"{statistics.median(opened_plain):.0f} ms plain"
        )
        browser.close()
    return sign_in, bare, opened, opened_plain


def browser_rows(
    plain: Path, member: Path, ports: dict[str, int], runs: int, log: Callable[[str], None]
) -> list[Row]:
    """Sign-in against a bare PBKDF2, and a protected page opened against the same page
    unprotected, in the built sites of the `plain` and `member` projects."""
    sign_in, bare, opened, opened_plain = browser_measures(plain, member, ports, runs, log)
    shown, bare_there = click_to_text(member / "site", ports["memberkit"], runs, log)
    with (
        nginx_serving(plain / "site", ports["plain"]) as plain_url,
        nginx_serving(member / "site", ports["memberkit"]) as member_url,
    ):
        loads = page_loads(plain_url, member_url, runs, log)
    return [
        *load_rows(loads),
        Row(
            "Chromium: sign-in on a page, click to members' text shown",
            statistics.median(shown),
            statistics.median(bare_there),
            "ms",
            1.15,
            "bare PBKDF2, 600,000",
        ),
        Row(
            "Chromium: sign-in, credentials checked",
            statistics.median(sign_in),
            statistics.median(bare),
            "ms",
            1.05,
            "bare PBKDF2, 600,000",
        ),
        Row(
            "Chromium: open a protected page (instant navigation)",
            statistics.median(opened),
            statistics.median(opened_plain),
            "ms",
            1.10,
            "unprotected",
        ),
    ]
