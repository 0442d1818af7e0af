"""MK1 in Python: the protocol's test vectors, round trips and refusals."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import hmac
import itertools
import json
import secrets
from pathlib import Path

import pytest

from generator.members import keystore_writer
from generator.members import state as private
from generator.protection import keystore, mk1

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
    assert mk1.hmac_sha256(TIER_KEY, b"mk1 nonce").hex() == (
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
    plain = keystore.member_plaintext("Alice", "2027-06-30", keys)
    value = keystore.wrap_member_entry(SITE, alice, plain)
    blob = mk1.unb64url(value)
    assert (len(blob) - 12 - 16) % 256 == 0
    entry = keystore.unwrap_member_entry(SITE, alice, value)
    assert entry == {"name": "Alice", "exp": "2027-06-30", "keys": keys}
    wrong = mk1.derive_member_keys(SITE, "alice@example.com", "wrong password entirely", 1000)
    with pytest.raises(mk1.MK1Error):
        keystore.unwrap_member_entry(SITE, wrong, value)


def test_keystore_hides_member_count_and_is_reproducible() -> None:
    alice = mk1.derive_member_keys(SITE, "alice@example.com", "correct horse battery staple", 1000)
    value = keystore.wrap_member_entry(SITE, alice, keystore.member_plaintext("Alice", None, {}))
    store = json.loads(keystore.build_keystore(SITE, {alice.lookup: value}, b"secret"))
    assert store["format"] == "mk1" and store["site"] == SITE
    assert store["kdf"] == {"name": "PBKDF2", "hash": "SHA-256", "iterations": 600000}
    assert len(store["members"]) == 16
    assert list(store["members"]) == sorted(store["members"])
    assert {len(v) for v in store["members"].values()} == {len(value)}
    assert all(len(k) == 32 and set(k) <= set("0123456789abcdef") for k in store["members"])
    assert keystore.build_keystore(
        SITE, {alice.lookup: value}, b"secret"
    ) == keystore.build_keystore(SITE, {alice.lookup: value}, b"secret")
    assert keystore.keystore_size(17) == 32 and keystore.keystore_size(0) == 16
    with pytest.raises(ValueError):
        keystore.build_keystore(SITE, {}, b"s", iterations=99_999)


def test_decoy_stream_is_hmac_sha256_in_counter_mode() -> None:
    secret, label = b"s" * 32, b"mk1 decoy"
    stream = keystore.decoy_stream(secret, label)
    for counter in range(3):
        block = hmac.new(secret, label + counter.to_bytes(8, "big"), hashlib.sha256).digest()
        assert next(stream) == block


# -- Layout 2: the sharded keystore ----------------------------------------------------


def _lookups(*prefixes: tuple[str, int]) -> list[str]:
    """`count` lookups starting with each `prefix`, sorted."""
    return sorted(
        prefix + hashlib.sha256(f"{prefix}{n}".encode()).hexdigest()[: 32 - len(prefix)]
        for prefix, count in prefixes
        for n in range(count)
    )


@pytest.mark.parametrize(
    ("prefixes", "digits", "size"),
    [
        ([], 1, 16),  # no member: 16 shards of 16 decoys
        ([("a", 1)], 1, 16),
        ([("a", 17)], 1, 32),  # rounded up to a multiple of 16
        ([("a", 96)], 1, 96),  # 96 real entries fit one shard
        ([("a0", 50), ("a1", 47)], 2, 64),  # 97 do not: two digits, the fullest holds 50
        ([("a0", 97)], 3, 16),  # 97 under one two-digit prefix: three digits
        ([("abc0", 40), ("abc1", 60), ("abc2", 1)], 4, 64),
        ([("abcd", 100)], 4, 112),  # four digits at most: the shard grows past 96
    ],
)
def test_shard_plan_takes_the_fewest_digits_that_keep_shards_small(
    prefixes: list[tuple[str, int]], digits: int, size: int
) -> None:
    assert keystore.shard_plan(_lookups(*prefixes)) == (digits, size)


def _entries(count: int) -> dict[str, str]:
    """Real-looking entries: sealed with keys derived from the lookup."""
    entries = {}
    for lookup in _lookups(("", count)) if count else []:
        member = mk1.MemberKeys(lookup, hashlib.sha256(lookup.encode()).digest())
        plain = keystore.member_plaintext(f"M {lookup[:6]}", None, {}, epoch="e" * 22)
        entries[lookup] = keystore.wrap_member_entry(SITE, member, plain)
    return entries


def test_layout_2_index_and_shards_of_equal_size() -> None:
    entries = _entries(1600)  # 100 a shard on average at one digit: too many
    index, shards = keystore.build_sharded_keystore(SITE, entries, b"secret", "e" * 22, 100_000)
    assert json.loads(index) == {
        "format": "mk1",
        "layout": 2,
        "site": SITE,
        "kdf": {"name": "PBKDF2", "hash": "SHA-256", "iterations": 100_000},
        "shards": {"digits": 2, "url": "keys/{shard}.json"},
    }
    assert len(index) < 1024
    assert list(shards) == [f"{n:02x}" for n in range(256)]  # every shard exists
    sizes, lengths = set(), set()
    for prefix, document in shards.items():
        shard = json.loads(document)
        assert set(shard) == {"format", "site", "shard", "members"}
        assert shard["format"] == "mk1" and shard["site"] == SITE and shard["shard"] == prefix
        members = shard["members"]
        assert list(members) == sorted(members)
        assert all(len(k) == 32 and k.startswith(prefix) for k in members)  # decoys too
        sizes.add(len(members))
        lengths |= {len(v) for v in members.values()}
        assert mk1.compact_json(shard) == document
    fullest = max(sum(k.startswith(p) for k in entries) for p in shards)
    assert sizes == {fullest + (-fullest % 16)}  # the fullest, rounded up to 16s
    assert lengths == {len(next(iter(entries.values())))}
    for lookup, value in entries.items():  # each real entry is in its own shard
        assert json.loads(shards[lookup[:2]])["members"][lookup] == value


def test_decoys_are_reproducible_and_follow_the_epoch() -> None:
    entries = _entries(20)
    one = keystore.build_sharded_keystore(SITE, entries, b"secret", "a" * 22)
    assert one == keystore.build_sharded_keystore(SITE, entries, b"secret", "a" * 22)
    other = keystore.build_sharded_keystore(SITE, entries, b"secret", "b" * 22)
    for prefix, document in one[1].items():
        before = set(json.loads(document)["members"].items())
        after = set(json.loads(other[1][prefix])["members"].items())
        assert before & after == {(k, v) for k, v in entries.items() if k.startswith(prefix)}
    prefix, document = keystore.ShardPlan(SITE, 1, 32, 284, b"k" * 32).shard(3, {})
    assert prefix == "3" and len(json.loads(document)["members"]) == 32  # decoys only
    for lookup, blob in itertools.islice(keystore.shard_decoys(b"k" * 32, 7, "07", 284, 3), 20):
        assert lookup.startswith("07") and len(lookup) == 32
        assert len(mk1.unb64url(blob)) == 284 and mk1.b64url(mk1.unb64url(blob)) == blob


def test_find_entry_reads_both_layouts() -> None:
    alice = mk1.derive_member_keys(SITE, "alice@example.com", "correct horse battery staple", 1000)
    value = keystore.wrap_member_entry(SITE, alice, keystore.member_plaintext("Alice", None, {}))
    entries = {**_entries(40), alice.lookup: value}
    one = json.loads(keystore.build_keystore(SITE, entries, b"secret"))
    assert keystore.find_entry(one, lambda url: b"", alice.lookup) == value
    index, shards = keystore.build_sharded_keystore(SITE, entries, b"secret", "r" * 22)
    asked = []

    def read(url: str) -> bytes:
        asked.append(url)
        return shards[url.removeprefix("keys/").removesuffix(".json")]

    two = json.loads(index)
    assert keystore.find_entry(two, read, alice.lookup) == value
    assert asked == [f"keys/{alice.lookup[0]}.json"]  # one shard, nothing else
    assert keystore.find_entry(two, read, "f" * 32) is None
    with pytest.raises(mk1.MK1Error, match="not this keystore's shard"):
        keystore.find_entry(
            two, lambda url: shards["0"], alice.lookup if alice.lookup[0] != "0" else "1"
        )


def _state(count: int, *, bound: bool = False) -> private.State:
    """A roster of `count` members with keys drawn at random (no PBKDF2). `bound`: with
    the keys that bind lookups to the epoch (layout 3); without, as members added
    before it were kept (layout 2)."""
    state = private.State.new(100_000)
    state.ensure_tiers(["members", "premium"])
    for number in range(count):
        email = f"m{number}@example.com"
        lookup_key = secrets.token_bytes(32)
        state.members[email] = private.Member(
            email=email,
            name=f"Member {number}",
            tiers=["members"],
            expires=None,
            lookup=lookup_key[:16].hex(),
            kek=mk1.b64url(secrets.token_bytes(32)),
            lookup_key=mk1.b64url(lookup_key) if bound else None,
        )
    return state


def _keys(member: private.Member) -> mk1.MemberKeys:
    """What a member's browser derives from their password."""
    lookup_key = mk1.unb64url(member.lookup_key) if member.lookup_key else b""
    return mk1.MemberKeys(member.lookup, mk1.unb64url(member.kek), lookup_key)


def test_layout_3_vectors() -> None:
    alice = mk1.derive_member_keys(SITE, "Alice@Example.com", "correct horse battery staple", 1000)
    assert alice.lookup_key[:16].hex() == "ef0326931c9709ab309d210d6ee67ee6" == alice.lookup
    assert mk1.epoch_lookup(alice.lookup_key, "q7ZP0cY2m1H8vT3xK9aR4w") == (
        "7e80c7e3aa925f0a9d81863446e402b8"
    )
    assert mk1.email_shard(SITE, " Alice@Example.com").startswith("85f7")
    assert mk1.email_shard(SITE, "bob@example.org").startswith("7dea")


def _written(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.json")}


def _shard_entries(files: dict[str, bytes]) -> set[tuple[str, str]]:
    return {
        item
        for name, data in files.items()
        if name.startswith("mk1/keys/")
        for item in json.loads(data)["members"].items()
    }


TODAY = dt.date(2030, 6, 1)


def test_the_build_writes_layout_2_with_the_epoch_in_every_entry(tmp_path: Path) -> None:
    state = _state(2000)  # 125 a shard at one digit: two digits
    member = next(iter(state.members.values()))
    layout = keystore_writer.write(tmp_path, state, TODAY, ["members", "premium"])
    files = _written(tmp_path)
    index = json.loads(files["mk1/keystore.json"])
    assert index["layout"] == 2 and index["shards"]["digits"] == layout.digits == 2
    assert len(files) == 1 + 256 and layout.entries == 2000
    assert len(_shard_entries(files)) == 256 * layout.size
    keys = mk1.MemberKeys(member.lookup, mk1.unb64url(member.kek))
    value = keystore.find_entry(index, lambda url: files[f"mk1/{url}"], member.lookup)
    assert value is not None
    entry = keystore.unwrap_member_entry(state.site, keys, value)
    assert entry["r"] == layout.epoch and len(layout.epoch) == 22
    held = state.tier_keys()["members"]
    assert entry["keys"] == {"members": {"v": held.v, "k": held.k}}
    assert (len(mk1.unb64url(value)) - 28) % 256 == 0  # padded like layout 1


def test_the_build_writes_layout_3_every_entry_in_its_emails_shard(tmp_path: Path) -> None:
    state = _state(2000, bound=True)
    layout = keystore_writer.write(tmp_path, state, TODAY, ["members", "premium"])
    files = _written(tmp_path)
    index = json.loads(files["mk1/keystore.json"])
    assert index["layout"] == layout.version == 3 and index["epoch"] == layout.epoch
    assert index["shards"]["digits"] == layout.digits == 2 and len(files) == 1 + 256
    assert len(_shard_entries(files)) == 256 * layout.size
    read = lambda url: files[f"mk1/{url}"]  # noqa: E731
    asked: list[str] = []
    for member in list(state.members.values())[:50]:
        keys = _keys(member)
        place = mk1.email_shard(state.site, member.email)[:2]
        entry = keystore.open_member_entry(
            index, lambda url: asked.append(url) or read(url), member.email, keys
        )
        assert entry is not None and entry["name"] == member.name and entry["r"] == layout.epoch
        assert asked[-1] == f"keys/{place}.json"  # the shard the email names, nothing else
        shard = json.loads(files[f"mk1/keys/{place}.json"])["members"]
        assert keystore.member_lookup(index, keys) in shard
        assert member.lookup not in shard  # its own lookup is never published
    # Decoys are not bound to the shard's name: lookups of a shard start anywhere.
    starts = {lookup[:2] for lookup in json.loads(files["mk1/keys/00.json"])["members"]}
    assert len(starts) > 4


def test_a_roster_with_a_member_added_before_stays_at_layout_2(tmp_path: Path) -> None:
    state = _state(30, bound=True)
    state.members.update(_state(1).members)  # kept without the key that binds lookups
    layout = keystore_writer.write(tmp_path, state, TODAY, ["members"])
    files = _written(tmp_path)
    index = json.loads(files["mk1/keystore.json"])
    assert index["layout"] == layout.version == 2 and "epoch" not in index
    for member in state.members.values():
        entry = keystore.open_member_entry(
            index, lambda url: files[f"mk1/{url}"], member.email, _keys(member)
        )
        assert entry is not None and entry["name"] == member.name


@pytest.mark.parametrize("bound", [False, True], ids=["layout 2", "layout 3"])
def test_an_unchanged_roster_writes_the_same_bytes_and_any_change_changes_all(
    tmp_path: Path, bound: bool
) -> None:
    state = _state(40, bound=bound)
    keystore_writer.write(tmp_path / "a", state, TODAY, ["members"])
    keystore_writer.write(tmp_path / "b", state, TODAY, ["members"])
    first = _written(tmp_path / "a")
    assert _written(tmp_path / "b") == first  # byte-identical
    # Another day, nothing expired: still the same.
    keystore_writer.write(tmp_path / "c", state, TODAY + dt.timedelta(days=30), ["members"])
    assert _written(tmp_path / "c") == first
    changes = {
        "join": lambda s: s.members.update(_state(1, bound=bound).members),
        "removal": lambda s: s.remove("m3@example.com"),
        "new name": lambda s: setattr(s.members["m5@example.com"], "name", "Renamed"),
        "expiry": lambda s: setattr(s.members["m5@example.com"], "expires", "2031-01-01"),
        "a tier granted": lambda s: s.members["m5@example.com"].tiers.append("premium"),
    }
    before = _shard_entries(first)
    for number, (what, change) in enumerate(changes.items()):
        changed = copy.deepcopy(state)
        change(changed)
        keystore_writer.write(tmp_path / f"changed{number}", changed, TODAY, ["members", "premium"])
        after = _shard_entries(_written(tmp_path / f"changed{number}"))
        # Not one entry or decoy of any shard stays: nothing tells who changed.
        assert not before & after, what
        if bound:  # nor one lookup: the member count and who left are not told either
            assert not {k for k, _ in before} & {k for k, _ in after}, what
        assert {len(v) for _, v in after} == {len(v) for _, v in before}, what


@pytest.mark.parametrize("bound", [False, True], ids=["layout 2", "layout 3"])
def test_login_links_get_their_own_entries_until_their_last_day(
    tmp_path: Path, bound: bool
) -> None:
    state = _state(3, bound=bound)
    member = state.members["m1@example.com"]
    secret, last_day = state.issue_link(member.email, TODAY, 14)
    assert last_day == "2030-06-15"
    link = mk1.derive_member_keys(state.site, member.email, secret, state.iterations)
    assert member.link is not None and member.link.lookup == link.lookup

    def link_entry(day: dt.date) -> dict[str, object] | None:
        folder = tmp_path / day.isoformat()
        keystore_writer.write(folder, state, day, ["members"])
        files = _written(folder)
        index = json.loads(files["mk1/keystore.json"])
        return keystore.open_member_entry(
            index, lambda url: files[f"mk1/{url}"], member.email, link
        )

    entry = link_entry(dt.date(2030, 6, 15))
    assert entry is not None and entry["link"] == "2030-06-15" and entry["name"] == member.name
    held = state.tier_keys()["members"]
    assert entry["keys"] == {"members": {"v": held.v, "k": held.k}}
    assert link_entry(dt.date(2030, 6, 16)) is None  # a build after its last day drops it
    # The password's entry carries no link mark; a reset drops the link.
    state.reset(member.email, "a new long password 123", generated=True)
    assert state.members[member.email].link is None


@pytest.mark.parametrize("bound", [False, True], ids=["layout 2", "layout 3"])
def test_helper_processes_write_the_same_bytes(tmp_path: Path, bound: bool) -> None:
    state = _state(2500, bound=bound)  # 256 shards: split between processes
    keystore_writer.write(tmp_path / "one", state, TODAY, ["members"], workers=1)
    keystore_writer.write(tmp_path / "three", state, TODAY, ["members"], workers=3)
    assert _written(tmp_path / "three") == _written(tmp_path / "one")
    stale = tmp_path / "one" / "mk1" / "keys" / "zz.json"
    stale.write_text("{}")  # a shard of an earlier build into the same folder
    keystore_writer.write(tmp_path / "one", state, TODAY, ["members"], workers=1)
    assert not stale.exists()
