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
from pathlib import Path
from typing import TYPE_CHECKING

from corpora import EMAIL, PAGES_PER_SECTION, PASSWORD, synthetic_page
from results import Row

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

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
    server = nginx_server((site / "_headers").read_text(), str(site), listen=f"127.0.0.1:{port}")
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
    return [
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
            None,
            "unprotected",
        ),
    ]
