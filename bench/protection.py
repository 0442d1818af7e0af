"""Speed of protection: ratios measured side by side in one run (not a test).

    python bench/protection.py [--runs 5] [--pages 1000]

Prints, for the bundled site and a synthetic site of N guide pages, the median build
time with memberkit protecting every members' page against the same build with the
plugin turned off; in Chromium, sign-in against a bare 600,000-iteration PBKDF2 in
the same page; and the gzipped size of a protected page against the unprotected one.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import state as private  # noqa: E402

EMAIL, PASSWORD = "reader@example.com", "a long measuring phrase 9"
WORDS = [
    *("brief", "report", "budget", "worker", "freelancer", "deadline", "invoice"),
    *("review", "checklist", "quality", "feedback", "schedule", "retainer", "hourly"),
    *("project", "milestone", "handover", "access", "password", "owner"),
]


def make_state(project: Path, iterations: int) -> None:
    current = private.State.new(iterations)
    current.ensure_tiers(["members"])
    current.add(EMAIL, PASSWORD, name="Bench Member", tiers=["members"], expires=None)
    private.save(current, project / private.STATE_DIR)


def without_templates(project: Path, workdir: Path) -> Path:
    """The bundled site without its template library: the same pages as with the plugin off."""
    copy = workdir / "bundled-guides-only"
    shutil.copytree(project, copy)
    shutil.rmtree(copy / "templates")
    (copy / "templates").mkdir()
    config = copy / "mkdocs.yml"
    config.write_text(config.read_text().replace("  - Templates: templates/index.md\n", ""))
    return copy


def plugin_off(config: Path) -> Path:
    off = config.with_name("mkdocs-off.yml")
    text = config.read_text().replace("  - memberkit:\n", "  - memberkit:\n      enabled: false\n")
    off.write_text(text)
    return off


def bundled(workdir: Path) -> Path:
    project = workdir / "bundled"
    project.mkdir()
    for part in ("mkdocs.yml", "docs", "snippets", "templates"):
        source = ROOT / part
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, project / part)
    make_state(project, 100_000)
    return project


def synthetic(workdir: Path, pages: int) -> Path:
    project = workdir / f"synthetic-{pages}"
    guides = project / "docs" / "guides"
    guides.mkdir(parents=True)
    (project / "docs" / "index.md").write_text("# Home\n\nA synthetic site.\n")
    for number in range(pages):
        body = []
        for section in range(6):
            body.append(f"## Section {section} of page {number}\n")
            for paragraph in range(3):
                words = [
                    WORDS[(number * 7 + section * 3 + paragraph + i) % len(WORDS)]
                    for i in range(60)
                ]
                body.append(" ".join(words).capitalize() + f" {number}-{section}-{paragraph}.\n")
        (guides / f"p{number:04d}.md").write_text(
            f"---\ntitle: Page {number}\ndescription: Synthetic page {number}.\n---\n\n"
            f"# Page {number}\n\nThe teaser of page {number}.\n\n<!-- more -->\n\n"
            + "\n".join(body)
        )
    (project / "mkdocs.yml").write_text(
        "site_name: Synthetic\ntheme:\n  name: material\n  font: false\n"
        "plugins:\n  - search\n  - memberkit:\n      access:\n        guides/: members\n"
    )
    make_state(project, 100_000)
    return project


def build_seconds(config: Path, out: Path) -> float:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "-q", "-f", str(config), "-d", str(out)],
        check=True,
        env=env,
        cwd=config.parent,
    )
    return time.perf_counter() - started


def compare_builds(project: Path, runs: int) -> tuple[float, float]:
    on, off = project / "mkdocs.yml", plugin_off(project / "mkdocs.yml")
    build_seconds(on, project / "warm")  # fills the download cache, like any second build
    times: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(runs):  # alternate, so drift hits both alike
        times["off"].append(build_seconds(off, project / "site-off"))
        times["on"].append(build_seconds(on, project / "site-on"))
    return statistics.median(times["on"]), statistics.median(times["off"])


def gzip_ratio(project: Path, page: str) -> tuple[int, int]:
    protected = (project / "site-on" / page).read_bytes()
    plain = (project / "site-off" / page).read_bytes()
    return len(gzip.compress(protected, 9)), len(gzip.compress(plain, 9))


def browser_sign_in(project: Path, runs: int) -> tuple[float, float]:
    from playwright.sync_api import sync_playwright

    site = project / "site-browser"
    make_state(project, 600_000)  # the real count, as members get it
    build_seconds(project / "mkdocs.yml", site)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    sign_in, bare = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.goto(url + "login/")  # where members sign in: the form fetches the keystore
        page.get_by_role("button", name="Sign in").wait_for()
        # PBKDF2 in a browser varies by tens of percent from run to run: take many.
        for _ in range(max(runs, 15)):
            bare.append(
                page.evaluate(
                    """async () => {
                    const t = performance.now();
                    const key = await crypto.subtle.importKey("raw",
                        new TextEncoder().encode("a long measuring phrase 9"), "PBKDF2", false,
                        ["deriveBits"]);
                    await crypto.subtle.deriveBits({name: "PBKDF2", hash: "SHA-256",
                        salt: new TextEncoder().encode("mk1|salt"), iterations: 600000}, key, 256);
                    return performance.now() - t; }"""
                )
            )
            page.reload()  # a fresh form: its keystore fetch starts as it shows
            page.get_by_role("button", name="Sign in").wait_for()
            # A member types for seconds; let the page's own start-up work (the search
            # worker indexing) finish first, as it has by the time they press Enter.
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1500)
            sign_in.append(
                page.evaluate(
                    """async ([email, password]) => {
                    const t = performance.now();
                    await window.memberkit.signIn(email, password, false);
                    return performance.now() - t; }""",
                    [EMAIL, PASSWORD],
                )
            )
            page.evaluate("window.memberkit.signOut(false)")
        browser.close()
    server.shutdown()
    return statistics.median(sign_in), statistics.median(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--browser-only", action="store_true")
    options = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        site = bundled(workdir)
        corpora = (
            ()
            if options.browser_only
            else (
                ("bundled site", site),
                ("bundled site, no templates", without_templates(site, workdir)),
                (f"synthetic, {options.pages} pages", synthetic(workdir, options.pages)),
            )
        )
        for name, project in corpora:
            on, off = compare_builds(project, options.runs)
            rows.append((f"build: {name}", on, off, "s", 1.10))
            page = (
                "guides/task-briefs/index.html"
                if name.startswith("bundled")
                else "guides/p0001/index.html"
            )
            sealed, plain = gzip_ratio(project, page)
            rows.append((f"gzip size: a protected page ({name})", sealed, plain, "bytes", 1.10))
        if not options.no_browser:
            signed, bare = browser_sign_in(workdir / "bundled", options.runs)
            rows.append(("Chromium: sign-in vs bare PBKDF2 600k", signed, bare, "ms", 1.25))
    print(f"{'measure':<48} {'memberkit':>12} {'baseline':>12} {'ratio':>7} {'target':>7}")
    for label, value, base, unit, target in rows:
        ratio = value / base
        verdict = "ok" if ratio <= target else "MISSED"
        print(
            f"{label:<48} {value:>10.2f}{unit[0]:>2} {base:>10.2f}{unit[0]:>2} {ratio:>7.2f} "
            f"{'<=' + str(target):>7} {verdict}"
        )


if __name__ == "__main__":
    main()
