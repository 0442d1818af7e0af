"""The benchmark's results: a row of the table, the Markdown table, the machine it ran
on, and the README writer that replaces what lies between a pair of markers.

(Not `report.py`: that name is `memberkit report`'s, in `generator/`.)
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Row:
    label: str
    value: float
    base: float
    unit: str
    target: float | None
    baseline: str
    paired: float | None = None  # median of the ratios of builds made side by side
    absolute: bool = False  # the target bounds the value itself (a layout shift), not a ratio

    @property
    def ratio(self) -> float:
        return self.paired if self.paired is not None else self.value / self.base

    def verdict(self) -> str:
        if self.target is None:
            return ""
        measured = self.value if self.absolute else self.ratio
        return "ok" if measured <= self.target + 1e-9 else "missed"


def number(value: float, unit: str) -> str:
    if unit == "B":
        return f"{value:,.0f} B"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    if unit == "ms":
        return f"{value:,.0f} ms"
    if unit == "requests":
        return f"{value:,.0f}"
    if unit == "CLS":
        return f"{value:.3f}"
    return f"{value:,.2f} s"


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| measure | memberkit | against | baseline | ratio | target |",
        "| --- | ---: | --- | ---: | ---: | --- |",
    ]
    for row in rows:
        target = f"≤ {row.target:.2f} {row.verdict()}" if row.target else ""
        if row.target == 1.0 and not row.absolute:
            target = f"< 1 {'ok' if row.ratio < 1 else 'missed'}"
        ratio = "" if row.absolute else f"{row.ratio:.2f}"
        lines.append(
            f"| {row.label} | {number(row.value, row.unit)} | {row.baseline} | "
            f"{number(row.base, row.unit)} | {ratio} | {target} |"
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


# The README's two tables: every figure of a full run, and the keystore's at scale.
BENCHMARKS = ("<!-- benchmarks:start -->", "<!-- benchmarks:end -->")
KEYSTORE = ("<!-- keystore:start -->", "<!-- keystore:end -->")


def write_readme(readme: Path, markers: tuple[str, str], text: str) -> None:
    """Replace what lies between the `markers` (both kept) in `readme` with `text`."""
    start_marker, end_marker = markers
    current = readme.read_text()
    start = current.index(start_marker) + len(start_marker)
    end = current.index(end_marker, start)
    readme.write_text(f"{current[:start]}\n{text}\n{current[end:]}")
