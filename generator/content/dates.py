"""Dates of pages: what front matter says, and when a source file last changed.

A page's `date` (when it was first published) and `updated` (when it last changed in
a way readers should know about) come from its front matter. When neither is there,
the sitemap still wants a date: the source file's last commit date in git, or its
modification time outside git. Both are properties of the sources, never of the
clock, so two builds of the same sources write the same dates. No MkDocs import.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from generator.errors import MemberkitError

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def front_matter_date(meta: Mapping[str, Any], key: str, path: str) -> dt.date | None:
    """The date in front matter field `key`, or None when the field is absent.

    YAML reads `2027-01-15` as a date already; a quoted "2027-01-15" is accepted too,
    and so is a date with a time, and the blog's `date: {created: …, updated: …}`.
    Anything else is an error that names the file and the field.
    """
    value = meta.get(key)
    if isinstance(value, Mapping) and key == "date":
        # Material's blog: `date: {created: 2024-01-31, updated: 2024-02-01}`.
        return front_matter_date(value, "created", path)
    if value is None and key == "updated" and isinstance(meta.get("date"), Mapping):
        return front_matter_date(meta["date"], "updated", path)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise MemberkitError(
        f"front matter {key!r} is {value!r}, which is not a date; "
        "write it as YYYY-MM-DD, e.g. 2027-01-15",
        path=path,
    )


def long_date(day: dt.date) -> str:
    """`15 January 2027`: the same in every locale the build may run in."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


class SourceDates:
    """When each source file last changed: its last commit in git, else its mtime.

    git is asked once, for the whole history of the folder (a file's newest commit
    is the first one naming it); files git does not know, or a folder outside git,
    fall back to the modification time.
    """

    def __init__(self, root: Path, commits: Mapping[str, dt.date] | None = None) -> None:
        self.root = root
        self.commits = dict(commits) if commits is not None else git_dates(root)
        self._resolved_root = root.resolve()

    def of(self, path: str | os.PathLike[str]) -> dt.date | None:
        """The date of a file (absolute, or relative to the root), None if missing."""
        absolute = Path(self.root, path)
        if self.commits:  # outside git, no path is resolved (a dozen system calls each)
            try:
                relative = absolute.resolve().relative_to(self._resolved_root).as_posix()
            except ValueError:
                relative = None
            if relative is not None and relative in self.commits:
                return self.commits[relative]
        try:
            mtime = absolute.stat().st_mtime
        except OSError:
            return None
        return dt.datetime.fromtimestamp(mtime, dt.UTC).date()

    def newest(self, paths: Iterable[str | os.PathLike[str]]) -> dt.date | None:
        found = [d for d in map(self.of, paths) if d is not None]
        return max(found, default=None)


def git_dates(root: Path) -> dict[str, dt.date]:
    """{path relative to `root`: date of the last commit that changed it}; empty when
    `root` is not in a git work tree or git is not installed."""
    try:
        result = subprocess.run(
            [
                "git",
                "-c",
                "core.quotePath=false",
                "log",
                "--format=%x00%cs",
                "--name-only",
                "--no-renames",
                "--relative",
                "--",
                ".",
            ],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    if result.returncode != 0:
        return {}
    dates: dict[str, dt.date] = {}
    current: dt.date | None = None
    for line in result.stdout.splitlines():
        if line.startswith("\x00"):
            try:
                current = dt.date.fromisoformat(line[1:].strip())
            except ValueError:
                current = None
        elif line and current is not None:
            dates.setdefault(line, current)  # newest first: the first date wins
    return dates
