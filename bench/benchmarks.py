"""memberkit against plain MkDocs and mkdocs-encryptcontent-plugin (a benchmark, not a test).

    python bench/benchmarks.py                  # everything: about 20 minutes on 2 cores
    python bench/benchmarks.py --quick          # 100 pages, 1 run, 10 sign-ins: a smoke run
    python bench/benchmarks.py --write-readme   # also put the results into README.md

The contenders build in the benchmark's own virtual environment
(`.cache/memberkit-bench/venv`: this checkout of memberkit and the encryptcontent plugin,
which is never a project dependency), so all of them use the same MkDocs and Material.
Builds alternate between contenders and each figure is a median; ratios compare figures
measured in this one run, never against numbers from another machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import gzip
import http.server
import os
import platform
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import keystore, mk1  # noqa: E402
from generator import state as private  # noqa: E402
from generator.documents.library import DocumentLibrary  # noqa: E402

ENCRYPTCONTENT = "mkdocs-encryptcontent-plugin==3.1.0"
VENV = ROOT / ".cache" / "memberkit-bench" / "venv"
EMAIL, PASSWORD = "reader@example.com", "a long measuring phrase 9"
PAGES_PER_SECTION = 50
WORDS = [
    *("brief", "report", "budget", "worker", "freelancer", "deadline", "invoice"),
    *("review", "checklist", "quality", "feedback", "schedule", "retainer", "hourly"),
    *("project", "milestone", "handover", "access", "password", "owner"),
]
# One build in the benchmark's interpreter; prints its peak memory in KiB: the build
# process's and, added to it, that of memberkit's helper process (an upper bound).
BUILD = """
import resource, sys
from mkdocs.__main__ import cli
try:
    cli.main(["build", "-q", "-f", sys.argv[1], "-d", sys.argv[2]], standalone_mode=False)
finally:
    # memberkit's helper is collected by a thread: wait for it, or its memory is not
    # counted (this wait, a few milliseconds, counts in the build's time).
    import threading
    for thread in threading.enumerate():
        if thread is not threading.current_thread():
            thread.join()
    usage = [resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF,
             resource.RUSAGE_CHILDREN)]
    print(sum(usage))
"""


# -- the benchmark's environment ---------------------------------------------------------


def bench_python(log: Callable[[str], None]) -> Path:
    """The venv with memberkit (editable) and encryptcontent, made once and reused."""
    python = VENV / "bin" / "python"
    wanted = f"{ROOT}\n{ENCRYPTCONTENT}\n"
    marker = VENV / "memberkit-bench.txt"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    log(f"preparing {VENV} (memberkit from this checkout, {ENCRYPTCONTENT})")
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    done = subprocess.run([*pip, "-e", str(ROOT), ENCRYPTCONTENT], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"could not install the benchmark's environment:\n{done.stderr[-2000:]}")
    marker.write_text(wanted)
    return python


# -- corpora and contenders --------------------------------------------------------------


def import_seconds(count: int, workers: int | None) -> float:
    """`memberkit members import` of `count` new members: PBKDF2 at 600,000 iterations
    each, on every core (workers=None) or on one."""
    from generator.members import import_csv

    current = private.State.new(mk1.DEFAULT_ITERATIONS)
    text = "email,name\n" + "".join(f"new{n}@example.com,Member {n}\n" for n in range(count))
    started = time.perf_counter()
    import_csv(current, text, known_tiers=["members"], workers=workers)
    return time.perf_counter() - started


def page_text(number: int, meta: str) -> str:
    body = []
    for section in range(6):
        body.append(f"## Section {section} of page {number}\n")
        for paragraph in range(3):
            words = [
                WORDS[(number * 7 + section * 3 + paragraph + i) % len(WORDS)] for i in range(60)
            ]
            body.append(" ".join(words).capitalize() + f" {number}-{section}-{paragraph}.\n")
    return (
        f"---\ntitle: Page {number}\ndescription: Synthetic page {number}.\n{meta}---\n\n"
        f"# Page {number}\n\nThe teaser of page {number}.\n\n<!-- more -->\n\n" + "\n".join(body)
    )


def synthetic_page(number: int) -> str:
    """Where page N lands: guides in sections of 50, as a large site would be organised."""
    return f"guides/s{number // PAGES_PER_SECTION:02d}/p{number:04d}/"


def write_corpus(docs: Path, pages: int, meta: str = "") -> None:
    docs.mkdir(parents=True)
    (docs / "index.md").write_text("# Home\n\nA synthetic members' site.\n")
    for number in range(pages):
        target = docs / (synthetic_page(number).rstrip("/") + ".md")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page_text(number, meta))


def synthetic_config(plugins: str, port: int) -> str:
    # navigation.prune: each page carries only its own part of the navigation; without
    # it Material writes the whole nav into every page and any build grows quadratically.
    # site_url: instant navigation takes over only links its sitemap lists (with the port).
    return (
        f"site_name: Synthetic\nsite_url: http://127.0.0.1:{port}/\n"
        "theme:\n  name: material\n  font: false\n  features:\n"
        "    - navigation.instant\n    - navigation.prune\n"
        f"plugins:\n  - search\n{plugins}"
    )


MEMBERKIT_PLUGIN = (
    "  - memberkit:\n      access:\n        guides/: members\n"
    # No join page in the synthetic corpus: the join links lead to a checkout.
    "      join_url: https://example.com/checkout\n"
)
ENCRYPTCONTENT_PLUGIN = (
    f"  - encryptcontent:\n      password_inventory:\n        members: '{PASSWORD}'\n"
)


def make_state(project: Path, members: int = 1, iterations: int = 600_000) -> None:
    """The bench member (a real PBKDF2 at `iterations`) and `members - 1` others.

    The others get random lookups and keys, as members added earlier would have: the
    build never runs PBKDF2, so how their keys were made does not change its work.
    """
    current = private.State.new(iterations)
    current.ensure_tiers(["members"])
    current.add(EMAIL, PASSWORD, name="Bench Member", tiers=["members"], expires=None)
    add_members(current, members - 1)
    shutil.rmtree(project / private.STATE_DIR, ignore_errors=True)
    private.save(current, project / private.STATE_DIR)


def add_members(state: private.State, count: int) -> None:
    """`count` members with random lookups and keys, as members added earlier would have."""
    for number in range(count):
        email = f"member{number}@example.com"
        state.members[email] = private.Member(
            email=email,
            name=f"Member {number}",
            tiers=["members"],
            expires=None,
            lookup=secrets.token_hex(16),
            kek=mk1.b64url(secrets.token_bytes(32)),
        )


def synthetic(workdir: Path, pages: int, ports: dict[str, int]) -> dict[str, Path]:
    """The same generated pages for each contender, every guide protected."""
    projects = {}
    for name, plugins, meta in (
        ("plain", "", ""),
        ("memberkit", MEMBERKIT_PLUGIN, ""),
        ("encryptcontent", ENCRYPTCONTENT_PLUGIN, "level: members\n"),
    ):
        project = workdir / f"{name}-{pages}"
        write_corpus(project / "docs", pages, meta)
        (project / "mkdocs.yml").write_text(synthetic_config(plugins, ports[name]))
        if name == "memberkit":
            make_state(project)
        projects[name] = project
    return projects


def add_meta(page: Path, line: str) -> None:
    text = page.read_text()
    if text.startswith("---\n"):
        page.write_text("---\n" + line + "\n" + text[4:])
    else:
        page.write_text(f"---\n{line}\n---\n\n{text}")


def bundled(workdir: Path) -> dict[str, Path]:
    """The bundled site. Plain MkDocs gets the same pages: the template pages memberkit
    generates are written out as Markdown, with the memberkit plugin turned off."""
    projects = {}
    for name in ("plain", "memberkit", "encryptcontent"):
        project = workdir / f"{name}-bundled"
        project.mkdir()
        for part in ("mkdocs.yml", "docs", "snippets", "templates", "overrides"):
            source = ROOT / part
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, project / part)
        projects[name] = project
        if name == "memberkit":
            make_state(project)
            continue
        library, _ = DocumentLibrary.load(project / "templates", ["members"])
        for src_uri, markdown in library.pages(sealed=False).items():
            (project / "docs" / src_uri).parent.mkdir(parents=True, exist_ok=True)
            (project / "docs" / src_uri).write_text(markdown)
        config = project / "mkdocs.yml"
        text = config.read_text().replace(
            "  - memberkit:\n", "  - memberkit:\n      enabled: false\n"
        )
        # The library's section of the navigation, as memberkit makes it.
        section = yaml.safe_dump([{"Templates": library.nav()}], sort_keys=False)
        text = text.replace(
            "  - Templates: templates/index.md\n", textwrap.indent(section, "  "), 1
        )
        text += "exclude_docs: |\n  !/templates/\n"  # MkDocs leaves docs/templates/ out
        if name == "encryptcontent":
            text = text.replace("  - search\n", "  - search\n" + ENCRYPTCONTENT_PLUGIN, 1)
            # What memberkit protects: the guides and the template pages, not their indexes.
            protected = [
                *(project / "docs" / "guides").glob("*.md"),
                *(project / "docs" / "templates").glob("*.md"),
            ]
            for page in protected:
                if page.name != "index.md":
                    add_meta(page, "level: members")
        config.write_text(text)
    return projects


# -- builds ----------------------------------------------------------------------------


@dataclass
class Builds:
    seconds: dict[str, list[float]] = field(default_factory=dict)
    peak_kib: dict[str, list[int]] = field(default_factory=dict)

    def add(self, name: str, seconds: float, peak: int) -> None:
        self.seconds.setdefault(name, []).append(seconds)
        self.peak_kib.setdefault(name, []).append(peak)

    def time(self, name: str) -> float:
        return statistics.median(self.seconds[name])

    def memory(self, name: str) -> float:
        return statistics.median(self.peak_kib[name]) / 1024

    def ratio(self, name: str, baseline: str) -> float:
        """The median of the run-by-run ratios: builds of one run are made minutes apart
        at most, so a machine that speeds up or slows down during the benchmark (shared
        hosts do) skews them far less than it skews a ratio of the medians."""
        pairs = zip(self.seconds[name], self.seconds[baseline], strict=True)
        return statistics.median(value / base for value, base in pairs)


def build(python: Path, project: Path, out: Path | None = None) -> tuple[float, int]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("MEMBERKIT_STATE", None)
    # Compiled bytecode, as on any installed copy: memberkit is installed editable here,
    # and with this set every build would compile it anew (MkDocs' is compiled at install).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = out or project / "site"
    started = time.perf_counter()
    done = subprocess.run(
        [str(python), "-c", BUILD, str(project / "mkdocs.yml"), str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=project,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"build failed in {project}:\n{done.stderr[-3000:]}")
    return seconds, int(done.stdout.split()[-1])


def compare_builds(
    python: Path, projects: dict[str, Path], runs: int, log: Callable[[str], None]
) -> Builds:
    names = list(projects)
    for name in names:  # warm-up: file caches, memberkit's download cache, encryptcontent's
        build(python, projects[name])
    builds = Builds()
    for run in range(runs):
        order = names[run % len(names) :] + names[: run % len(names)]  # rotate who goes first
        for name in order:
            seconds, peak = build(python, projects[name])
            builds.add(name, seconds, peak)
            log(f"  {projects[name].name}: {seconds:.2f} s, {peak / 1024:.0f} MiB")
    return builds


# -- browser -----------------------------------------------------------------------------


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
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
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


def public_twin(python: Path, project: Path) -> Path:
    """The memberkit project with its guides public, built: the same page unprotected,
    in a site with the same policy `<meta>`, scripts and navigation."""
    twin = project.with_name(project.name + "-public")
    shutil.copytree(project, twin, ignore=shutil.ignore_patterns("site"))
    config = twin / "mkdocs.yml"
    config.write_text(config.read_text().replace("guides/: members", "guides/: public"))
    for source in (twin / "docs" / "guides").rglob("*.md"):
        text = source.read_text()
        source.write_text(text.replace("\naccess: members\n", "\naccess: public\n", 1))
    build(python, twin)
    return twin / "site"


def headers_only_twin(python: Path, project: Path) -> Path:
    """The memberkit project built with `csp_meta: false`, as for a host that sends
    `_headers` (Netlify, Cloudflare Pages, nginx): no policy `<meta>` in the pages."""
    twin = project.with_name(project.name + "-headers")
    shutil.copytree(project, twin, ignore=shutil.ignore_patterns("site"))
    config = twin / "mkdocs.yml"
    text = config.read_text()
    assert "  - memberkit:\n" in text
    config.write_text(text.replace("  - memberkit:\n", "  - memberkit:\n      csp_meta: false\n"))
    build(python, twin)
    return twin / "site"


def gzipped(path: Path) -> int:
    """Bytes on the wire with gzip at zlib's default level (what most servers use)."""
    return len(gzip.compress(path.read_bytes(), 6, mtime=0))


# -- the keystore at scale ------------------------------------------------------------------

KEYSTORE_BUDGET_SECONDS = 60.0  # the keystore step of a build, at a million members
VISITOR_BUDGET = 1024  # key material a visitor's teaser page fetches
SIGN_IN_BUDGET = 48 * 1024  # key material a sign-in fetches
TEASER = synthetic_page(1)
# The member's sign-in on a teaser page, as the form does it, and the bytes it fetched
# from mk1/ (the index, prefetched when the form showed, and one shard).
KEYSTORE_SIGN_IN = """async ([email, password]) => {
    performance.clearResourceTimings();
    const t = performance.now();
    await window.memberkit.signIn(email, password, false);
    return performance.now() - t; }"""
MK1_BYTES = """() => performance.getEntriesByType("resource")
    .filter(entry => new URL(entry.name).pathname.includes("/mk1/"))
    .map(entry => [new URL(entry.name).pathname, entry.encodedBodySize])"""


@dataclass
class KeystoreFigures:
    """One roster size: the keystore step, and what Chromium fetches and takes."""

    members: int
    seconds: float = 0.0
    visitor_bytes: int = 0
    sign_in_bytes: int = 0
    sign_in: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)


def keystore_figures(
    project: Path, counts: list[int], runs: int, browser: bool, log: Callable[[str], None]
) -> list[KeystoreFigures]:
    """The built `project` (one member who signs in, PBKDF2 at 600,000 iterations) given
    `count - 1` more members: each roster's keystore is written into a copy of the
    site, timed, then served to Chromium."""
    figures = []
    for count in counts:
        state = private.load(project / private.STATE_DIR)
        add_members(state, count - 1)
        site = project.with_name(f"{project.name}-keystore-{count}")
        shutil.copytree(project / "site", site, ignore=shutil.ignore_patterns("mk1"))
        timer = time.perf_counter()
        layout = keystore.write(site, state, dt.date.today(), ["members"])
        figure = KeystoreFigures(count, seconds=time.perf_counter() - timer)
        del state
        log(
            f"  keystore of {count:,} members: {figure.seconds:.1f} s, {layout.shards:,} "
            f"shards of {layout.size}"
        )
        if browser:
            keystore_in_chromium(site, figure, runs, log)
        figures.append(figure)
        shutil.rmtree(site, ignore_errors=True)
    return figures


@contextmanager
def nginx_serving(site: Path, port: int) -> Iterator[str]:
    """nginx on 127.0.0.1 with the server block `memberkit nginx` writes (the site's
    headers, the keystore's Cache-Control): a static host, as members meet one. Python's
    own server instead when nginx is not installed."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")
    if not nginx:
        with serving(site, port) as url:
            yield url
        return
    from generator.hosting import nginx_server

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


NGINX_TEMP = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def keystore_in_chromium(
    site: Path, figure: KeystoreFigures, runs: int, log: Callable[[str], None]
) -> None:
    """A visitor opens a teaser (the form prefetches the keystore index); a member signs
    in there, timed against a bare PBKDF2 in the same page, `runs` times, alternating."""
    from playwright.sync_api import sync_playwright

    with nginx_serving(site, free_port()) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for run in range(runs):
            page = browser.new_page()  # a new visitor: nothing cached
            page.goto(url + TEASER)
            page.get_by_role("button", name="Sign in").wait_for()
            # A member types for seconds: the page's own start-up work is over by then.
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1500)
            visited = page.evaluate(MK1_BYTES)
            # Side by side, first one then the other: a host whose speed drifts skews
            # the ratio of a pair far less than a ratio of medians.
            if run % 2:
                figure.bare.append(page.evaluate(BARE_PBKDF2))
            figure.sign_in.append(page.evaluate(KEYSTORE_SIGN_IN, [EMAIL, PASSWORD]))
            if not run % 2:
                figure.bare.append(page.evaluate(BARE_PBKDF2))
            fetched = page.evaluate(MK1_BYTES)
            figure.visitor_bytes = max(figure.visitor_bytes, sum(size for _, size in visited))
            # What signing in cost, the index it began with included.
            total = sum(size for _, size in visited) + sum(size for _, size in fetched)
            figure.sign_in_bytes = max(figure.sign_in_bytes, total)
            assert len(fetched) == 1 and "/mk1/keys/" in fetched[0][0], fetched
            page.close()
        browser.close()
    log(
        f"  Chromium, {figure.members:,} members: visitor {figure.visitor_bytes:,} B, sign-in "
        f"{figure.sign_in_bytes:,} B, {statistics.median(figure.sign_in):.0f} ms against "
        f"{statistics.median(figure.bare):.0f} ms"
    )


def keystore_rows(figures: list[KeystoreFigures]) -> list[Row]:
    rows = []
    for figure in figures:
        members = f"{figure.members:,} members"
        budget = "budget"
        rows.append(
            Row(
                f"keystore step of a build, {members}",
                figure.seconds,
                KEYSTORE_BUDGET_SECONDS,
                "s",
                1.0,
                budget,
            )
        )
        if not figure.sign_in:
            continue
        rows += [
            Row(
                f"Chromium: key material a teaser page fetches, {members}",
                figure.visitor_bytes,
                VISITOR_BUDGET,
                "B",
                1.0,
                budget,
            ),
            Row(
                f"Chromium: key material a sign-in fetches, {members}",
                figure.sign_in_bytes,
                SIGN_IN_BUDGET,
                "B",
                1.0,
                budget,
            ),
            Row(
                f"Chromium: sign-in, {members}",
                statistics.median(figure.sign_in),
                statistics.median(figure.bare),
                "ms",
                1.05,
                "bare PBKDF2, 600,000",
                statistics.median(s / b for s, b in zip(figure.sign_in, figure.bare, strict=True)),
            ),
        ]
    return rows


# -- the report --------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    value: float
    base: float
    unit: str
    target: float | None
    baseline: str
    paired: float | None = None  # median of the ratios of builds made side by side

    @property
    def ratio(self) -> float:
        return self.paired if self.paired is not None else self.value / self.base

    def verdict(self) -> str:
        if self.target is None:
            return ""
        return "ok" if self.ratio <= self.target else "missed"


def number(value: float, unit: str) -> str:
    if unit == "B":
        return f"{value:,.0f} B"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    if unit == "ms":
        return f"{value:,.0f} ms"
    return f"{value:,.2f} s"


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| measure | memberkit | against | baseline | ratio | target |",
        "| --- | ---: | --- | ---: | ---: | --- |",
    ]
    for row in rows:
        target = f"≤ {row.target:.2f} {row.verdict()}" if row.target else ""
        if row.target == 1.0:
            target = f"< 1 {'ok' if row.ratio < 1 else 'missed'}"
        lines.append(
            f"| {row.label} | {number(row.value, row.unit)} | {row.baseline} | "
            f"{number(row.base, row.unit)} | {row.ratio:.2f} | {target} |"
        )
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = found.group(1).strip() if found else cpu
    browser = subprocess.run(
        ["/usr/bin/chromium", "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {browser or 'no Chromium'}"
    )


README_START, README_END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"


def write_readme(table: str, header: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    readme.write_text(f"{text[:start]}\n{header}\n\n{table}\n{text[end:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--runs", type=int, default=5, help="builds per contender (median; 3 at 3,000 pages)"
    )
    parser.add_argument(
        "--small-runs",
        type=int,
        default=11,
        help="builds per contender for the sites that build in seconds (bundled, 100 pages): "
        "single builds on a shared host vary by tens of percent",
    )
    parser.add_argument("--sizes", default="100,1000,3000", help="synthetic corpora, in pages")
    parser.add_argument("--members", default="10,1000,10000", help="roster sizes to build with")
    parser.add_argument(
        "--keystore-members",
        default="100,10000,1000000",
        help="roster sizes whose keystore is written, then signed in to in Chromium",
    )
    parser.add_argument("--sign-ins", type=int, default=15, help="browser measurements")
    parser.add_argument(
        "--import-members", type=int, default=1000, help="members imported (PBKDF2 each)"
    )
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--quick", action="store_true", help="100 pages, 1 run: a smoke run")
    parser.add_argument("--write-readme", action="store_true")
    options = parser.parse_args()
    if options.quick:
        options.runs, options.sizes, options.members, options.sign_ins = 1, "100", "10,1000", 10
        options.keystore_members = "100,10000"
        options.small_runs = 1
        options.import_members = 100
    sizes = [int(size) for size in options.sizes.split(",")]
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {message}", file=sys.stderr, flush=True)

    python = bench_python(log)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="memberkit-bench-") as scratch:
        workdir = Path(scratch)
        corpora = [("bundled site", bundled(workdir))]
        ports = {name: free_port() for name in ("plain", "memberkit", "encryptcontent")}
        corpora += [(f"{size:,} pages", synthetic(workdir, size, ports)) for size in sizes]
        for label, projects in corpora:
            log(f"building the {label}")
            runs = options.runs
            if label in ("bundled site", "100 pages"):
                runs = options.small_runs
            elif label.startswith("3,000"):
                runs = min(options.runs, 3)
            builds = compare_builds(python, projects, runs, log)
            rows += [
                Row(
                    f"build time, {label}",
                    builds.time("memberkit"),
                    builds.time("plain"),
                    "s",
                    1.10,
                    "plain MkDocs",
                    builds.ratio("memberkit", "plain"),
                ),
                Row(
                    f"build time, {label}",
                    builds.time("memberkit"),
                    builds.time("encryptcontent"),
                    "s",
                    1.0,
                    "encryptcontent",
                    builds.ratio("memberkit", "encryptcontent"),
                ),
                Row(
                    f"peak memory, {label}",
                    builds.memory("memberkit"),
                    builds.memory("plain"),
                    "MiB",
                    None,
                    "plain MkDocs",
                ),
                Row(
                    f"peak memory, {label}",
                    builds.memory("memberkit"),
                    builds.memory("encryptcontent"),
                    "MiB",
                    None,
                    "encryptcontent",
                ),
            ]
        smallest = corpora[1][1]  # the synthetic corpus with the fewest pages
        for label, projects, page in (
            ("a generated page", smallest, synthetic_page(1) + "index.html"),
            ("the bundled task-briefs guide", corpora[0][1], "guides/task-briefs/index.html"),
        ):
            protected = gzipped(projects["memberkit"] / "site" / page)
            plain = gzipped(projects["plain"] / "site" / page)
            rows.append(Row(f"gzip size, {label}", protected, plain, "B", 1.10, "plain MkDocs"))
            headers_only = headers_only_twin(python, projects["memberkit"])
            rows.append(
                Row(
                    f"gzip size, {label}, `csp_meta: false`",
                    gzipped(headers_only / page),
                    plain,
                    "B",
                    1.10,
                    "plain MkDocs",
                )
            )
            twin = public_twin(python, projects["memberkit"])
            rows.append(
                Row(
                    f"gzip size, {label}",
                    protected,
                    gzipped(twin / page),
                    "B",
                    1.10,
                    "memberkit, page public",
                )
            )

        counts = [int(count) for count in options.members.split(",")]
        log(f"members: building {sizes[0]} pages with {options.members} members")
        project = smallest["memberkit"]
        member_builds = Builds()
        keystore_seconds: dict[int, float] = {}
        for count in counts:
            make_state(project, count, iterations=100_000)
            state = private.load(project / private.STATE_DIR)
            with tempfile.TemporaryDirectory(prefix="memberkit-keystore-") as folder:
                timer = time.perf_counter()
                keystore.write(Path(folder), state, dt.date.today(), ["members"])
                keystore_seconds[count] = time.perf_counter() - timer
            build(python, project)  # warm-up
        for run in range(options.runs):
            for count in counts if run % 2 == 0 else list(reversed(counts)):
                make_state(project, count, iterations=100_000)
                seconds, peak = build(python, project)
                member_builds.add(str(count), seconds, peak)
                log(f"  {count} members: {seconds:.2f} s")
        for count in counts[1:]:
            rows.append(
                Row(
                    f"build time, {sizes[0]:,} pages, {count:,} members",
                    member_builds.time(str(count)),
                    member_builds.time(str(counts[0])),
                    "s",
                    None,
                    f"{counts[0]:,} members",
                    member_builds.ratio(str(count), str(counts[0])),
                )
            )
            rows.append(
                Row(
                    f"of which the keystore, {count:,} members",
                    keystore_seconds[count],
                    keystore_seconds[counts[0]],
                    "s",
                    None,
                    f"{counts[0]:,} members",
                )
            )
        make_state(project)  # back to one member with a real 600,000-iteration key

        imports = options.import_members
        log(f"members: importing {imports:,} on {os.cpu_count()} cores, then on one")
        rows.append(
            Row(
                f"import {imports:,} members",
                import_seconds(imports, None),
                import_seconds(imports, 1),
                "s",
                None,
                "one core",
            )
        )

        if not options.no_browser:
            log("browser: sign-in and instant navigation in Chromium")
            build(python, project)
            sign_in, bare, opened, opened_plain = browser_measures(
                smallest["plain"], project, ports, options.sign_ins, log
            )
            rows.append(
                Row(
                    "Chromium: sign-in",
                    statistics.median(sign_in),
                    statistics.median(bare),
                    "ms",
                    1.25,
                    "bare PBKDF2, 600,000",
                )
            )
            rows.append(
                Row(
                    "Chromium: open a protected page (instant navigation)",
                    statistics.median(opened),
                    statistics.median(opened_plain),
                    "ms",
                    None,
                    "unprotected",
                )
            )

        counts = [int(count) for count in options.keystore_members.split(",")]
        log(f"keystore: {options.keystore_members} members, signed in to in Chromium")
        build(python, project)  # one member who signs in, with the keys of this state
        figures = keystore_figures(project, counts, options.sign_ins, not options.no_browser, log)
        rows += keystore_rows(figures)

    header = (
        f"Latest run, {dt.date.today().isoformat()}: {machine()}; {options.runs} alternating "
        f"builds per contender ({options.small_runs} for the bundled site and 100 pages, "
        f"3 at 3,000 pages; medians; build-time ratios are the median of run-by-run "
        f"ratios), {options.sign_ins} sign-ins and page opens. "
        f"`{sys.argv[0]} {' '.join(sys.argv[1:])}`".strip()
    )
    table = markdown_table(rows)
    print(header + "\n\n" + table)
    if options.write_readme:
        write_readme(table, header)
    log("done")


if __name__ == "__main__":
    main()
