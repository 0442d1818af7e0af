"""The keystore, as PROTOCOL.md publishes it: entries, decoys, layouts 1, 2 and 3.

Each member's entry is sealed with their own key-wrapping key; decoys are derived
from a secret, so the same roster always gives the same bytes. No MkDocs import.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from generator.protection import mk1

PAD_BLOCK = 256
MIN_KEYSTORE_ENTRIES = 16
#: Layout 2 (the sharded keystore): at most this many real entries in the fullest shard,
#: a shard's size a multiple of SHARD_BLOCK, shard names of 1 to SHARD_MAX_DIGITS hex
#: characters, shard files where SHARD_URL says (relative to the index).
SHARD_MAX_REAL = 96
SHARD_BLOCK = 16
SHARD_MAX_DIGITS = 4
SHARD_URL = "keys/{shard}.json"
#: Where a site publishes its keystore (the index, in layouts 2 and 3), from its root.
KEYSTORE_INDEX = "mk1/keystore.json"
#: The roster epoch "r" in every entry: 16 bytes, 22 base64url characters.
EPOCH_BYTES = 16
#: How many days after a membership ended its keystore entry (holding no key) still
#: says so at sign-in, unless the owner says otherwise (`ended_notice_days`).
ENDED_NOTICE_DAYS = 90


def keystore_aad(site: str, lookup: str) -> bytes:
    return f"mk1|keys|{site}|{lookup}".encode()


def pad(data: bytes, block: int = PAD_BLOCK) -> bytes:
    return data + b" " * (-len(data) % block)


def member_plaintext(
    name: str,
    expires: str | None,
    keys: Mapping[str, Any],
    *,
    epoch: str | None = None,
    link: str | None = None,
) -> bytes:
    """The compact JSON a keystore entry holds, before padding.

    `epoch` is the roster epoch `r` of layout 2. `link` marks the entry of a login
    link: the last day (YYYY-MM-DD) the link opens it.
    """
    fields: dict[str, Any] = {"name": name, "exp": expires}
    if link is not None:
        fields["link"] = link
    fields["keys"] = keys
    if epoch is not None:
        fields["r"] = epoch
    return mk1.compact_json(fields)


def wrap_member_entry(site: str, member: mk1.MemberKeys, plaintext: bytes, length: int = 0) -> str:
    """One keystore value, padded with spaces to `length` (a multiple of 256, or the next).

    The build pads every entry of a keystore to the same length, so no entry stands out.
    """
    padded = pad(plaintext.ljust(length, b" ") if length >= len(plaintext) else plaintext)
    return seal_entry(site, member.lookup, member.kek, padded)


def seal_entry(site: str, lookup: str, kek: bytes, padded: bytes) -> str:
    """A keystore value from a padded plaintext. Nothing is cached: every member has a
    key of their own, and a keystore may hold a million of them."""
    aad = keystore_aad(site, lookup)
    nonce = mk1.hmac_sha256(mk1.hmac_sha256(kek, b"mk1 nonce"), aad + b"\x00" + padded)[
        : mk1.NONCE_BYTES
    ]
    return mk1.b64url(nonce + AESGCM(kek).encrypt(nonce, padded, aad))


def unwrap_member_entry(site: str, member: mk1.MemberKeys, value: str) -> dict[str, Any]:
    plaintext = mk1.open_blob(member.kek, keystore_aad(site, member.lookup), mk1.unb64url(value))
    entry = json.loads(plaintext.decode())
    if not isinstance(entry, dict):
        raise mk1.MK1Error("keystore entry is not an object")
    return entry


def keystore_size(members: int) -> int:
    """Entries to publish: the next power of two, at least 16, hiding the member count."""
    size = MIN_KEYSTORE_ENTRIES
    while size < members:
        size *= 2
    return size


def decoy_stream(secret: bytes, label: bytes) -> Iterator[bytes]:
    """HMAC-SHA256 in counter mode: reproducible bytes that look random."""
    keyed = hmac.new(secret, digestmod=hashlib.sha256)  # the key is set up once
    counter = 0
    while True:
        block = keyed.copy()
        block.update(label + counter.to_bytes(8, "big"))
        yield block.digest()
        counter += 1


def iter_decoys(secret: bytes, blob_length: int) -> Iterator[tuple[str, str]]:
    """Endless entries shaped exactly like real ones (32-hex lookups, same blob length)."""
    stream = decoy_stream(secret, b"mk1 decoy")
    while True:
        lookup = next(stream)[:16].hex()
        blob = b""
        while len(blob) < blob_length:
            blob += next(stream)
        yield lookup, mk1.b64url(blob[:blob_length])


def build_keystore(
    site: str,
    entries: Mapping[str, str],
    decoy_secret: bytes,
    iterations: int = mk1.DEFAULT_ITERATIONS,
) -> bytes:
    """The public keystore JSON: real entries, padded with decoys, sorted by lookup."""
    if iterations < mk1.MIN_ITERATIONS:
        raise ValueError(f"PBKDF2 iterations must be at least {mk1.MIN_ITERATIONS}")
    members = dict(entries)
    lengths = {len(mk1.unb64url(v)) for v in members.values()}
    blob_length = max(lengths, default=mk1.NONCE_BYTES + PAD_BLOCK + 16)
    target = keystore_size(len(members))
    for lookup, blob in iter_decoys(decoy_secret, blob_length):
        if len(members) >= target:
            break
        members.setdefault(lookup, blob)
    document = {
        "format": mk1.FORMAT,
        "site": site,
        "kdf": {"name": "PBKDF2", "hash": "SHA-256", "iterations": iterations},
        "members": dict(sorted(members.items())),
    }
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


# -- Keystore, layout 2: an index and shards -----------------------------------------


def roster_epoch(secret: bytes, parts: Iterable[bytes]) -> str:
    """`r`, the roster epoch: a MAC of everything the keystore publishes.

    Any join, removal, reset, new name or expiry, and any tier key, changes it; and with
    it every entry (it is in their plaintext) and every decoy (derived from it).
    """
    mac = hmac.new(secret, b"mk1 roster", hashlib.sha256)
    for part in parts:
        mac.update(len(part).to_bytes(8, "big"))
        mac.update(part)
    return mk1.b64url(mac.digest()[:EPOCH_BYTES])


def shard_plan(lookups: Sequence[str]) -> tuple[int, int]:
    """(digits, entries per shard) for the sorted `lookups`: the fewest hex digits, 1 to
    4, for which the fullest shard holds at most SHARD_MAX_REAL real entries; its count
    rounded up to a multiple of SHARD_BLOCK (at least one block) is every shard's size."""
    for digits in range(1, SHARD_MAX_DIGITS + 1):
        # Sorted: a shard's entries are a run, found by bisection (fast for a million).
        starts = [bisect.bisect_left(lookups, prefix) for prefix in shard_names(digits)]
        fullest = max(b - a for a, b in zip(starts, [*starts[1:], len(lookups)], strict=True))
        if fullest <= SHARD_MAX_REAL:
            break
    blocks = max(1, -(-fullest // SHARD_BLOCK))
    return digits, blocks * SHARD_BLOCK


def shard_names(digits: int) -> list[str]:
    return [f"{number:0{digits}x}" for number in range(16**digits)]


def keystore_index(site: str, iterations: int, digits: int, epoch: str | None = None) -> bytes:
    """The small file `<meta name="mk1-keystore">` links to: layout 2, or layout 3
    with the roster `epoch` its lookups are bound to."""
    if iterations < mk1.MIN_ITERATIONS:
        raise ValueError(f"PBKDF2 iterations must be at least {mk1.MIN_ITERATIONS}")
    layout: dict[str, Any] = {"format": mk1.FORMAT, "layout": 2 if epoch is None else 3}
    layout["site"] = site
    if epoch is not None:
        layout["epoch"] = epoch
    layout["kdf"] = {"name": "PBKDF2", "hash": "SHA-256", "iterations": iterations}
    layout["shards"] = {"digits": digits, "url": SHARD_URL}
    return mk1.compact_json(layout)


def shard_decoys(
    key: bytes, number: int, prefix: str, blob_length: int, first: int = SHARD_BLOCK
) -> Iterator[tuple[str, str]]:
    """Endless decoys for shard `number`: lookups that start with `prefix`, blobs of
    `blob_length` bytes in base64url, `first` of them made at once.

    The bytes are AES-256-CTR's keystream under a key derived from the state's secret
    and the roster epoch, from a counter of the shard's own: the same roster gives the
    same decoys, and they cannot be told from ciphertext. Each blob gets zero bytes up
    to a multiple of three, so that a batch is encoded in one call and cut into blobs
    that read exactly as each blob on its own would.
    """
    counter = number.to_bytes(8, "big") + bytes(8)
    stream = Cipher(algorithms.AES(key), modes.CTR(counter)).encryptor()
    stride = blob_length + (-blob_length % 3)
    chars, kept = stride // 3 * 4, -(-blob_length * 4 // 3)
    batch = first
    while True:
        lookups = stream.update(bytes(16 * batch)).hex()
        raw = bytearray(stream.update(bytes(stride * batch)))
        for filler in range(blob_length, stride):
            raw[filler::stride] = bytes(batch)
        blobs = base64.urlsafe_b64encode(raw).decode("ascii")
        for at in range(batch):
            lookup = prefix + lookups[32 * at + len(prefix) : 32 * (at + 1)]
            yield lookup, blobs[chars * at : chars * at + kept]
        batch = SHARD_BLOCK


def decoy_key(secret: bytes, epoch: str) -> bytes:
    return mk1.hmac_sha256(secret, b"mk1 decoys|" + epoch.encode())


def shard_document(site: str, prefix: str, members: Mapping[str, str]) -> bytes:
    """A shard file: compact JSON, entries sorted by lookup. Written by hand rather than
    by `json`: lookups are hex and blobs base64url, nothing to escape, and a keystore of
    a million members is written in a fraction of the time."""
    items = ",".join(f'"{lookup}":"{members[lookup]}"' for lookup in sorted(members))
    return (
        f'{{"format":"{mk1.FORMAT}","site":"{site}","shard":"{prefix}","members":{{{items}}}}}'
    ).encode()


@dataclass(frozen=True)
class ShardPlan:
    """What every shard of a keystore shares (PROTOCOL.md, layout 2)."""

    site: str
    digits: int
    size: int  # entries in every shard, decoys included
    blob_length: int  # bytes of every entry
    decoy_key: bytes  # see `decoy_key`
    # Layout 2: lookups start with their shard's name, the decoys' too. Layout 3: shards
    # are named by the email, lookups and decoys are not.
    by_email: bool = False

    def shard(self, number: int, members: dict[str, str]) -> tuple[str, bytes]:
        """(prefix, file) of shard `number`: its real `members`, and decoys up to size."""
        prefix = f"{number:0{self.digits}x}"
        wanted = self.size - len(members)
        start = "" if self.by_email else prefix
        decoys = shard_decoys(self.decoy_key, number, start, self.blob_length, wanted)
        while len(members) < self.size:
            lookup, blob = next(decoys)
            members.setdefault(lookup, blob)
        return prefix, shard_document(self.site, prefix, members)


def build_sharded_keystore(
    site: str,
    entries: Mapping[str, str],
    secret: bytes,
    epoch: str,
    iterations: int = mk1.DEFAULT_ITERATIONS,
    *,
    places: Mapping[str, str] | None = None,
) -> tuple[bytes, dict[str, bytes]]:
    """Layout 2 in memory: (index, {prefix: shard}). Real entries go to the shard of
    their lookup's prefix, and every shard is padded with decoys to the same count.
    With `places` (lookup: `mk1.email_shard` of its member), layout 3: entries go to
    their email's shard. (The build writes them with `keystore_writer.write`, which
    does not hold them all.)"""
    where = places if places is not None else {lookup: lookup for lookup in entries}
    digits, size = shard_plan(sorted(where[lookup] for lookup in entries))
    blob_length = max(
        (len(mk1.unb64url(v)) for v in entries.values()), default=mk1.NONCE_BYTES + PAD_BLOCK + 16
    )
    plan = ShardPlan(
        site, digits, size, blob_length, decoy_key(secret, epoch), by_email=places is not None
    )
    groups: dict[str, dict[str, str]] = {}
    for lookup, blob in entries.items():
        groups.setdefault(where[lookup][:digits], {})[lookup] = blob
    shards = dict(
        plan.shard(number, groups.get(prefix, {}))
        for number, prefix in enumerate(shard_names(digits))
    )
    index_epoch = epoch if places is not None else None
    return keystore_index(site, iterations, digits, index_epoch), shards


def ended_on(entry: Mapping[str, Any]) -> str | None:
    """The day a membership ended (YYYY-MM-DD) when `entry`, opened, is one that says so:
    it holds no key (`"keys": {}`) and names its last day in `exp`. None for an entry
    that opens pages; a keyless one opens nothing either way."""
    keys = entry.get("keys")
    expires = entry.get("exp")
    if keys == {} and isinstance(expires, str) and "link" not in entry:
        return expires
    return None


def member_lookup(keystore: Mapping[str, Any], member: mk1.MemberKeys) -> str:
    """The lookup a member's entry is filed under in `keystore`: their own in layouts 1
    and 2, bound to the keystore's roster epoch in layout 3."""
    if keystore.get("layout", 1) != 3:
        return member.lookup
    return mk1.epoch_lookup(member.lookup_key, str(keystore["epoch"]))


def find_entry(
    keystore: Mapping[str, Any],
    read: Callable[[str], bytes],
    lookup: str,
    *,
    email: str | None = None,
) -> str | None:
    """A member's keystore value in any layout, or None (a reference reader).

    `keystore` is the parsed file the page links to; `read` fetches a file by its URL
    relative to that one (a shard, in layouts 2 and 3). `lookup` is `member_lookup`'s;
    layout 3 also needs the member's `email`, which names their shard."""
    layout = keystore.get("layout", 1)
    if layout == 1:
        value = keystore.get("members", {}).get(lookup)
        return value if isinstance(value, str) else None
    if layout not in (2, 3):
        raise mk1.MK1Error(f"unknown keystore layout {layout!r}")
    shards = keystore["shards"]
    if layout == 3:
        if email is None:
            raise ValueError("a keystore of layout 3 is searched by the member's email")
        place = mk1.email_shard(str(keystore["site"]), email)
    else:
        place = lookup
    wanted = place[: int(shards["digits"])]
    url = str(shards["url"]).replace("{shard}", wanted)
    shard = json.loads(read(url))
    if shard.get("site") != keystore.get("site") or shard.get("shard") != wanted:
        raise mk1.MK1Error(f"{url} is not this keystore's shard {wanted}")
    value = shard.get("members", {}).get(lookup)
    return value if isinstance(value, str) else None


def open_member_entry(
    keystore: Mapping[str, Any], read: Callable[[str], bytes], email: str, member: mk1.MemberKeys
) -> dict[str, Any] | None:
    """A member's entry opened, in any layout, or None when there is none for their
    keys (a reference reader: what a browser does after PBKDF2)."""
    lookup = member_lookup(keystore, member)
    value = find_entry(keystore, read, lookup, email=email)
    if value is None:
        return None
    bound = mk1.MemberKeys(lookup, member.kek, member.lookup_key)
    return unwrap_member_entry(str(keystore["site"]), bound, value)
