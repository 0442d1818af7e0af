"""The private state sealed in one file, `memberkit.state`, that a repository can hold.

With `MEMBERKIT_STATE_KEY` set, every file the state folder would hold (`state.json`,
`reminders.json`, the outbox's `outbox/<email>.eml`, and whatever the state comes to
hold) is kept in `memberkit.state` beside mkdocs.yml instead, encrypted with
AES-256-GCM under that key. Anyone may read the file; without the key it says nothing
but its size, and the size is padded to a coarse bucket, so a public repository's
history does not count members or sales.

The file, format 1, byte by byte:

    offset  bytes  what
    0       7      magic: the ASCII letters MKSTATE
    7       1      format version: 1
    8       8      key id: the first 8 bytes of HMAC-SHA256(key, "memberkit state key id")
    16      12     nonce: random, drawn anew at every write
    28      ...    AES-256-GCM ciphertext of the padded payload, then its 16-byte tag

The associated data is the header's first 16 bytes (magic, version, key id): a file
cannot be passed off as another version, or given another key id, without failing
its tag. The key id tells a wrong key from a damaged file, and nothing of the key.

The padded payload is the payload's length (8 bytes, big-endian), the payload, then
zero bytes, so that the whole file is exactly 64 KiB, or the smallest power of two
above that holds it. The payload is UTF-8 JSON: `{"files": {PATH: BASE64}}`, each
file of the state by its path in the state folder (`/` between folders), its bytes
in standard base64.

The key is 32 random bytes, written in base64url without padding (43 characters):
`memberkit state key` prints a new one. No MkDocs import.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from generator.errors import MemberkitError

KEY_ENV = "MEMBERKIT_STATE_KEY"
#: The sealed state's name, beside mkdocs.yml.
SEALED_FILE = "memberkit.state"
MAGIC = b"MKSTATE"
VERSION = 1
KEY_BYTES = 32
KEY_ID_BYTES = 8
NONCE_BYTES = 12
TAG_BYTES = 16
LENGTH_BYTES = 8
HEADER_BYTES = len(MAGIC) + 1 + KEY_ID_BYTES + NONCE_BYTES
#: The smallest file: a state with a few hundred members fits, so its size says nothing.
MIN_FILE_BYTES = 64 * 1024

_KEY_TEXT = re.compile(r"[A-Za-z0-9_-]{43}=?")


def new_key() -> str:
    """A new random key, as `MEMBERKIT_STATE_KEY` holds it."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).rstrip(b"=").decode()


def parse_key(text: str) -> bytes:
    """The key written in `MEMBERKIT_STATE_KEY`; an error says what is wrong, never the key."""
    text = text.strip()
    if not _KEY_TEXT.fullmatch(text):
        raise MemberkitError(
            f"{KEY_ENV} is not a key memberkit made: it must be 43 characters of base64url "
            f"(A-Z, a-z, 0-9, - and _), 32 bytes; this one has {len(text)} characters. "
            "'memberkit state key' prints a new one"
        )
    return base64.urlsafe_b64decode(text.rstrip("=") + "=")


def key_from(environ: Mapping[str, str]) -> bytes | None:
    """The key `environ` sets, or None when it sets none (or an empty one, as a CI
    secret that was never set gives)."""
    text = environ.get(KEY_ENV, "").strip()
    return parse_key(text) if text else None


def key_id(key: bytes) -> bytes:
    return hmac.new(key, b"memberkit state key id", hashlib.sha256).digest()[:KEY_ID_BYTES]


def file_size(payload: int) -> int:
    """The size of the file that holds a payload of `payload` bytes: a bucket."""
    needed = HEADER_BYTES + LENGTH_BYTES + payload + TAG_BYTES
    size = MIN_FILE_BYTES
    while size < needed:
        size *= 2
    return size


def seal(files: Mapping[str, bytes], key: bytes) -> bytes:
    """The sealed file holding `files` (path in the state folder: content)."""
    payload = json.dumps(
        {"files": {name: base64.b64encode(files[name]).decode() for name in sorted(files)}},
        separators=(",", ":"),
    ).encode()
    padded_length = file_size(len(payload)) - HEADER_BYTES - TAG_BYTES
    padded = len(payload).to_bytes(LENGTH_BYTES, "big") + payload
    padded += bytes(padded_length - len(padded))
    header = MAGIC + bytes([VERSION]) + key_id(key)
    nonce = secrets.token_bytes(NONCE_BYTES)
    return header + nonce + AESGCM(key).encrypt(nonce, padded, header)


def unseal(blob: bytes, key: bytes, where: str) -> dict[str, bytes]:
    """The files a sealed state holds. `where` names the file in the one line that
    says why it cannot be opened."""
    keep = "memberkit will not overwrite it"
    if len(blob) < HEADER_BYTES + LENGTH_BYTES + TAG_BYTES or not blob.startswith(MAGIC):
        raise MemberkitError(
            f"{where} is damaged: it is not a sealed memberkit state (it does not start as "
            f"one); restore it from git or your backup. {keep}"
        )
    version = blob[len(MAGIC)]
    if version != VERSION:
        raise MemberkitError(
            f"{where} is sealed in format {version}, which this memberkit does not read "
            f"(it reads {VERSION}); upgrade memberkit. {keep}"
        )
    header = blob[: len(MAGIC) + 1 + KEY_ID_BYTES]
    if not hmac.compare_digest(header[len(MAGIC) + 1 :], key_id(key)):
        raise MemberkitError(
            f"{where} was sealed with another key than the one in {KEY_ENV}; set the key "
            f"it was sealed with. {keep}"
        )
    nonce = blob[len(header) : HEADER_BYTES]
    try:
        padded = AESGCM(key).decrypt(nonce, blob[HEADER_BYTES:], header)
    except InvalidTag:
        raise MemberkitError(
            f"{where} is damaged: it fails its integrity check (changed or cut short); "
            f"restore it from git or your backup. {keep}"
        ) from None
    try:
        return _files(padded)
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise MemberkitError(
            f"{where} holds what memberkit does not write ({error}); {keep}"
        ) from None


def _files(padded: bytes) -> dict[str, bytes]:
    length = int.from_bytes(padded[:LENGTH_BYTES], "big")
    if length > len(padded) - LENGTH_BYTES:
        raise ValueError("its length is past its end")
    data = json.loads(padded[LENGTH_BYTES : LENGTH_BYTES + length])
    files = data["files"]
    if not isinstance(files, dict):
        raise TypeError("its files are not an object")
    return {str(name): base64.b64decode(text, validate=True) for name, text in files.items()}
