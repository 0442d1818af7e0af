"""The keystore a build publishes: layout 2 of PROTOCOL.md, at any member count.

One entry for every member who has not expired and one for each live login link, each
sealed with its own key and carrying the roster epoch `r`; an index; shards padded with
decoys to one size. A million members make 65,536 shards of 48 entries, about 1.3 GB:
sealing, decoys and writing are shared among processes, one a core, by ranges of
shards. The bytes are the same whatever the number of processes. No MkDocs import.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from . import mk1

#: A string as compact JSON writes it (the C encoder `json.dumps` uses).
_json_text = json.encoder.encode_basestring

if TYPE_CHECKING:
    from .state import State

INDEX_PATH = "mk1/keystore.json"
INLINE_ENV = "MEMBERKIT_INLINE"
#: Below this many entries the build's own process writes everything: starting helper
#: processes would cost more than they save.
POOL_THRESHOLD = 20_000


class Entry(NamedTuple):
    """One entry to publish: a member's, or their login link's. Plain text, as light as
    can be: a keystore may hold a million of them, handed to other processes."""

    lookup: str
    kek: str  # base64url
    plaintext: str  # compact JSON without the epoch


@dataclass(frozen=True)
class Layout:
    """What a build wrote."""

    digits: int
    size: int  # entries in every shard, decoys included
    entries: int  # real ones
    epoch: str

    @property
    def shards(self) -> int:
        return int(16**self.digits)


def published(state: State, today: dt.date, tiers: Sequence[str]) -> list[Entry]:
    """The entries of the members who have not expired and of their live login links,
    sorted by lookup. The plaintexts are `mk1.member_plaintext`'s, without the epoch."""
    entries = []
    held: dict[tuple[str, ...], str] = {}  # a few tier sets, each written once
    last_day = today.isoformat()  # YYYY-MM-DD dates compare as text
    for member in state.members.values():
        if member.expires is not None and member.expires < last_day:
            continue
        granted = tuple(t for t in member.tiers if t in state.tiers and t in tiers)
        if granted not in held:
            keys = {t: {"v": state.tiers[t].v, "k": state.tiers[t].k} for t in granted}
            held[granted] = ',"keys":' + mk1.compact_json(keys).decode() + "}"
        expires = "null" if member.expires is None else f'"{member.expires}"'
        common = f'{{"name":{_json_text(member.name)},"exp":{expires}'
        entries.append(Entry(member.lookup, member.kek, common + held[granted]))
        link = member.link
        if link is not None and link.expires >= last_day:
            marked = f'{common},"link":"{link.expires}"{held[granted]}'
            entries.append(Entry(link.lookup, link.kek, marked))
    entries.sort()
    return entries


def roster_epoch(state: State, tiers: Sequence[str], entries: Sequence[Entry]) -> str:
    """`r`: a MAC of every tier key and every entry to publish (see `mk1.roster_epoch`).
    One line an entry: lookup and key have fixed lengths, and JSON holds no newline."""
    tier_keys = {t: [k.v, k.k] for t, k in sorted(state.tiers.items()) if t in tiers}
    roster = "\n".join(f"{e.lookup}{e.kek}{e.plaintext}" for e in entries)
    return mk1.roster_epoch(
        mk1.unb64url(state.secret), [mk1.compact_json(tier_keys), roster.encode()]
    )


def _tail(epoch: str) -> str:
    """What closes every plaintext: the epoch, as its last field."""
    return f',"r":"{epoch}"}}'


def _padded_length(entries: Sequence[Entry], tail: str) -> int:
    """Every entry is padded to the length of the longest, a multiple of 256."""
    longest = max((len(e.plaintext.encode()) for e in entries), default=1) - 1 + len(tail)
    return longest + (-longest % mk1.PAD_BLOCK)


def _seal(site: str, entry: Entry, tail: str, length: int) -> str:
    padded = (entry.plaintext[:-1] + tail).encode().ljust(length)
    return mk1.seal_entry(site, entry.lookup, mk1.unb64url(entry.kek), padded)


def sealed_entries(
    state: State, today: dt.date, tiers: Sequence[str]
) -> tuple[str, dict[str, str]]:
    """(epoch, {lookup: entry}): the real entries as a keystore of either layout holds
    them. `write` makes the same entries without holding them all at once."""
    entries = published(state, today, tiers)
    epoch = roster_epoch(state, tiers, entries)
    tail = _tail(epoch)
    length = _padded_length(entries, tail)
    return epoch, {e.lookup: _seal(state.site, e, tail, length) for e in entries}


@dataclass(frozen=True)
class _Job:
    """Shards `first` to `last` (numbers, inclusive), with the entries that fall in them."""

    plan: mk1.ShardPlan
    folder: str  # where the shard files go: mk1/keys/
    tail: str  # the epoch, closing every plaintext
    length: int  # of every padded plaintext
    first: int
    last: int
    entries: Sequence[Entry]  # sorted


def _write_shards(job: _Job) -> int:
    """Seal the job's entries, pad each shard with its decoys, write the files."""
    pending = iter(job.entries)
    following = next(pending, None)
    for number in range(job.first, job.last + 1):
        prefix = f"{number:0{job.plan.digits}x}"
        members: dict[str, str] = {}
        while following is not None and following.lookup.startswith(prefix):
            members[following.lookup] = _seal(job.plan.site, following, job.tail, job.length)
            following = next(pending, None)
        prefix, document = job.plan.shard(number, members)
        with open(os.path.join(job.folder, f"{prefix}.json"), "wb") as handle:
            handle.write(document)
    return job.last - job.first + 1


def _jobs(
    plan: mk1.ShardPlan, folder: str, tail: str, length: int, entries: Sequence[Entry], count: int
) -> list[_Job]:
    """`count` jobs of consecutive shards, each with its slice of the sorted entries."""
    total = 16**plan.digits
    bounds = sorted({round(total * i / count) for i in range(count + 1)})
    lookups = [e.lookup for e in entries]
    jobs = []
    for first, end in itertools.pairwise(bounds):
        start = bisect.bisect_left(lookups, f"{first:0{plan.digits}x}")
        stop = bisect.bisect_left(lookups, f"{end:0{plan.digits}x}") if end < total else None
        jobs.append(_Job(plan, folder, tail, length, first, end - 1, entries[start:stop]))
    return jobs


def write(
    site_dir: Path, state: State, today: dt.date, tiers: Sequence[str], workers: int | None = None
) -> Layout:
    """Write `mk1/keystore.json` (the index) and `mk1/keys/<prefix>.json` (every shard).

    `workers`: processes to share the shards among (default: one a core, none for a
    small roster or with MEMBERKIT_INLINE=1).
    """
    entries = published(state, today, tiers)
    epoch = roster_epoch(state, tiers, entries)
    digits, size = mk1.shard_plan([e.lookup for e in entries])
    index = site_dir / INDEX_PATH
    folder = index.parent / mk1.SHARD_URL.split("/")[0]
    shutil.rmtree(folder, ignore_errors=True)  # a build into a used folder: no stale shard
    folder.mkdir(parents=True)
    tail = _tail(epoch)
    length = _padded_length(entries, tail)
    blob_length = mk1.NONCE_BYTES + length + 16
    key = mk1.decoy_key(mk1.unb64url(state.secret), epoch)
    plan = mk1.ShardPlan(state.site, digits, size, blob_length, key)
    layout = Layout(digits=digits, size=size, entries=len(entries), epoch=epoch)
    if workers is None:
        inline = len(entries) < POOL_THRESHOLD or os.environ.get(INLINE_ENV) == "1"
        workers = 1 if inline else os.cpu_count() or 1
    jobs = _jobs(plan, str(folder), tail, length, entries, max(1, workers))
    del entries  # the jobs hold them now
    helpers = [_Helper.start(job) for job in jobs[1:]]
    _write_shards(jobs[0])
    for job, helper in zip(jobs[1:], helpers, strict=True):
        if helper is None or not helper.done():
            _write_shards(job)  # it could not start, or failed: its shards are written here
    index.write_bytes(mk1.keystore_index(state.site, state.iterations, digits))
    return layout


class _Helper:
    """A process that writes one job's shards: `python -m generator.keystore`, the job
    pickled on its standard input, the number of shards it wrote on its output. A
    fresh interpreter rather than a fork (the build may have threads, which a fork
    does not carry) or multiprocessing (which would import the build's main script
    again)."""

    def __init__(self, process: subprocess.Popen[bytes], job: _Job) -> None:
        self.process = process
        self.job = job

    @classmethod
    def start(cls, job: _Job) -> _Helper | None:
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return None
        assert process.stdin is not None
        try:
            with process.stdin:
                pickle.dump(job, process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError:
            process.kill()
            process.wait()
            return None
        return cls(process, job)

    def done(self) -> bool:
        """Wait for it; True when it wrote every shard of its job."""
        assert self.process.stdout is not None
        with self.process.stdout:
            out = self.process.stdout.read()
        self.process.wait()
        return (
            self.process.returncode == 0
            and out.strip() == str(self.job.last - self.job.first + 1).encode()
        )


if __name__ == "__main__":
    print(_write_shards(pickle.load(sys.stdin.buffer)))
