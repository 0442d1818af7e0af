"""MK1: the format of everything encrypted (see PROTOCOL.md in the design notes).

Key derivation and envelopes; the keystore's layouts are in `keystore`. No MkDocs
import, no hand-written cryptography: AES-GCM comes from `cryptography`, PBKDF2 and
HMAC from the standard library, raw DEFLATE from zlib. Every nonce is derived from the
key and the message, so the same input always gives the same bytes.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import unicodedata
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = "mk1"
MAGIC = b"MK1\n"
DEFAULT_ITERATIONS = 600_000
MIN_ITERATIONS = 100_000
KEY_BYTES = 32
NONCE_BYTES = 12

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


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 from `cryptography`: a third quicker than the standard library's for
    the short messages of a keystore's million entries."""
    mac = crypto_hmac.HMAC(key, _SHA256)
    mac.update(message)
    return mac.finalize()


@dataclass(frozen=True)
class MemberKeys:
    """What a member's password yields: the lookup id, the key-wrapping key, and the
    key that binds the lookup to a roster epoch (layout 3; empty when not known)."""

    lookup: str
    kek: bytes
    lookup_key: bytes = b""


def epoch_lookup(lookup_key: bytes, epoch: str) -> str:
    """A member's lookup in a keystore of layout 3: bound to the roster epoch, so it
    changes with every roster change (PROTOCOL.md, "Layout 3")."""
    return hmac_sha256(lookup_key, f"mk1|epoch|{epoch}".encode())[:16].hex()


def email_shard(site: str, email: str) -> str:
    """The hex digest that names a member's shard in layout 3 (the first digits)."""
    return hashlib.sha256(f"mk1|shard|{site}|{normalize_email(email)}".encode()).hexdigest()


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
    lookup_key = hmac_sha256(master, b"mk1 lookup")
    return MemberKeys(
        lookup=lookup_key[:16].hex(), kek=hmac_sha256(master, b"mk1 wrap"), lookup_key=lookup_key
    )


def derive_nonce(key: bytes, aad: bytes, data: bytes) -> bytes:
    return hmac_sha256(_nonce_key(key), aad + b"\x00" + data)[:NONCE_BYTES]


@functools.lru_cache(maxsize=64)
def _nonce_key(key: bytes) -> bytes:
    """A build seals everything with a handful of tier keys: each is derived once."""
    return hmac_sha256(key, b"mk1 nonce")


def seal_blob(key: bytes, aad: bytes, data: bytes) -> bytes:
    nonce = derive_nonce(key, aad, data)
    return nonce + _aead(key).encrypt(nonce, data, aad)


@functools.lru_cache(maxsize=64)
def _aead(key: bytes) -> AESGCM:
    """The cipher of a key, set up once: a build seals every page with a few keys."""
    return AESGCM(key)


def open_blob(key: bytes, aad: bytes, blob: bytes) -> bytes:
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


def deflater() -> Any:
    """A raw DEFLATE stream at `DEFLATE_LEVEL`, fed piece by piece (`zlib.compressobj`)."""
    return zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)


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
    data = deflate_raw(plaintext) if header.z == "deflate-raw" else plaintext
    return seal_data(header, key, data)


def seal_data(header: Header, key: bytes, data: bytes) -> bytes:
    """An envelope of `data` as it is: the plaintext already compressed if the header
    says so (`deflater()` compresses a plaintext that comes in pieces)."""
    encoded = header.encode()
    if b"\n" in encoded:
        raise ValueError("an MK1 header must not hold a newline")
    aad = MAGIC + encoded
    return aad + b"\n" + seal_blob(key, aad, data)


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
    data = open_blob(held[1], envelope[:end], envelope[end + 1 :])
    if header.get("z") == "deflate-raw":
        data = inflate_raw(data)
    return header, data
