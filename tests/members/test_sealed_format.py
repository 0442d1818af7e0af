"""The sealed state's file format: its key, its header, its padding, and what it refuses."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from generator.errors import MemberkitError
from generator.members import sealed

KEY = bytes(range(32))
FILES = {"state.json": b'{"format": "memberkit-state-1"}\n', "outbox/a%40b.org.eml": b"\x00\xff"}


def test_a_new_key_is_32_random_bytes_in_base64url() -> None:
    first, second = sealed.new_key(), sealed.new_key()
    assert len(first) == 43 and first != second
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(base64.urlsafe_b64decode(first + "=")) == 32
    assert sealed.parse_key(f"  {first}\n") == base64.urlsafe_b64decode(first + "=")
    assert sealed.parse_key(first + "=") == sealed.parse_key(first)


@pytest.mark.parametrize(
    "text",
    [
        "short",
        "A" * 44,
        "A" * 42 + "+/",  # base64, not base64url
        "A" * 42 + "!",
        base64.urlsafe_b64encode(bytes(16)).decode(),  # 16 bytes: an AES-128 key
    ],
)
def test_a_malformed_key_is_refused_with_how_to_get_one(text: str) -> None:
    with pytest.raises(MemberkitError) as caught:
        sealed.key_from({sealed.KEY_ENV: text})
    message = str(caught.value)
    assert "MEMBERKIT_STATE_KEY" in message and "memberkit state key" in message
    assert "\n" not in message and text not in message  # a key is never echoed


def test_an_empty_key_is_no_key() -> None:
    assert sealed.key_from({}) is None
    assert sealed.key_from({sealed.KEY_ENV: "  "}) is None


def test_the_files_come_back_as_they_went_in() -> None:
    blob = sealed.seal(FILES, KEY)
    assert sealed.unseal(blob, KEY, "memberkit.state") == FILES
    assert blob[:8] == b"MKSTATE\x01"
    assert sealed.seal(FILES, KEY) != blob, "every write draws a new nonce"
    assert b"memberkit-state" not in blob and b"outbox" not in blob


def test_the_header_is_as_documented() -> None:
    """An independent reader, from the module's description of the format alone."""
    blob = sealed.seal(FILES, KEY)
    header, nonce, sealed_part = blob[:16], blob[16:28], blob[28:]
    assert header[:7] == b"MKSTATE" and header[7] == 1
    padded = AESGCM(KEY).decrypt(nonce, sealed_part, header)
    length = int.from_bytes(padded[:8], "big")
    assert padded[8 + length :] == bytes(len(padded) - 8 - length)
    files = json.loads(padded[8 : 8 + length])["files"]
    assert {name: base64.b64decode(text) for name, text in files.items()} == FILES


def test_the_size_is_a_coarse_bucket() -> None:
    small = sealed.seal({"state.json": b"x"}, KEY)
    larger = sealed.seal({"state.json": b"x" * 40_000}, KEY)
    assert len(small) == len(larger) == 64 * 1024
    assert len(sealed.seal({"state.json": b"x" * 70_000}, KEY)) == 128 * 1024
    # Just under and just over the edge of the smallest bucket.
    room = 64 * 1024 - sealed.HEADER_BYTES - sealed.TAG_BYTES - sealed.LENGTH_BYTES
    overhead = len(json.dumps({"files": {"s": ""}}, separators=(",", ":")))
    fits = {"s": b"x" * ((room - overhead) // 4 * 3)}
    assert len(sealed.seal(fits, KEY)) == 64 * 1024
    assert len(sealed.seal({"s": b"x" * (room // 4 * 3 + 3)}, KEY)) == 128 * 1024


def test_a_wrong_key_is_named_as_such() -> None:
    blob = sealed.seal(FILES, KEY)
    with pytest.raises(MemberkitError, match=r"^memberkit\.state was sealed with another key"):
        sealed.unseal(blob, bytes(32), "memberkit.state")


@pytest.mark.parametrize(
    ("cut", "reason"),
    [
        (lambda b: b[:-1], "fails its integrity check"),
        (lambda b: b[: len(b) // 2], "fails its integrity check"),
        (lambda b: b[:20], "not a sealed memberkit state"),
        (lambda b: b"", "not a sealed memberkit state"),
        (lambda b: b"{" + b[1:], "not a sealed memberkit state"),
        (lambda b: b[:7] + b"\x02" + b[8:], "format 2"),
        (lambda b: flip(b, 20), "fails its integrity check"),  # the nonce
        (lambda b: flip(b, 100), "fails its integrity check"),  # the ciphertext
        (lambda b: flip(b, len(b) - 1), "fails its integrity check"),  # the tag
        (lambda b: b + b"\x00", "fails its integrity check"),
    ],
)
def test_a_damaged_file_is_refused_in_one_line(cut: object, reason: str) -> None:
    blob = sealed.seal(FILES, KEY)
    with pytest.raises(MemberkitError) as caught:
        sealed.unseal(cut(blob), KEY, "memberkit.state")  # type: ignore[operator]
    message = str(caught.value)
    assert message.startswith("memberkit.state ") and reason in message
    assert "\n" not in message and "will not overwrite it" in message


def test_another_key_cannot_pass_for_the_right_one() -> None:
    """A file given the key id of another key fails its tag under that key."""
    other = bytes(range(1, 33))
    blob = sealed.seal(FILES, KEY)
    relabelled = blob[:8] + sealed.key_id(other) + blob[16:]
    with pytest.raises(MemberkitError, match="fails its integrity check"):
        sealed.unseal(relabelled, other, "memberkit.state")


def flip(blob: bytes, index: int) -> bytes:
    changed = bytearray(blob)
    changed[index] ^= 0x01
    return bytes(changed)
