"""The keystore a build publishes: layout 3 of PROTOCOL.md, at any member count.

One entry for every member who has not expired and one for each live login link, each
sealed with its own key and carrying the roster epoch `r`; one that holds no key for
each membership that ended lately, so that signing in says so; an index; shards
padded with decoys to one size. Layout 3 files every entry in the shard of its member's email,
under a lookup bound to the epoch; a roster that still holds a member added before
(without the key that binds the lookup) is written in layout 2 until their next reset.
A million members make 65,536 shards of 48 entries, about 1.3 GB:
sealing, decoys and writing are shared among processes, one a core, by ranges of
shards. The bytes are the same whatever the number of processes. No MkDocs import.
"""

from __future__ import annotations

import bisect
import concurrent.futures
import contextlib
import dataclasses
import datetime as dt
import gc
import hashlib
import itertools
import json
import os
import pickle
import shutil
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, NamedTuple

from generator.process import helper_command
from generator.protection import keystore, mk1

#: A string as compact JSON writes it (the C encoder `json.dumps` uses).
_json_text = json.encoder.encode_basestring

if TYPE_CHECKING:
    from generator.members.state import State, TierKey

ENDED_NOTICE_DAYS = keystore.ENDED_NOTICE_DAYS

INDEX_PATH = keystore.KEYSTORE_INDEX
INLINE_ENV = "MEMBERKIT_INLINE"
#: Below this many entries the build's own process writes everything: starting helper
#: processes would cost more than they save.
POOL_THRESHOLD = 20_000
#: Threads that write the shard files of a process.
WRITERS = 8


class Entry(NamedTuple):
    """One entry to publish: a member's, or their login link's. Plain text, as light as
    can be: a keystore may hold a million of them, handed to other processes."""

    lookup: str
    kek: str  # base64url
    plaintext: str  # compact JSON without the epoch
    place: str  # hex; its first digits name the entry's shard
    lookup_key: str  # base64url, or "" for a member added before layout 3


@dataclass(frozen=True)
class Layout:
    """What a build wrote."""

    digits: int
    size: int  # entries in every shard, decoys included
    entries: int  # real ones
    epoch: str
    version: int = 3  # the keystore's layout

    @property
    def shards(self) -> int:
        return int(16**self.digits)


def published(
    state: State,
    today: dt.date,
    tiers: Sequence[str],
    keys: dict[str, TierKey] | None = None,
    ended_days: int = ENDED_NOTICE_DAYS,
) -> list[Entry]:
    """The entries of the members who have not expired and of their live login links,
    and, for each membership that ended less than `ended_days` ago, one that holds no
    key (`"keys": {}`, `exp` its last day) and no login link's; sorted by lookup. The
    plaintexts are `keystore.member_plaintext`'s, without the epoch."""
    entries: list[Entry] = []
    add = entries.append
    current = keys if keys is not None else state.tier_keys()
    held: dict[str, str] = {}  # the JSON of each set of tiers members hold: a few
    last_day = today.isoformat()  # YYYY-MM-DD dates compare as text
    for ended in state.told_ended(today, ended_days):
        common = '{"name":' + _json_text(ended.name) + ',"exp":"' + ended.expires + '"'
        place = _place(state.site, ended.email)
        add(Entry(ended.lookup, ended.kek, common + ',"keys":{}}', place, ended.lookup_key or ""))
    for member in state.members.values():
        if member.expires is not None and member.expires < last_day:
            continue
        place = _place(state.site, member.email)
        tier_set = " ".join(member.tiers)
        given = held.get(tier_set)
        if given is None:
            granted = [t for t in member.tiers if t in current and t in tiers]
            json_keys = {t: {"v": current[t].v, "k": current[t].k} for t in granted}
            given = held[tier_set] = ',"keys":' + mk1.compact_json(json_keys).decode() + "}"
        expires = "null" if member.expires is None else '"' + member.expires + '"'
        common = '{"name":' + _json_text(member.name) + ',"exp":' + expires
        add(Entry(member.lookup, member.kek, common + given, place, member.lookup_key or ""))
        link = member.link
        if link is not None and link.expires >= last_day:
            marked = f'{common},"link":"{link.expires}"{given}'
            add(Entry(link.lookup, link.kek, marked, place, link.lookup_key or ""))
    entries.sort()
    return entries


def _place(site: str, email: str) -> str:
    """The member's shard in layout 3 (the email is kept normalised)."""
    return hashlib.sha256(f"mk1|shard|{site}|{email}".encode()).hexdigest()


def placed(entries: Sequence[Entry], epoch: str) -> tuple[list[Entry], int]:
    """The entries as the keystore files them, sorted by shard, and the layout: 3
    (lookups bound to `epoch`, shards named by the email) when every entry has its
    lookup key, else 2 (each under its own lookup, in the shard its prefix names)."""
    if entries and all(e.lookup_key for e in entries):
        bound = [
            e._replace(lookup=mk1.epoch_lookup(mk1.unb64url(e.lookup_key), epoch)) for e in entries
        ]
        return sorted(bound, key=lambda e: (e.place, e.lookup)), 3
    return [e._replace(place=e.lookup) for e in entries], 2


def roster_epoch(
    state: State,
    tiers: Sequence[str],
    entries: Sequence[Entry],
    keys: dict[str, TierKey] | None = None,
) -> str:
    """`r`: a MAC of every tier key and every entry to publish (see `keystore.roster_epoch`).
    One line an entry: lookup and key have fixed lengths, and JSON holds no newline."""
    keys = keys if keys is not None else state.tier_keys()
    tier_keys = {t: [k.v, k.k] for t, k in sorted(keys.items()) if t in tiers}
    roster = "\n".join(map("".join, entries))
    return keystore.roster_epoch(
        mk1.unb64url(state.secret), [mk1.compact_json(tier_keys), roster.encode()]
    )


def _tail(epoch: str) -> str:
    """What closes every plaintext: the epoch, as its last field."""
    return f',"r":"{epoch}"}}'


def _padded_length(entries: Sequence[Entry], tail: str) -> int:
    """Every entry is padded to the length of the longest, a multiple of 256."""
    longest = max((len(e.plaintext.encode()) for e in entries), default=1) - 1 + len(tail)
    return longest + (-longest % keystore.PAD_BLOCK)


def _seal(site: str, entry: Entry, tail: str, length: int) -> str:
    padded = (entry.plaintext[:-1] + tail).encode().ljust(length)
    return keystore.seal_entry(site, entry.lookup, mk1.unb64url(entry.kek), padded)


def sealed_entries(
    state: State, today: dt.date, tiers: Sequence[str], ended_days: int = ENDED_NOTICE_DAYS
) -> tuple[str, dict[str, str]]:
    """(epoch, {lookup: entry}): the real entries as a keystore of either layout holds
    them. `write` makes the same entries without holding them all at once."""
    keys = state.tier_keys()
    entries = published(state, today, tiers, keys, ended_days)
    epoch = roster_epoch(state, tiers, entries, keys)
    tail = _tail(epoch)
    length = _padded_length(entries, tail)
    return epoch, {e.lookup: _seal(state.site, e, tail, length) for e in entries}


@dataclass(frozen=True)
class _Job:
    """Shards `first` to `last` (numbers, inclusive), with the entries that fall in them."""

    plan: keystore.ShardPlan
    folder: str  # where the shard files go: mk1/keys/
    tail: str  # the epoch, closing every plaintext
    length: int  # of every padded plaintext
    first: int
    last: int
    entries: Sequence[Entry]  # sorted


def _write_shards(job: _Job) -> int:
    """Seal the job's entries, pad each shard with its decoys, write the files.

    Creating a file can take a millisecond on a busy disk, most of it waiting: a few
    threads write the files while this one makes the next shards.
    """
    pending = iter(job.entries)
    following = next(pending, None)
    queued = threading.BoundedSemaphore(WRITERS * 8)  # shards made but not yet written
    with concurrent.futures.ThreadPoolExecutor(WRITERS) as writers:
        written = []
        for number in range(job.first, job.last + 1):
            prefix = f"{number:0{job.plan.digits}x}"
            members: dict[str, str] = {}
            while following is not None and following.place.startswith(prefix):
                members[following.lookup] = _seal(job.plan.site, following, job.tail, job.length)
                following = next(pending, None)
            prefix, document = job.plan.shard(number, members)
            path = os.path.join(job.folder, f"{prefix}.json")
            queued.acquire()
            written.append(writers.submit(_write_file, path, document))
            written[-1].add_done_callback(lambda _: queued.release())
        for done in written:
            done.result()  # an error writing a file is raised here
    return job.last - job.first + 1


def _write_file(path: str, content: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(content)


def _jobs(
    plan: keystore.ShardPlan,
    folder: str,
    tail: str,
    length: int,
    entries: Sequence[Entry],
    count: int,
) -> list[_Job]:
    """`count` jobs of consecutive shards, each with its slice of the sorted entries."""
    total = 16**plan.digits
    bounds = sorted({round(total * i / count) for i in range(count + 1)})
    lookups = [e.place for e in entries]
    jobs = []
    for first, end in itertools.pairwise(bounds):
        start = bisect.bisect_left(lookups, f"{first:0{plan.digits}x}")
        stop = bisect.bisect_left(lookups, f"{end:0{plan.digits}x}") if end < total else None
        jobs.append(_Job(plan, folder, tail, length, first, end - 1, entries[start:stop]))
    return jobs


def write(
    site_dir: Path,
    state: State,
    today: dt.date,
    tiers: Sequence[str],
    workers: int | None = None,
    *,
    ended_days: int = ENDED_NOTICE_DAYS,
) -> Layout:
    """Write `mk1/keystore.json` (the index) and `mk1/keys/<prefix>.json` (every shard).

    `workers`: processes to share the shards among (default: one a core, none for a
    small roster or with MEMBERKIT_INLINE=1). `ended_days`: how long after it ended a
    membership's entry says so (`published`).
    """
    collecting = gc.isenabled()
    gc.disable()  # millions of new objects, none in a cycle: nothing for it to find
    try:
        return _write(site_dir, state, today, tiers, workers, ended_days)
    finally:
        if collecting:
            gc.enable()


def _write(
    site_dir: Path,
    state: State,
    today: dt.date,
    tiers: Sequence[str],
    workers: int | None,
    ended_days: int,
) -> Layout:
    keys = state.tier_keys()
    entries = published(state, today, tiers, keys, ended_days)
    epoch = roster_epoch(state, tiers, entries, keys)
    entries, version = placed(entries, epoch)
    digits, size = keystore.shard_plan([e.place for e in entries])
    index = site_dir / INDEX_PATH
    folder = index.parent / keystore.SHARD_URL.split("/")[0]
    shutil.rmtree(folder, ignore_errors=True)  # a build into a used folder: no stale shard
    folder.mkdir(parents=True)
    tail = _tail(epoch)
    length = _padded_length(entries, tail)
    blob_length = mk1.NONCE_BYTES + length + 16
    key = keystore.decoy_key(mk1.unb64url(state.secret), epoch)
    plan = keystore.ShardPlan(state.site, digits, size, blob_length, key, by_email=version == 3)
    layout = Layout(digits, size, len(entries), epoch, version)
    if workers is None:
        inline = len(entries) < POOL_THRESHOLD or os.environ.get(INLINE_ENV) == "1"
        workers = 1 if inline else os.cpu_count() or 1
    jobs = _jobs(plan, str(folder), tail, length, entries, max(1, workers))
    del entries  # the jobs hold them now
    helpers = [_Helper.start(job) for job in jobs[1:]]
    try:
        _write_shards(jobs[0])
        for job, helper in zip(jobs[1:], helpers, strict=True):
            if helper is None or not helper.done():
                _write_shards(job)  # it could not start, or failed: its shards are written here
    finally:
        for helper in helpers:  # after a failure here: none writes on into the folder
            if helper is not None:
                helper.stop()
    index_epoch = epoch if version == 3 else None
    index.write_bytes(keystore.keystore_index(state.site, state.iterations, digits, index_epoch))
    return layout


class _Helper:
    """A process that writes one job's shards: `python -m generator.keystore`, the job
    on its standard input, the number of shards it wrote on its output. A fresh
    interpreter rather than a fork (the build may have threads, which a fork does not
    carry) or multiprocessing (which would import the build's main script again)."""

    def __init__(self, process: subprocess.Popen[bytes], job: _Job) -> None:
        self.process = process
        self.job = job
        # Sent meanwhile: the build's own process gets on with its share at once.
        self.sending = threading.Thread(target=self._send, daemon=True)
        self.sending.start()

    @classmethod
    def start(cls, job: _Job) -> _Helper | None:
        command, environment = helper_command(__name__)
        try:
            process = subprocess.Popen(
                command,
                env=environment,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return None
        return cls(process, job)

    def _send(self) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(OSError), self.process.stdin:
            _send_job(self.job, self.process.stdin)

    def stop(self) -> None:
        """End it if it still runs (the build failed meanwhile)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.sending.join()

    def done(self) -> bool:
        """Wait for it; True when it wrote every shard of its job."""
        assert self.process.stdout is not None
        with self.process.stdout:
            out = self.process.stdout.read()
        self.process.wait()
        self.sending.join()
        return (
            self.process.returncode == 0
            and out.strip() == str(self.job.last - self.job.first + 1).encode()
        )


def _send_job(job: _Job, stream: IO[bytes]) -> None:
    """The job without its entries, then the entries as one text, a line each (tabs
    and newlines are escaped in JSON): a fraction of the time pickling them takes."""
    pickle.dump(dataclasses.replace(job, entries=()), stream, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write("\n".join(map("\t".join, job.entries)).encode())


def _receive_job(stream: IO[bytes]) -> _Job:
    job: _Job = pickle.load(stream)
    text = stream.read().decode()
    entries = [Entry(*line.split("\t")) for line in text.split("\n")] if text else []
    return dataclasses.replace(job, entries=entries)


if __name__ == "__main__":
    gc.disable()
    print(_write_shards(_receive_job(sys.stdin.buffer)))
