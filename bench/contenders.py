"""The contenders: memberkit, plain MkDocs + Material and mkdocs-encryptcontent-plugin,
built in the benchmark's own environment, alternating, timed with their peak memory;
and the gzipped size of a page each of them writes.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from corpora import ROOT, synthetic_page
from results import Row

ENCRYPTCONTENT = "mkdocs-encryptcontent-plugin==3.1.0"
VENV = ROOT / ".cache" / "memberkit-bench" / "venv"
# One build in the benchmark's interpreter. memberkit's helper is collected by a
# thread: the build waits for it, so that the process tree sampled is the whole of it
# (this wait, a few milliseconds, counts in the build's time).
BUILD = """
import sys, threading
from mkdocs.__main__ import cli
try:
    cli.main(["build", "-q", "-f", sys.argv[1], "-d", sys.argv[2]], standalone_mode=False)
finally:
    for thread in threading.enumerate():
        if thread is not threading.current_thread():
            thread.join()
"""
#: How often the build's process tree is sampled for its resident memory.
SAMPLE_SECONDS = 0.005


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
    """Build `project`: the seconds it took and the peak resident memory of its whole
    process tree in KiB (the build and any process it starts: memberkit's helper, git).

    The tree is sampled from /proc while it runs: `ru_maxrss` is no measure here, as
    a process started by exec keeps the peak of the one that started it (a helper
    started by a build of 60 MiB counts 60 MiB, whatever it uses).
    """
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("MEMBERKIT_STATE", None)
    # Compiled bytecode, as on any installed copy: memberkit is installed editable here,
    # and with this set every build would compile it anew (MkDocs' is compiled at install).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = out or project / "site"
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            [str(python), "-c", BUILD, str(project / "mkdocs.yml"), str(out)],
            stdout=subprocess.DEVNULL,
            stderr=errors,
            env=env,
            cwd=project,
        )
        peak = 0
        while process.poll() is None:
            peak = max(peak, sum(map(_resident_kib, _process_tree(process.pid))))
            time.sleep(SAMPLE_SECONDS)
        seconds = time.perf_counter() - started
        if process.returncode:
            errors.seek(0)
            sys.exit(f"build failed in {project}:\n{errors.read().decode()[-3000:]}")
    return seconds, peak


def _process_tree(pid: int) -> list[int]:
    """`pid` and every process below it, from /proc; not a child still being started
    (forked, its command line its parent's, before exec): it shares its parent's
    memory, which would count twice."""
    tree = [pid]
    for parent in tree:
        with contextlib.suppress(OSError):
            command = _command_line(parent)
            for task in os.listdir(f"/proc/{parent}/task"):
                with open(f"/proc/{parent}/task/{task}/children") as children:
                    tree += (
                        c for c in map(int, children.read().split()) if _command_line(c) != command
                    )
    return tree


def _command_line(pid: int) -> bytes:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as line:
        return line.read()
    return b""


def _resident_kib(pid: int) -> int:
    """A process's resident memory (VmRSS), 0 once it is gone."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


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


def build_rows(
    python: Path,
    corpora: list[tuple[str, dict[str, Path]]],
    runs: int,
    small_runs: int,
    log: Callable[[str], None],
) -> list[Row]:
    """Build time and peak memory of memberkit against each contender, corpus by corpus
    (`small_runs` builds each for the sites that build in seconds, 3 at 3,000 pages)."""
    rows = []
    for label, projects in corpora:
        log(f"building the {label}")
        count = runs
        if label in ("bundled site", "100 pages"):
            count = small_runs
        elif label.startswith("3,000"):
            count = min(runs, 3)
        builds = compare_builds(python, projects, count, log)
        rows += [
            Row(
                f"build time, {label}",
                builds.time("memberkit"),
                builds.time("plain"),
                "s",
                1.05,
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
                1.30,
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
    return rows


# -- sizes -------------------------------------------------------------------------------


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


def size_rows(python: Path, bundled: dict[str, Path], smallest: dict[str, Path]) -> list[Row]:
    """The gzipped size of a protected page against the same page from plain MkDocs,
    from memberkit with `csp_meta: false`, and from memberkit with the page public.
    The contenders' sites must be built."""
    rows = []
    for label, projects, page in (
        ("a generated page", smallest, synthetic_page(1) + "index.html"),
        ("the bundled task-briefs guide", bundled, "guides/task-briefs/index.html"),
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
                1.05,
                "memberkit, page public",
            )
        )
    return rows
