"""Sealing and word work of a protected build, on a second core when there is one.

Each protected page is sealed into its envelope, and gives the leak check its text
to remember and the search shards their entries; every file of the site is read as
soon as it is written, and checked at the end. MkDocs renders the content of every
page before it writes the first, so the build hands each page's protected part to a
helper process as it goes, leaves a placeholder where its envelope goes, and fills
the placeholders in when it writes the pages: by then the helper has sealed them
all, meanwhile, into a temporary file the build reads each back from (`spill`).
With one core, or if the helper cannot start, the same work runs in the build's own
process: the site is the same to the byte either way.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO

from generator.errors import MemberkitError
from generator.process import helper_command
from generator.protection import searchtext
from generator.protection.envelopes import Sealer, SearchIndex
from generator.protection.leakcheck import Leak, LeakCheck
from generator.protection.spill import Spill, Where

Shards = dict[str, Where]  # site path: where its search shard's envelope is
#: 1: the work in the build's own process; 0: in a helper, whatever the site's size.
INLINE_ENV = "MEMBERKIT_INLINE"


class Inline:
    """The work, done where it is asked for."""

    def __init__(self, spill: Spill | None = None) -> None:
        self.leaks = LeakCheck()
        self.indexes: dict[str, SearchIndex] = {}  # tier: its entries, in page order
        self.sealer: Sealer | None = None
        self.spill = spill or Spill()  # the envelopes
        self.sealed: dict[str, Where] = {}  # placeholder: envelope, not yet handed over
        self.protected = 0  # protected parts added so far
        self.shards: tuple[int, Shards] | None = None  # (protected parts then, shards)

    def use_keys(self, site: str, keys: dict[str, tuple[int, bytes]]) -> None:
        self.sealer = Sealer(site=site, keys=keys)

    def add_member(self, email: str, name: str) -> None:
        self.leaks.add_member(email, name)

    def add_public(self, fragment: str) -> None:
        self.leaks.add_public(fragment)

    def add_secret(self, fragment: str) -> None:
        """Text that must be in no file of the site, and in no search (a page before its
        release date): the leak check holds it as protected."""
        self.leaks.add_protected(fragment)

    def add_protected(
        self, tier: str, url: str, title: str, fragment: str, teaser: str = ""
    ) -> None:
        self.leaks.add_protected(fragment)
        entries = searchtext.search_entries(url, title, fragment, teaser)
        self.indexes.setdefault(tier, SearchIndex(self.spill)).add(entries)
        self.protected += 1

    def protect(
        self,
        placeholder: str,
        tier: str,
        url: str,
        title: str,
        fragments: dict[str, str],
        teaser: str = "",
    ) -> None:
        """A page's protected part: sealed (its envelope replaces `placeholder` in the
        page), remembered by the leak check, and searchable by the members of `tier`
        (with its teaser, in place of the teaser's own entry)."""
        assert self.sealer is not None, "use_keys first"
        envelope = self.sealer.seal_page(tier, url, fragments)
        self.sealed[placeholder] = self.spill.put(envelope.encode("ascii"))
        self.add_protected(tier, url, title, fragments["content"], teaser)

    def envelopes(self) -> dict[str, Where]:
        """Where the envelopes sealed since the last call are, by placeholder."""
        sealed, self.sealed = self.sealed, {}
        return sealed

    def spilled(self, where: Where) -> bytes:
        """An envelope or a search shard, read back."""
        return self.spill.get(where)

    def search_shards(self) -> Shards:
        """The sealed search shards; kept while no page is added."""
        assert self.sealer is not None, "use_keys first"
        if self.shards is None or self.shards[0] != self.protected:
            sealed = self.sealer.search_shards(self.indexes)
            self.shards = (self.protected, {p: self.spill.put(s) for p, s in sealed.items()})
        return self.shards[1]

    def read_ahead(self, site: Path, relative: str) -> None:
        self.leaks.read_ahead(site, relative)

    def read_ahead_all(self, site: Path, skip: Iterable[str]) -> None:
        self.leaks.read_ahead_all(site, skip)

    def scan(self, site: Path, skip: Iterable[str]) -> list[Leak]:
        return self.leaks.scan(site, skip)

    def finish(self, site: Path, skip: Iterable[str]) -> tuple[Shards, Callable[[], list[Leak]]]:
        """The search shards now, and the scan of `site` when the caller is ready for
        it. The caller writes only ciphertext (`.mk1`) in between."""
        return self.search_shards(), lambda: self.scan(site, skip)

    def close(self) -> None:
        self.leaks.close()
        self.spill.close()


class Background:
    """The same calls as `Inline`, carried out by a helper process.

    The helper is `python -m generator.protection.worker`; calls travel as pickles over its
    standard input and output (both ends are this module). Not multiprocessing: that
    would import the owner's own script again in the helper, if they build from one.
    """

    def __init__(self) -> None:
        command, environment = helper_command("generator.protection.worker")
        self._spill = Spill()  # the helper writes it, the build reads it
        try:
            self._process = subprocess.Popen(
                [*command, str(self._spill.fd)],
                env=environment,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                pass_fds=(self._spill.fd,),
            )
        except OSError:
            self._spill.close()
            raise
        assert self._process.stdin is not None and self._process.stdout is not None
        self._inbox, self._outbox = self._process.stdout, self._process.stdin
        self._broken = False

    def use_keys(self, site: str, keys: dict[str, tuple[int, bytes]]) -> None:
        self._send("use_keys", site, keys)

    def add_member(self, email: str, name: str) -> None:
        self._send("add_member", email, name)

    def add_public(self, fragment: str) -> None:
        self._send("add_public", fragment)

    def add_secret(self, fragment: str) -> None:
        self._send("add_secret", fragment)

    def protect(
        self,
        placeholder: str,
        tier: str,
        url: str,
        title: str,
        fragments: dict[str, str],
        teaser: str = "",
    ) -> None:
        self._send("protect", placeholder, tier, url, title, fragments, teaser)

    def envelopes(self) -> dict[str, Where]:
        self._send("envelopes", now=True)
        sealed: dict[str, Where] = self._receive()
        return sealed

    def spilled(self, where: Where) -> bytes:
        return self._spill.get(where)

    def read_ahead(self, site: Path, relative: str) -> None:
        self._send("read_ahead", site, relative, now=True)

    def read_ahead_all(self, site: Path, skip: Iterable[str]) -> None:
        self._send("read_ahead_all", site, sorted(skip), now=True)

    def scan(self, site: Path, skip: Iterable[str]) -> list[Leak]:
        self._send("scan", site, sorted(skip), now=True)
        return self._leaks()

    def finish(self, site: Path, skip: Iterable[str]) -> tuple[Shards, Callable[[], list[Leak]]]:
        """As `Inline.finish`; the helper starts the scan as soon as it has answered."""
        # One message, answered twice: the helper has read all of it before it writes
        # its first answer, so neither side can wait on a full pipe for the other.
        self._send("finish", site, sorted(skip), now=True)
        shards: Shards = self._receive()
        return shards, self._leaks

    def _leaks(self) -> list[Leak]:
        found: list[tuple[str, str]] = self._receive()
        return [Leak(name, what) for name, what in found]

    def close(self) -> None:
        """End the helper. The build does not wait for it to go: a thread collects it."""
        with contextlib.suppress(OSError):
            self._outbox.close()  # the helper reads the end of its input and stops
        self._inbox.close()
        self._spill.close()
        if self._process.poll() is None:
            threading.Thread(target=_collect, args=(self._process,), daemon=True).start()

    def _send(self, *message: Any, now: bool = False) -> None:
        """Most calls wait in the pipe's buffer for the next that is sent `now` (a
        question, or the page MkDocs has just written): one write a page, not three."""
        if self._broken:
            return
        try:
            pickle.dump(message, self._outbox, protocol=pickle.HIGHEST_PROTOCOL)
            if now:
                self._outbox.flush()
        except OSError:
            self._broken = True  # reported by the next question

    def _receive(self) -> Any:
        """The answer to the oldest question not yet answered."""
        try:
            if self._broken:
                raise EOFError
            status, value = pickle.load(self._inbox)
        except (EOFError, OSError, pickle.UnpicklingError):
            raise MemberkitError(
                "the build's helper process (encryption, leak check) stopped; build again, or set "
                f"{INLINE_ENV}=1 to work without it"
            ) from None
        if status == "error":
            raise MemberkitError(
                f"the build's helper process (encryption, leak check) failed: {value}"
            )
        return value


def _collect(process: subprocess.Popen[bytes]) -> None:
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _serve(inbox: BinaryIO, outbox: BinaryIO, spill: int) -> None:
    """The helper's loop: one-way calls are carried out in order; a failure among them
    is kept and given as the answer to the next question. Envelopes go to the file
    `spill` (a descriptor the build passed on)."""
    work = Inline(Spill(spill))
    failure: str | None = None

    def answer(call: Callable[..., Any], *arguments: Any) -> None:
        nonlocal failure
        value = None
        if failure is None:
            try:
                value = call(*arguments)
            except Exception as error:
                failure = f"{type(error).__name__}: {error}"
        reply = ("error", failure) if failure is not None else ("ok", value)
        pickle.dump(reply, outbox, protocol=pickle.HIGHEST_PROTOCOL)
        outbox.flush()

    def scan(site: Path, skip: list[str]) -> list[tuple[str, str]]:
        return [(leak.file, leak.what) for leak in work.scan(site, skip)]

    while True:
        try:
            name, *arguments = pickle.load(inbox)
        except EOFError:
            # The build is over (or failed): nothing more will come. Leave at once,
            # without tidying up a large leak check the build does not wait for.
            outbox.flush()
            os._exit(0)
        if name == "scan":
            answer(scan, *arguments)
        elif name == "envelopes":
            answer(work.envelopes)
            # Every page has been rendered by now, as a rule: seal the search shards
            # while the build writes the pages (they are made again if a page follows).
            if failure is None and work.sealer is not None:
                with contextlib.suppress(Exception):
                    work.search_shards()
        elif name == "finish":
            answer(work.search_shards)
            answer(scan, *arguments)
        else:
            try:
                getattr(work, name)(*arguments)
            except Exception as error:
                failure = failure or f"{type(error).__name__}: {error}"


#: A site of fewer pages is built in one process: a helper would save it a few tens of
#: milliseconds and cost a second interpreter (about 30 MiB).
HELPER_FROM_PAGES = 50


def start(pages: int = HELPER_FROM_PAGES) -> Inline | Background:
    """A helper process when a second core can run it and the site (about `pages`
    pages) is large enough to gain from it, else the work done inline. MEMBERKIT_INLINE
    set to 1 keeps the work inline; set to 0, a second core runs it whatever the size."""
    chosen = os.environ.get(INLINE_ENV)
    if chosen == "1" or (os.cpu_count() or 1) < 2:
        return Inline()
    if chosen != "0" and pages < HELPER_FROM_PAGES:
        return Inline()
    try:
        return Background()
    except OSError:
        return Inline()


if __name__ == "__main__":
    # Answers go to the real standard output; anything printed goes to stderr instead.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _serve(sys.stdin.buffer, answers, spill=int(sys.argv[1]))
