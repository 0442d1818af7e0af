"""MK1: the format of everything encrypted (see PROTOCOL.md in the design notes).

Key derivation, envelopes and the keystore. No MkDocs import, no hand-written
cryptography: AES-GCM comes from `cryptography`, PBKDF2 and HMAC from the standard
library, raw DEFLATE from zlib. Every nonce is derived from the key and the message,
so the same input always gives the same bytes.
"""

from __future__ import annotations

import base64
import bisect
import functools
import hashlib
import hmac
import json
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = "mk1"
MAGIC = b"MK1\n"
DEFAULT_ITERATIONS = 600_000
MIN_ITERATIONS = 100_000
KEY_BYTES = 32
NONCE_BYTES = 12
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

# What JavaScript's String.prototype.trim() removes (WhiteSpace and LineTerminator),
# so that "strip surrounding whitespace" means the same in Python and the browser.
_JS_TRIM = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class MK1Error(Exception):
    """An envelope or keystore entry that cannot be opened: wrong key, tampered or moved."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise MK1Error(f"not base64url: {error}") from None


def normalize_email(email: str) -> str:
    """NFKC, strip, lowercase A-Z only (so Python and JavaScript agree)."""
    return unicodedata.normalize("NFKC", email).strip(_JS_TRIM).translate(_ASCII_LOWER)


def normalize_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password).strip(_JS_TRIM)


_SHA256 = hashes.SHA256()


def _hmac(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 from `cryptography`: a third quicker than the standard library's for
    the short messages of a keystore's million entries."""
    mac = crypto_hmac.HMAC(key, _SHA256)
    mac.update(message)
    return mac.finalize()


@dataclass(frozen=True)
class MemberKeys:
    """What a member's password yields: the lookup id and the key-wrapping key."""

    lookup: str
    kek: bytes


def derive_member_keys(
    site: str, email: str, password: str, iterations: int = DEFAULT_ITERATIONS
) -> MemberKeys:
    """Run PBKDF2 (slow by design: at member creation, never per build).

    The floor of MIN_ITERATIONS is enforced where a keystore is built, so that the
    protocol's low-iteration test vector can still be computed here.
    """
    salt = f"mk1|{site}|{normalize_email(email)}".encode()
    master = hashlib.pbkdf2_hmac(
        "sha256", normalize_password(password).encode(), salt, iterations, KEY_BYTES
    )
    return MemberKeys(
        lookup=_hmac(master, b"mk1 lookup")[:16].hex(), kek=_hmac(master, b"mk1 wrap")
    )


def derive_nonce(key: bytes, aad: bytes, data: bytes) -> bytes:
    return _hmac(_nonce_key(key), aad + b"\x00" + data)[:NONCE_BYTES]


@functools.lru_cache(maxsize=64)
def _nonce_key(key: bytes) -> bytes:
    """A build seals everything with a handful of tier keys: each is derived once."""
    return _hmac(key, b"mk1 nonce")


def _seal(key: bytes, aad: bytes, data: bytes) -> bytes:
    nonce = derive_nonce(key, aad, data)
    return nonce + _aead(key).encrypt(nonce, data, aad)


@functools.lru_cache(maxsize=64)
def _aead(key: bytes) -> AESGCM:
    """The cipher of a key, set up once: a build seals every page with a few keys."""
    return AESGCM(key)


def _open(key: bytes, aad: bytes, blob: bytes) -> bytes:
    if len(blob) < NONCE_BYTES + 16:
        raise MK1Error("ciphertext too short")
    try:
        return AESGCM(key).decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad)
    except InvalidTag:
        raise MK1Error("authentication failed: wrong key, or the data was changed") from None


#: The smallest envelopes: a protected page carries its envelope, and pages are sealed
#: by the build's helper process, beside MkDocs' own work rather than in its way. The
#: level is not part of MK1: any raw DEFLATE stream inflates.
DEFLATE_LEVEL = 9


def deflate_raw(data: bytes) -> bytes:
    return zlib.compress(data, DEFLATE_LEVEL, wbits=-15)


def inflate_raw(data: bytes) -> bytes:
    try:
        return zlib.decompress(data, -15)
    except zlib.error as error:
        raise MK1Error(f"bad compressed data: {error}") from None


def compact_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


# -- Envelopes ----------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    site: str
    tier: str
    v: int
    path: str
    kind: str  # "page" | "file" | "search"
    z: str | None = None
    name: str | None = None
    type: str | None = None

    def encode(self) -> bytes:
        fields: dict[str, Any] = {
            "site": self.site,
            "tier": self.tier,
            "v": self.v,
            "path": self.path,
            "kind": self.kind,
        }
        for key in ("z", "name", "type"):
            if getattr(self, key) is not None:
                fields[key] = getattr(self, key)
        return compact_json(fields)


def seal(header: Header, key: bytes, plaintext: bytes) -> bytes:
    """An envelope: `MK1\\n` header `\\n` nonce ciphertext."""
    encoded = header.encode()
    if b"\n" in encoded:
        raise ValueError("an MK1 header must not hold a newline")
    aad = MAGIC + encoded
    data = deflate_raw(plaintext) if header.z == "deflate-raw" else plaintext
    return aad + b"\n" + _seal(key, aad, data)


def read_header(envelope: bytes) -> dict[str, Any]:
    if not envelope.startswith(MAGIC):
        raise MK1Error("not an MK1 envelope")
    end = envelope.find(b"\n", len(MAGIC))
    if end < 0:
        raise MK1Error("MK1 header has no end")
    try:
        header = json.loads(envelope[len(MAGIC) : end])
    except ValueError:
        raise MK1Error("MK1 header is not JSON") from None
    if not isinstance(header, dict):
        raise MK1Error("MK1 header is not an object")
    return header


def open_envelope(
    envelope: bytes,
    keys: Mapping[str, tuple[int, bytes]],
    *,
    site: str,
    path: str,
) -> tuple[dict[str, Any], bytes]:
    """Check site and path, decrypt with the tier key of the header's version, inflate.

    `keys` maps a tier to (version, key). A reference reader, used by the tests and
    the leak check, and the model for the browser module.
    """
    header = read_header(envelope)
    if header.get("site") != site:
        raise MK1Error("envelope belongs to another site")
    if header.get("path") != path:
        raise MK1Error(f"envelope was made for {header.get('path')!r}, found at {path!r}")
    tier = header.get("tier")
    held = keys.get(tier) if isinstance(tier, str) else None
    if held is None or held[0] != header.get("v"):
        raise MK1Error(f"no key for tier {tier!r} version {header.get('v')!r}")
    end = envelope.find(b"\n", len(MAGIC))
    data = _open(held[1], envelope[:end], envelope[end + 1 :])
    if header.get("z") == "deflate-raw":
        data = inflate_raw(data)
    return header, data


# -- Keystore -----------------------------------------------------------------


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
    return compact_json(fields)


def wrap_member_entry(site: str, member: MemberKeys, plaintext: bytes, length: int = 0) -> str:
    """One keystore value, padded with spaces to `length` (a multiple of 256, or the next).

    The build pads every entry of a keystore to the same length, so no entry stands out.
    """
    padded = pad(plaintext.ljust(length, b" ") if length >= len(plaintext) else plaintext)
    return seal_entry(site, member.lookup, member.kek, padded)


def seal_entry(site: str, lookup: str, kek: bytes, padded: bytes) -> str:
    """A keystore value from a padded plaintext. Nothing is cached: every member has a
    key of their own, and a keystore may hold a million of them."""
    aad = keystore_aad(site, lookup)
    nonce = _hmac(_hmac(kek, b"mk1 nonce"), aad + b"\x00" + padded)[:NONCE_BYTES]
    return b64url(nonce + AESGCM(kek).encrypt(nonce, padded, aad))


def unwrap_member_entry(site: str, member: MemberKeys, value: str) -> dict[str, Any]:
    plaintext = _open(member.kek, keystore_aad(site, member.lookup), unb64url(value))
    entry = json.loads(plaintext.decode())
    if not isinstance(entry, dict):
        raise MK1Error("keystore entry is not an object")
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
        yield lookup, b64url(blob[:blob_length])


def build_keystore(
    site: str,
    entries: Mapping[str, str],
    decoy_secret: bytes,
    iterations: int = DEFAULT_ITERATIONS,
) -> bytes:
    """The public keystore JSON: real entries, padded with decoys, sorted by lookup."""
    if iterations < MIN_ITERATIONS:
        raise ValueError(f"PBKDF2 iterations must be at least {MIN_ITERATIONS}")
    members = dict(entries)
    lengths = {len(unb64url(v)) for v in members.values()}
    blob_length = max(lengths, default=NONCE_BYTES + PAD_BLOCK + 16)
    target = keystore_size(len(members))
    for lookup, blob in iter_decoys(decoy_secret, blob_length):
        if len(members) >= target:
            break
        members.setdefault(lookup, blob)
    document = {
        "format": FORMAT,
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
    return b64url(mac.digest()[:EPOCH_BYTES])


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


def keystore_index(site: str, iterations: int, digits: int) -> bytes:
    """The small file `<meta name="mk1-keystore">` links to, in layout 2."""
    if iterations < MIN_ITERATIONS:
        raise ValueError(f"PBKDF2 iterations must be at least {MIN_ITERATIONS}")
    return compact_json(
        {
            "format": FORMAT,
            "layout": 2,
            "site": site,
            "kdf": {"name": "PBKDF2", "hash": "SHA-256", "iterations": iterations},
            "shards": {"digits": digits, "url": SHARD_URL},
        }
    )


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
    return _hmac(secret, b"mk1 decoys|" + epoch.encode())


def shard_document(site: str, prefix: str, members: Mapping[str, str]) -> bytes:
    """A shard file: compact JSON, entries sorted by lookup. Written by hand rather than
    by `json`: lookups are hex and blobs base64url, nothing to escape, and a keystore of
    a million members is written in a fraction of the time."""
    items = ",".join(f'"{lookup}":"{members[lookup]}"' for lookup in sorted(members))
    return (
        f'{{"format":"{FORMAT}","site":"{site}","shard":"{prefix}","members":{{{items}}}}}'
    ).encode()


@dataclass(frozen=True)
class ShardPlan:
    """What every shard of a keystore shares (PROTOCOL.md, layout 2)."""

    site: str
    digits: int
    size: int  # entries in every shard, decoys included
    blob_length: int  # bytes of every entry
    decoy_key: bytes  # see `decoy_key`

    def shard(self, number: int, members: dict[str, str]) -> tuple[str, bytes]:
        """(prefix, file) of shard `number`: its real `members`, and decoys up to size."""
        prefix = f"{number:0{self.digits}x}"
        wanted = self.size - len(members)
        decoys = shard_decoys(self.decoy_key, number, prefix, self.blob_length, wanted)
        while len(members) < self.size:
            lookup, blob = next(decoys)
            members.setdefault(lookup, blob)
        return prefix, shard_document(self.site, prefix, members)


def build_sharded_keystore(
    site: str,
    entries: Mapping[str, str],
    secret: bytes,
    epoch: str,
    iterations: int = DEFAULT_ITERATIONS,
) -> tuple[bytes, dict[str, bytes]]:
    """Layout 2 in memory: (index, {prefix: shard}). Real entries go to the shard of
    their lookup's prefix, and every shard is padded with decoys to the same count.
    (The build writes them with `keystore.write`, which does not hold them all.)"""
    digits, size = shard_plan(sorted(entries))
    blob_length = max(
        (len(unb64url(v)) for v in entries.values()), default=NONCE_BYTES + PAD_BLOCK + 16
    )
    plan = ShardPlan(site, digits, size, blob_length, decoy_key(secret, epoch))
    groups: dict[str, dict[str, str]] = {}
    for lookup, blob in entries.items():
        groups.setdefault(lookup[:digits], {})[lookup] = blob
    shards = dict(
        plan.shard(number, groups.get(prefix, {}))
        for number, prefix in enumerate(shard_names(digits))
    )
    return keystore_index(site, iterations, digits), shards


def find_entry(
    keystore: Mapping[str, Any], read: Callable[[str], bytes], lookup: str
) -> str | None:
    """A member's keystore value in either layout, or None (a reference reader).

    `keystore` is the parsed file the page links to; `read` fetches a file by its URL
    relative to that one (a shard, in layout 2)."""
    if keystore.get("layout", 1) == 1:
        value = keystore.get("members", {}).get(lookup)
        return value if isinstance(value, str) else None
    if keystore.get("layout") != 2:
        raise MK1Error(f"unknown keystore layout {keystore.get('layout')!r}")
    shards = keystore["shards"]
    url = str(shards["url"]).replace("{shard}", lookup[: int(shards["digits"])])
    shard = json.loads(read(url))
    wanted = lookup[: int(shards["digits"])]
    if shard.get("site") != keystore.get("site") or shard.get("shard") != wanted:
        raise MK1Error(f"{url} is not this keystore's shard {wanted}")
    value = shard.get("members", {}).get(lookup)
    return value if isinstance(value, str) else None
