"""memberkit against plain MkDocs and mkdocs-encryptcontent-plugin (a benchmark, not a test).

    python bench/benchmarks.py                  # everything: about 20 minutes on 2 cores
    python bench/benchmarks.py --quick          # 100 pages, 1 run, 10 sign-ins: a smoke run
    python bench/benchmarks.py --write-readme   # also put the results into README.md
    python bench/benchmarks.py --only keystore --write-readme   # refresh one table

The contenders build in the benchmark's own virtual environment
(`.cache/memberkit-bench/venv`: this checkout of memberkit and the encryptcontent plugin,
which is never a project dependency), so all of them use the same MkDocs and Material.
Builds alternate between contenders and each figure is a median; ratios compare figures
measured in this one run, never against numbers from another machine.

`--only` runs some of the parts, in this order whatever the order given:

    builds    the contenders' build time and peak memory, and gzipped page sizes
    members   builds of the smallest generated site with more members (`--members`)
    import    `memberkit members import` on every core, then on one
    browser   Chromium: sign-in against a bare PBKDF2, opening a protected page
    keystore  the keystore of `--keystore-members` members: its step of a build, then
              the key material a visitor and a member fetch in Chromium, and the sign-in

`--write-readme` rewrites README.md's benchmarks table after a run of every part (its
header describes one run: `--only` with fewer parts leaves it as it is), and its
keystore table whenever the keystore part ran in Chromium (not with `--no-browser`):
`--only keystore --write-readme` rewrites the keystore table alone.

The parts live beside this entry point: `corpora.py` (the sites and members),
`contenders.py` (the benchmark's environment, builds, page sizes), `browser.py`
(serving a site, Chromium), `roster.py` (members: builds, import, keystore at scale)
and `results.py` (the table's rows, the machine, the README writer).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# This checkout's `generator`, before any copy installed in the interpreter's environment.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import browser
import contenders
import corpora
import results
import roster

PARTS = ("builds", "members", "import", "browser", "keystore")
SITES = {"builds", "members", "browser", "keystore"}  # the parts that build sites


def arguments() -> tuple[argparse.Namespace, list[str], bool]:
    """The options, the parts to run in order, and whether every part was asked for."""
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
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help=f"the parts to run, a comma list of {', '.join(PARTS)} (default: all)",
    )
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--quick", action="store_true", help="100 pages, 1 run: a smoke run")
    parser.add_argument(
        "--write-readme",
        action="store_true",
        help="put the results into README.md (the benchmarks table after a run of every "
        "part, the keystore table after the keystore part)",
    )
    options = parser.parse_args()
    if options.quick:
        options.runs, options.sizes, options.members, options.sign_ins = 1, "100", "10,1000", 10
        options.keystore_members = "100,10000"
        options.small_runs = 1
        options.import_members = 100
    for name in ("sizes", "members", "keystore_members"):  # refused now, not mid-run
        text = getattr(options, name)
        if not all(count.strip().isdigit() and int(count) > 0 for count in text.split(",")):
            option = "--" + name.replace("_", "-")
            parser.error(f"{option} takes a comma list of whole numbers above 0, not {text!r}")
    asked = {part.strip() for part in options.only.split(",") if part.strip()}
    if not asked or asked - set(PARTS):
        parser.error(f"--only takes a comma list of {', '.join(PARTS)}, not {options.only!r}")
    parts = [part for part in PARTS if part in asked]
    every = len(parts) == len(PARTS)
    if options.write_readme and not every:
        if "keystore" not in parts:
            parser.error(
                "--write-readme with --only: the benchmarks table needs every part, "
                "the keystore table the keystore part"
            )
        if options.no_browser:
            parser.error("--write-readme with --only keystore: the keystore table needs Chromium")
    if options.no_browser and "browser" in parts:
        parts.remove("browser")
    return options, parts, every


def importing(count: int, log: Callable[[str], None]) -> list[results.Row]:
    log(f"members: importing {count:,} on {os.cpu_count()} cores, then on one")
    return roster.import_rows(count)


def measure(
    options: argparse.Namespace, parts: list[str], log: Callable[[str], None]
) -> tuple[list[results.Row], list[roster.KeystoreFigures]]:
    """The parts, in order: the table's rows, and the keystore's figures."""
    rows: list[results.Row] = []
    figures: list[roster.KeystoreFigures] = []
    if not SITES.intersection(parts):  # importing members needs no site
        return importing(options.import_members, log), figures
    sizes = [int(size) for size in options.sizes.split(",")]
    python = contenders.bench_python(log)
    with tempfile.TemporaryDirectory(prefix="memberkit-bench-") as scratch:
        workdir = Path(scratch)
        ports = {name: browser.free_port() for name in corpora.CONTENDERS}
        if "builds" in parts:
            sites = [("bundled site", corpora.bundled(workdir))]
            sites += [
                (f"{size:,} pages", corpora.synthetic(workdir, size, ports)) for size in sizes
            ]
            rows += contenders.build_rows(python, sites, options.runs, options.small_runs, log)
            smallest = sites[1][1]  # the synthetic corpus with the fewest pages
            rows += contenders.size_rows(python, sites[0][1], smallest)
        else:  # the other parts need the smallest synthetic corpus alone
            smallest = corpora.synthetic(workdir, sizes[0], ports)
        project = smallest["memberkit"]

        if "members" in parts:
            log(f"members: building {sizes[0]} pages with {options.members} members")
            counts = [int(count) for count in options.members.split(",")]
            rows += roster.member_rows(python, project, sizes[0], counts, options.runs, log)

        if "import" in parts:
            rows += importing(options.import_members, log)

        if "browser" in parts:
            log("browser: sign-in and instant navigation in Chromium")
            if "builds" not in parts:
                contenders.build(python, smallest["plain"])  # the unprotected pages
            contenders.build(python, project)
            rows += browser.browser_rows(smallest["plain"], project, ports, options.sign_ins, log)

        if "keystore" in parts:
            counts = [int(count) for count in options.keystore_members.split(",")]
            chromium = not options.no_browser
            then = ", signed in to in Chromium" if chromium else ""
            log(f"keystore: {options.keystore_members} members{then}")
            contenders.build(python, project)  # one member who signs in, with this state's keys
            figures = roster.keystore_figures(project, counts, options.sign_ins, chromium, log)
            rows += roster.keystore_rows(figures)
    return rows, figures


def command() -> str:
    return f"`{' '.join(sys.argv)}`"


def header(options: argparse.Namespace, parts: list[str]) -> str:
    """The benchmarks table's: what ran, where and how often, and the command."""
    what = []
    if "builds" in parts:
        sizes = [int(size) for size in options.sizes.split(",")]
        large = ", 3 at 3,000 pages" if 3000 in sizes and options.runs > 3 else ""
        what.append(
            f"{options.runs} alternating builds per contender ({options.small_runs} for the "
            f"bundled site and 100 pages{large}; medians; build-time ratios are the median "
            "of run-by-run ratios)"
        )
    if "browser" in parts:
        what.append(f"{options.sign_ins} sign-ins and page opens")
    elif "keystore" in parts and not options.no_browser:
        what.append(f"{options.sign_ins} sign-ins for each roster size")
    ran = f"; {', '.join(what)}" if what else ""
    return f"Latest run, {dt.date.today().isoformat()}: {results.machine()}{ran}. {command()}"


def keystore_header(options: argparse.Namespace) -> str:
    """The keystore table's."""
    server = "nginx" if browser.nginx_path() else "Python's server"
    return (
        f"Latest run, {dt.date.today().isoformat()}: {results.machine()}; the keystore "
        f"step of a build timed alone, then {options.sign_ins} visits and sign-ins for each "
        f"roster size in Chromium, served by {server} (bytes as received). {command()}"
    )


def main() -> None:
    options, parts, every = arguments()
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:6.0f} s] {message}", file=sys.stderr, flush=True)

    rows, figures = measure(options, parts, log)
    head = header(options, parts)
    table = results.markdown_table(rows)
    print(head + "\n\n" + table)
    if figures:
        print("\n" + roster.keystore_table(figures))
    if options.write_readme:
        readme = corpora.ROOT / "README.md"
        if every:
            results.write_readme(readme, results.BENCHMARKS, f"{head}\n\n{table}")
            log("README.md: the benchmarks table rewritten")
        if figures and figures[0].sign_in:
            text = f"{keystore_header(options)}\n\n{roster.keystore_table(figures)}"
            results.write_readme(readme, results.KEYSTORE, text)
            log("README.md: the keystore table rewritten")
        elif figures:
            log("README.md: the keystore table left as it is (its bytes come from Chromium)")
    log("done")


if __name__ == "__main__":
    main()
