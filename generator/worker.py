"""Word work of a protected build, on a second core when there is one.

Each protected page gives the leak check its text to remember and the search shard
its entries; at the end, every file of the site is read. None of it changes what the
build writes for the page, so the build hands it to a helper process as it goes and
renders the next page meanwhile. With one core, or if the helper cannot start, the
same work runs in the build's own process: the results are identical either way.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Iterable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from . import protect
from .errors import MemberkitError
from .leakcheck import Leak, LeakCheck

Entries = dict[str, list[dict[str, str]]]  # tier: search entries, in page order


class Inline:
    """The work, done where it is asked for."""

    def __init__(self) -> None:
        self.leaks = LeakCheck()
        self.entries: Entries = {}

    def add_member(self, email: str, name: str) -> None:
        self.leaks.add_member(email, name)

    def add_public(self, fragment: str) -> None:
        self.leaks.add_public(fragment)

    def add_protected(self, tier: str, url: str, title: str, fragment: str) -> None:
        self.leaks.add_protected(fragment)
        self.entries.setdefault(tier, []).extend(protect.search_entries(url, title, fragment))

    def search_entries(self) -> Entries:
        return self.entries

    def scan(self, site: Path, skip: Iterable[str]) -> list[Leak]:
        return self.leaks.scan(site, skip)

    def close(self) -> None:
        pass


class Background:
    """The same calls as `Inline`, carried out by a helper process."""

    def __init__(self) -> None:
        # spawn: a fresh interpreter, safe even when `mkdocs serve` runs other threads.
        context = multiprocessing.get_context("spawn")
        self._connection, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs,), daemon=True)
        self._process.start()
        theirs.close()

    def add_member(self, email: str, name: str) -> None:
        self._connection.send(("add_member", email, name))

    def add_public(self, fragment: str) -> None:
        self._connection.send(("add_public", fragment))

    def add_protected(self, tier: str, url: str, title: str, fragment: str) -> None:
        self._connection.send(("add_protected", tier, url, title, fragment))

    def search_entries(self) -> Entries:
        entries: Entries = self._ask("search_entries")
        return entries

    def scan(self, site: Path, skip: Iterable[str]) -> list[Leak]:
        found: list[tuple[str, str]] = self._ask("scan", site, sorted(skip))
        return [Leak(name, what) for name, what in found]

    def close(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(OSError):
                self._connection.send(("close",))
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()
        self._connection.close()

    def _ask(self, *message: Any) -> Any:
        try:
            self._connection.send(message)
            status, value = self._connection.recv()
        except (EOFError, OSError):
            raise MemberkitError(
                "the leak check's helper process stopped; build again, and if it keeps "
                "happening, report it with the output of 'memberkit build'"
            ) from None
        if status == "error":
            raise MemberkitError(f"the leak check failed: {value}")
        return value


def _serve(connection: Connection) -> None:
    work = Inline()
    while True:
        try:
            name, *arguments = connection.recv()
        except EOFError:
            return  # the build ended (or failed): nothing more will come
        if name == "close":
            return
        try:
            value = getattr(work, name)(*arguments)
        except Exception as error:  # reported to the build, which stops with it
            connection.send(("error", f"{type(error).__name__}: {error}"))
            continue
        if name == "search_entries":
            connection.send(("ok", value))
        elif name == "scan":
            connection.send(("ok", [(leak.file, leak.what) for leak in value]))


def start() -> Inline | Background:
    """A helper process when a second core can run it, else the work done inline."""
    if (os.cpu_count() or 1) < 2 or os.environ.get("MEMBERKIT_INLINE") == "1":
        return Inline()
    try:
        return Background()
    except OSError:
        return Inline()
