"""Real browser, real server: Debian's chromium driven by Playwright, nginx on 127.0.0.1.

Outside CI these tests skip, saying why, when chromium or nginx is missing; in CI
(`CI=true`) a missing browser or server is a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest

from ..conftest import MEMBER, TestMember, copy_project, run_memberkit

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() == "true"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def require(condition: bool, why: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{why} (CI must install it: see .ci/run)")
    pytest.skip(f"{why}; install it to run the browser tests (sudo apt-get install chromium nginx)")


def _free_port() -> int:
    """A port free right now: only for servers that bind it themselves at once and
    say so if they cannot (`memberkit serve`); nginx takes its port with `Nginx`."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Nginx:
    """nginx on 127.0.0.1, started first so that its port is held before the site is
    built for it (`site_url` names the port); then `serve` points it at the built site,
    with the server block `memberkit nginx` generates for it.

    Ready means nginx itself answers a token only this server knows: a probe that any
    answer on the port would satisfy could be another process's."""

    def __init__(self, work: Path) -> None:
        self.work = work
        work.mkdir(parents=True, exist_ok=True)
        self.conf = work / "nginx.conf"
        self.process: subprocess.Popen[bytes] | None = None
        for _ in range(20):  # a port taken between choosing and binding: another one
            self.port = _free_port()
            self._write_conf("")
            self.process = subprocess.Popen(
                ["nginx", "-c", str(self.conf), "-p", str(work)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if self._ready():
                break
            self.process.wait(timeout=10)
        else:
            raise RuntimeError("nginx found no free port on 127.0.0.1")
        self.url = f"http://127.0.0.1:{self.port}/"

    def serve(self, root: Path, path: str = "/") -> str:
        """Serve `root` (a built site, with its `_headers`) at `path`, as its site_url
        says; returns the site's URL."""
        from generator.publish.hosting import nginx_server

        server = nginx_server(
            (root / "_headers").read_text(), str(root), listen=f"127.0.0.1:{self.port}"
        )
        self._write_conf(server)
        assert self.process is not None
        before = self._workers()
        self.process.send_signal(signal.SIGHUP)  # reload: the port stays held
        if not self._ready():
            raise RuntimeError(f"nginx did not take the site's configuration: {self._errors()}")
        # The workers of the configuration before still answer for a moment after the
        # new ones do: the site is served once they are gone.
        deadline = time.monotonic() + 10
        while before & self._workers() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.url + path.lstrip("/")

    def _write_conf(self, server: str) -> None:
        self.token = secrets.token_hex(8)
        probe = f'    location = /__ready {{ return 200 "{self.token}"; }}\n'
        if server:  # the probe goes inside the site's own server block
            body = server.rstrip().removesuffix("}") + probe + "}\n"
        else:
            body = f"server {{\n    listen 127.0.0.1:{self.port};\n{probe}}}\n"
        user = "user root;" if os.geteuid() == 0 else ""
        self.conf.write_text(
            f"""{user}
daemon off;
worker_processes 1;
pid {self.work}/nginx.pid;
error_log {self.work}/error.log warn;
events {{ worker_connections 64; }}
http {{
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {self.work}/body;
    proxy_temp_path {self.work}/proxy;
    fastcgi_temp_path {self.work}/fastcgi;
    uwsgi_temp_path {self.work}/uwsgi;
    scgi_temp_path {self.work}/scgi;
{body}
}}
"""
        )

    def _ready(self) -> bool:
        """True once this nginx answers with the current token; False if it exited."""
        deadline = time.monotonic() + 10
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urlopen(f"http://127.0.0.1:{self.port}/__ready", timeout=1) as answer:
                    if answer.read().decode() == self.token:
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def _workers(self) -> set[int]:
        """nginx's worker processes now (children of its master, from Linux' /proc)."""
        assert self.process is not None
        master, found = str(self.process.pid), set()
        for status in Path("/proc").glob("[0-9]*/status"):
            with contextlib.suppress(OSError):
                text = status.read_text()
                if f"\nPPid:\t{master}\n" in text and "\nState:\tZ" not in text:
                    found.add(int(status.parent.name))
        return found

    def _errors(self) -> str:
        log = self.work / "error.log"
        return log.read_text()[-2000:] if log.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def nginx_bin() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
    )
    require(found is not None, "nginx is not installed")
    assert found is not None
    if os.path.dirname(found) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] += os.pathsep + os.path.dirname(found)
    return found


def serve_from(project: Path, url: str) -> None:
    """Set the project's `site_url` to where nginx serves it."""
    config = project / "mkdocs.yml"
    text, found = re.subn(r"(?m)^site_url: .*$", f"site_url: {url}", config.read_text())
    assert found == 1, "mkdocs.yml has no site_url line"
    config.write_text(text)


@pytest.fixture(scope="session")
def site_server(nginx_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """nginx holding its port from the start; the bundled site is built for it."""
    server = Nginx(tmp_path_factory.mktemp("nginx"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def bundled_project(tmp_path_factory: pytest.TempPathFactory, site_server: Nginx) -> Path:
    """The bundled site built for the address nginx serves it on, as an owner sets
    `site_url`: Material's instant navigation takes over only the links its sitemap
    lists, matched with the port."""
    project = copy_project(tmp_path_factory.mktemp("bundled-e2e"))
    serve_from(project, site_server.url)
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    return project


@pytest.fixture(scope="session")
def bundled_site(bundled_project: Path) -> Path:
    # Its own fixture, not the shared one: pytest would otherwise keep whichever
    # bundled_project it met first for every later test.
    return bundled_project / "site"


@pytest.fixture(scope="session")
def served_site(bundled_site: Path, site_server: Nginx) -> str:
    return site_server.serve(bundled_site)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    require(Path(CHROMIUM).exists(), f"{CHROMIUM} is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright package is not installed (pip install -e '.[test]')")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


class PageWatch:
    """Records what a page did that a test should fail on."""

    def __init__(self, page: object, origin: str) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))  # type: ignore[attr-defined]
        page.on(  # type: ignore[attr-defined]
            "console",
            lambda msg: self.errors.append(msg.text) if msg.type == "error" else None,
        )
        page.on(  # type: ignore[attr-defined]
            "request",
            lambda request: (
                None
                if request.url.startswith((origin, "data:", "blob:"))
                else self.outside.append(request.url)
            ),
        )


def sign_in(tab: Any, site: str, member: TestMember = MEMBER, *, remember: bool = False) -> None:
    """Sign in on the sign-in page with the keyboard-reachable form, as a member would."""
    tab.goto(site + "login/")
    tab.get_by_label("Email", exact=True).fill(member.email)
    tab.get_by_label("Password", exact=True).fill(member.password)
    if remember:
        tab.get_by_label("Remember me on this device").check()
    tab.get_by_role("button", name="Sign in").click()
    tab.wait_for_url(site)
    tab.get_by_text(member.name, exact=True).wait_for()


def instant_navigation_ready(tab: Any) -> None:
    """Material takes over a link's click once it holds the site's sitemap, which it
    asks for as the page starts (as plain Material does): a click before then loads the
    next page in full. Wait until the page's requests are done."""
    tab.wait_for_load_state("networkidle")


@contextmanager
def watched_tab(browser: Any, site: str, **options: Any) -> Iterator[tuple[Any, PageWatch]]:
    """A tab of a new browser context (clipboard allowed) whose JavaScript errors and
    requests to other hosts fail the test when it ends."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.rstrip("/"))
    tab = context.new_page()
    watch = PageWatch(tab, site.rstrip("/"))
    yield tab, watch
    context.close()
    assert not watch.errors, f"JavaScript errors: {watch.errors}"
    assert not watch.outside, f"requests to other hosts: {watch.outside}"


@pytest.fixture
def member_page(browser: Any, served_site: str) -> Iterator[tuple[Any, PageWatch]]:
    """A signed-in member's tab, with downloads and the clipboard allowed."""
    with watched_tab(browser, served_site, accept_downloads=True) as (tab, watch):
        sign_in(tab, served_site)
        yield tab, watch


@pytest.fixture
def page(browser: object, served_site: str) -> Iterator[tuple[object, PageWatch]]:
    with watched_tab(browser, served_site) as opened:
        yield opened


def screenshot(tab: object, name: str, *, full_page: bool = False) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    # Transitions finished (the header's title slides when the page scrolls).
    tab.screenshot(path=str(path), full_page=full_page, animations="disabled")  # type: ignore[attr-defined]
    return path
