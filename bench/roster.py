"""What the roster's size costs: builds with more members, importing members (PBKDF2
each), and the keystore at scale (its step of a build, then the key material a visitor
and a member fetch in Chromium, and the member's sign-in).

(Not `keystore.py`: that name is the generator's, `generator/keystore.py`.)
Imported by `benchmarks.py`, which puts this checkout first on `sys.path`.
"""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from browser import BARE_PBKDF2, free_port, launch, nginx_serving
from contenders import Builds, build
from corpora import EMAIL, PASSWORD, add_members, make_state, synthetic_page
from results import Row, number

from generator.members import keystore_writer, store
from generator.members import state as private
from generator.protection import mk1

# -- builds with more members ------------------------------------------------------------


def member_rows(
    python: Path,
    project: Path,
    pages: int,
    counts: list[int],
    runs: int,
    log: Callable[[str], None],
) -> list[Row]:
    """The memberkit `project` (of `pages` pages) built with each roster size of `counts`,
    alternating, against the first; and the keystore step alone. The project is left
    with its one member again, whose key has 600,000 iterations."""
    member_builds = Builds()
    keystore_seconds: dict[int, float] = {}
    for count in counts:
        make_state(project, count, iterations=100_000)
        state = store.load(project / store.STATE_DIR)
        with tempfile.TemporaryDirectory(prefix="memberkit-keystore-") as folder:
            timer = time.perf_counter()
            keystore_writer.write(Path(folder), state, dt.date.today(), ["members"])
            keystore_seconds[count] = time.perf_counter() - timer
        build(python, project)  # warm-up
    for run in range(runs):
        for count in counts if run % 2 == 0 else list(reversed(counts)):
            make_state(project, count, iterations=100_000)
            seconds, peak = build(python, project)
            member_builds.add(str(count), seconds, peak)
            log(f"  {count} members: {seconds:.2f} s")
    rows = []
    for count in counts[1:]:
        rows.append(
            Row(
                f"build time, {pages:,} pages, {count:,} members",
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
    return rows


# -- importing members -------------------------------------------------------------------


def import_seconds(count: int, workers: int | None) -> float:
    """`memberkit members import` of `count` new members: PBKDF2 at 600,000 iterations
    each, on every core (workers=None) or on one."""
    from generator.members.roster import import_csv

    current = private.State.new(mk1.DEFAULT_ITERATIONS)
    text = "email,name\n" + "".join(f"new{n}@example.com,Member {n}\n" for n in range(count))
    started = time.perf_counter()
    import_csv(current, text, known_tiers=["members"], workers=workers)
    return time.perf_counter() - started


def import_rows(count: int) -> list[Row]:
    return [
        Row(
            f"import {count:,} members",
            import_seconds(count, None),
            import_seconds(count, 1),
            "s",
            None,
            "one core",
        )
    ]


# -- the keystore at scale ---------------------------------------------------------------

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
    .map(entry => [new URL(entry.name).pathname, entry.encodedBodySize,
        entry.responseEnd - entry.startTime])"""


@dataclass
class KeystoreFigures:
    """One roster size: the keystore step and the layout it wrote, and what Chromium
    fetches and takes."""

    members: int
    seconds: float = 0.0
    shards: int = 0
    shard_size: int = 0  # entries in every shard, decoys included
    visitor_bytes: int = 0
    sign_in_bytes: int = 0
    sign_in: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    shard_fetch: list[float] = field(default_factory=list)  # ms, within the sign-in

    def ratio(self) -> float:
        """Sign-in against bare PBKDF2: the median of the ratios of the pairs."""
        return statistics.median(s / b for s, b in zip(self.sign_in, self.bare, strict=True))


def keystore_figures(
    project: Path, counts: list[int], runs: int, browser: bool, log: Callable[[str], None]
) -> list[KeystoreFigures]:
    """The built `project` (one member who signs in, PBKDF2 at 600,000 iterations) given
    `count - 1` more members: each roster's keystore is written into a copy of the
    site, timed, then served to Chromium."""
    figures = []
    for count in counts:
        state = store.load(project / store.STATE_DIR)
        add_members(state, count - 1)
        site = project.with_name(f"{project.name}-keystore-{count}")
        shutil.copytree(project / "site", site, ignore=shutil.ignore_patterns("mk1"))
        timer = time.perf_counter()
        layout = keystore_writer.write(site, state, dt.date.today(), ["members"])
        figure = KeystoreFigures(count, seconds=time.perf_counter() - timer)
        figure.shards, figure.shard_size = layout.shards, layout.size
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


def keystore_in_chromium(
    site: Path, figure: KeystoreFigures, runs: int, log: Callable[[str], None]
) -> None:
    """A visitor opens a teaser (the form prefetches the keystore index); a member signs
    in there, timed against a bare PBKDF2 in the same page, `runs` times, alternating."""
    from playwright.sync_api import sync_playwright

    with nginx_serving(site, free_port()) as url, sync_playwright() as playwright:
        browser = launch(playwright)
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
            figure.visitor_bytes = max(figure.visitor_bytes, sum(size for _, size, _ in visited))
            # What signing in cost, the index it began with included.
            total = sum(size for _, size, _ in visited) + sum(size for _, size, _ in fetched)
            figure.sign_in_bytes = max(figure.sign_in_bytes, total)
            assert len(fetched) == 1 and "/mk1/keys/" in fetched[0][0], fetched
            figure.shard_fetch.append(fetched[0][2])
            page.close()
        browser.close()
    log(
        f"  Chromium, {figure.members:,} members: visitor {figure.visitor_bytes:,} B, sign-in "
        f"{figure.sign_in_bytes:,} B, {statistics.median(figure.sign_in):.0f} ms against "
        f"{statistics.median(figure.bare):.0f} ms (ratio {figure.ratio():.2f}; the shard's "
        f"fetch {statistics.median(figure.shard_fetch):.1f} ms)"
    )


def keystore_rows(figures: list[KeystoreFigures]) -> list[Row]:
    """The benchmarks table's rows: each figure against its budget."""
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
                figure.ratio(),
            ),
        ]
    return rows


def keystore_table(figures: list[KeystoreFigures]) -> str:
    """The README's keystore table: a row for each roster size."""
    lines = [
        "| members | shards | a visitor's page fetches | a sign-in fetches | written in "
        "| signing in, against a bare PBKDF2 | the shard's fetch, while PBKDF2 runs |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for figure in figures:
        measured = bool(figure.sign_in)  # the bytes and times come from Chromium
        visitor = number(figure.visitor_bytes, "B") if measured else "not measured"
        sign_in = number(figure.sign_in_bytes, "B") if measured else "not measured"
        timed = "not measured"
        fetch = "not measured"
        if measured:
            timed = (
                f"{statistics.median(figure.sign_in):.0f} ms against "
                f"{statistics.median(figure.bare):.0f} ms: {figure.ratio():.2f}"
            )
            fetch = f"{statistics.median(figure.shard_fetch):.1f} ms"
        lines.append(
            f"| {figure.members:,} | {figure.shards:,} of {figure.shard_size} entries | "
            f"{visitor} | {sign_in} | {number(figure.seconds, 's')} | {timed} | {fetch} |"
        )
    return "\n".join(lines)
