"""MK1 in Python: the protocol's test vectors, round trips and refusals."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from generator import mk1

SITE = "00112233445566778899aabbccddeeff"
TIER_KEY = bytes(range(32))
PAGE_VECTOR = (
    "TUsxCnsic2l0ZSI6IjAwMTEyMjMzNDQ1NTY2Nzc4ODk5YWFiYmNjZGRlZWZmIiwidGllciI6Im1lbWJlcnMiLCJ2Ijox"
    "LCJwYXRoIjoiZ3VpZGVzL2hpcmluZy8iLCJraW5kIjoicGFnZSIsInoiOiJkZWZsYXRlLXJhdyJ9Cu2i4mjJOEFZ7LCB"
    "OMFP9Vg6NLT8kB6VpsolXABbjAu0siOuEO3kXxrvmzuH-4eUkUbLL1G-4-mrGQ"
)
PAGE_HEADER = mk1.Header(
    site=SITE, tier="members", v=1, path="guides/hiring/", kind="page", z="deflate-raw"
)


@pytest.mark.parametrize(
    ("email", "password", "iterations", "lookup", "kek"),
    [
        (
            "Alice@Example.com",
            "correct horse battery staple",
            1000,
            "ef0326931c9709ab309d210d6ee67ee6",
            "dd53ba88c00f45cc33ba3fd12ca0803d3f9046fd5a1640e13d943fc2633ea70f",
        ),
        (
            "bob@example.org",
            "  Tr0ub4dor&3  ",
            600000,
            "c02f6695f26207314c24de4bb8518e3a",
            "db3e0389e7209a84225087d707620cb6e1347cbaca0ac9c21a183e0725a1d852",
        ),
    ],
)
def test_member_key_vectors(email: str, password: str, iterations: int, lookup: str, kek: str):
    keys = mk1.derive_member_keys(SITE, email, password, iterations)
    assert keys.lookup == lookup
    assert keys.kek.hex() == kek


def test_normalisation_lowercases_ascii_only_and_strips() -> None:
    assert mk1.normalize_email("  ALICE@Example.COM\u3000") == "alice@example.com"
    # Only A-Z are lowercased (as JavaScript and Python agree): É stays É.
    assert mk1.normalize_email("ÉLISE@x.fr") == "Élise@x.fr"
    assert mk1.normalize_email("\uff21@x.org") == "a@x.org"  # NFKC turns fullwidth A into A
    assert mk1.normalize_password("\u00a0pass word\n") == "pass word"


def test_nonce_key_vector() -> None:
    assert mk1._hmac(TIER_KEY, b"mk1 nonce").hex() == (
        "b0f826ec0b89d46df16ba658a26cc868b07e2979221e8d17db1cfaf40782eb6c"
    )


def test_page_envelope_vector_seals_and_opens() -> None:
    envelope = mk1.seal(PAGE_HEADER, TIER_KEY, b'{"content":"<p>Secret</p>"}')
    assert mk1.b64url(envelope) == PAGE_VECTOR
    header, plain = mk1.open_envelope(
        mk1.unb64url(PAGE_VECTOR), {"members": (1, TIER_KEY)}, site=SITE, path="guides/hiring/"
    )
    assert header["kind"] == "page"
    assert json.loads(plain) == {"content": "<p>Secret</p>"}


def test_sealing_is_deterministic_and_message_bound() -> None:
    a = mk1.seal(PAGE_HEADER, TIER_KEY, b"one")
    assert a == mk1.seal(PAGE_HEADER, TIER_KEY, b"one")
    assert a[-40:] != mk1.seal(PAGE_HEADER, TIER_KEY, b"two")[-40:]


@pytest.mark.parametrize("index", [4, 30, -40, -1])
def test_one_flipped_byte_is_refused(index: int) -> None:
    envelope = bytearray(mk1.unb64url(PAGE_VECTOR))
    envelope[index] ^= 0x01
    with pytest.raises(mk1.MK1Error):
        mk1.open_envelope(
            bytes(envelope), {"members": (1, TIER_KEY)}, site=SITE, path="guides/hiring/"
        )


def test_moved_envelope_wrong_key_or_old_version_is_refused() -> None:
    envelope = mk1.unb64url(PAGE_VECTOR)
    keys = {"members": (1, TIER_KEY)}
    with pytest.raises(mk1.MK1Error, match="made for"):
        mk1.open_envelope(envelope, keys, site=SITE, path="guides/other/")
    with pytest.raises(mk1.MK1Error, match="another site"):
        mk1.open_envelope(envelope, keys, site="f" * 32, path="guides/hiring/")
    with pytest.raises(mk1.MK1Error, match="authentication"):
        mk1.open_envelope(envelope, {"members": (1, bytes(32))}, site=SITE, path="guides/hiring/")
    with pytest.raises(mk1.MK1Error, match="no key"):
        mk1.open_envelope(envelope, {"members": (2, TIER_KEY)}, site=SITE, path="guides/hiring/")


def test_file_envelope_carries_name_and_type_uncompressed() -> None:
    header = mk1.Header(
        site=SITE,
        tier="members",
        v=3,
        path="downloads/weekly-report.docx",
        kind="file",
        name="weekly-report.docx",
        type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    data = bytes(range(256)) * 10
    envelope = mk1.seal(header, TIER_KEY, data)
    opened, plain = mk1.open_envelope(
        envelope, {"members": (3, TIER_KEY)}, site=SITE, path="downloads/weekly-report.docx"
    )
    assert plain == data and "z" not in opened and opened["name"] == "weekly-report.docx"


def test_keystore_entries_wrap_and_unwrap_and_pad() -> None:
    alice = mk1.derive_member_keys(SITE, "alice@example.com", "correct horse battery staple", 1000)
    keys = {"members": {"v": 3, "k": mk1.b64url(TIER_KEY)}}
    plain = mk1.member_plaintext("Alice", "2027-06-30", keys)
    value = mk1.wrap_member_entry(SITE, alice, plain)
    blob = mk1.unb64url(value)
    assert (len(blob) - 12 - 16) % 256 == 0
    entry = mk1.unwrap_member_entry(SITE, alice, value)
    assert entry == {"name": "Alice", "exp": "2027-06-30", "keys": keys}
    wrong = mk1.derive_member_keys(SITE, "alice@example.com", "wrong password entirely", 1000)
    with pytest.raises(mk1.MK1Error):
        mk1.unwrap_member_entry(SITE, wrong, value)


def test_keystore_hides_member_count_and_is_reproducible() -> None:
    alice = mk1.derive_member_keys(SITE, "alice@example.com", "correct horse battery staple", 1000)
    value = mk1.wrap_member_entry(SITE, alice, mk1.member_plaintext("Alice", None, {}))
    store = json.loads(mk1.build_keystore(SITE, {alice.lookup: value}, b"secret"))
    assert store["format"] == "mk1" and store["site"] == SITE
    assert store["kdf"] == {"name": "PBKDF2", "hash": "SHA-256", "iterations": 600000}
    assert len(store["members"]) == 16
    assert list(store["members"]) == sorted(store["members"])
    assert {len(v) for v in store["members"].values()} == {len(value)}
    assert all(len(k) == 32 and int(k, 16) >= 0 for k in store["members"])
    assert mk1.build_keystore(SITE, {alice.lookup: value}, b"secret") == mk1.build_keystore(
        SITE, {alice.lookup: value}, b"secret"
    )
    assert mk1.keystore_size(17) == 32 and mk1.keystore_size(0) == 16
    with pytest.raises(ValueError):
        mk1.build_keystore(SITE, {}, b"s", iterations=99_999)


def test_decoy_stream_is_hmac_sha256_in_counter_mode() -> None:
    secret, label = b"s" * 32, b"mk1 decoy"
    stream = mk1.decoy_stream(secret, label)
    for counter in range(3):
        block = hmac.new(secret, label + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        assert next(stream) == block
