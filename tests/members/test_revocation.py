"""A member who left opens nothing built after they left, whatever copy of the private
state the build started from (PROTOCOL.md, "Tier keys").

Builds often start from an older copy of the state (a CI secret nobody updates): each
drops the members whose end date has passed by its own day. Here the build is what
`memberkit build` does with a state: drop the expired, seal with the tiers' keys,
write the keystore; what a member's browser keeps is read with the reference reader.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from generator.members import keystore_writer
from generator.members import state as private
from generator.protection import envelopes, keystore, mk1

DAY_0 = dt.date(2031, 3, 1)
PASSWORDS = {
    "a@example.org": "first long password for A",
    "b@example.org": "second long password for B",
    "c@example.org": "third long password for C",
}


def roster() -> private.State:
    """A (ends on day 3), B (ends on day 13) and C (no end), as the copy was saved."""
    state = private.State.new(mk1.MIN_ITERATIONS)
    ends = {"a@example.org": 3, "b@example.org": 13, "c@example.org": None}
    for email, password in PASSWORDS.items():
        days = ends[email]
        last = None if days is None else (DAY_0 + dt.timedelta(days=days)).isoformat()
        state.add(email, password, name=email[0].upper(), tiers=["members"], expires=last)
    return state


class Build:
    """A build on `day` from a copy of `saved`: what it published."""

    def __init__(
        self,
        saved: private.State,
        day: int,
        folder: Path,
        ended_days: int = private.ENDED_NOTICE_DAYS,
    ) -> None:
        self.state = copy.deepcopy(saved)
        self.today = DAY_0 + dt.timedelta(days=day)
        self.state.drop_expired(self.today, ended_days)
        self.folder = folder
        self.layout = keystore_writer.write(
            folder, self.state, self.today, ["members"], ended_days=ended_days
        )
        self.sealer = envelopes.Sealer(site=self.state.site, keys=self.state.sealing_keys())

    def page(self, path: str, text: str) -> bytes:
        return mk1.unb64url(self.sealer.seal_page("members", path, {"content": text}))

    def files(self) -> dict[str, bytes]:
        return {
            p.relative_to(self.folder / "mk1").as_posix(): p.read_bytes()
            for p in (self.folder / "mk1").rglob("*.json")
        }

    def entry_of(self, email: str, password: str | None = None) -> dict[str, object] | None:
        """A member's entry as their browser opens it with their password, or None."""
        files = self.files()
        index = json.loads(files["keystore.json"])
        member = mk1.derive_member_keys(
            self.state.site, email, password or PASSWORDS[email], self.state.iterations
        )
        return keystore.open_member_entry(index, lambda url: files[url], email, member)

    def keys_of(self, email: str) -> dict[str, tuple[int, bytes]] | None:
        """The tier keys a member's browser keeps after signing in to this build: none
        (`{}`) from the entry of a membership that ended."""
        entry = self.entry_of(email)
        if entry is None:
            return None
        held = entry["keys"]
        assert isinstance(held, dict)
        return {t: (key["v"], mk1.unb64url(key["k"])) for t, key in held.items()}


def opens(keys: dict[str, tuple[int, bytes]], envelope: bytes, site: str, path: str) -> bool:
    try:
        mk1.open_envelope(envelope, keys, site=site, path=path)
    except mk1.MK1Error:
        return False
    return True


def test_a_member_cut_off_by_a_later_build_from_the_same_copy_opens_nothing_new(
    tmp_path: Path,
) -> None:
    saved = roster()
    day_8 = Build(saved, 8, tmp_path / "day-8")  # drops A
    day_18 = Build(saved, 18, tmp_path / "day-18")  # drops A and B, from the same copy
    kept_by_b = day_8.keys_of("b@example.org")
    assert kept_by_b is not None and day_8.keys_of("a@example.org") == {}  # A: no key
    assert day_18.keys_of("b@example.org") == {}  # B's entry holds no key any more ...
    new_guide = day_18.page("guides/new/", "A guide written after B left.")
    # ... and the key B's browser kept opens no page built after B's end.
    assert not opens(kept_by_b, new_guide, saved.site, "guides/new/")
    kept_by_c = day_18.keys_of("c@example.org")
    assert kept_by_c is not None and opens(kept_by_c, new_guide, saved.site, "guides/new/")
    # `v` names the key: another key, another version.
    assert kept_by_b["members"][0] != kept_by_c["members"][0]


@pytest.mark.parametrize("change", ["removed", "reset", "expired"])
def test_no_key_comes_back_for_another_set_of_holders(change: str) -> None:
    state = roster()
    seen = {state.tier_keys()["members"].k: state.tier_keys()["members"].v}
    before = state.tier_keys()["members"]
    if change == "removed":
        state.remove("b@example.org")
    elif change == "reset":
        state.reset("b@example.org", "a brand new long password")
    else:
        state.drop_expired(DAY_0 + dt.timedelta(days=30))
    after = state.tier_keys()["members"]
    assert after.k != before.k and after.v != before.v
    assert after.k not in seen
    # The same holders, another day or another copy: the same key.
    assert copy.deepcopy(state).tier_keys()["members"] == after


def test_a_member_removed_after_an_older_copy_was_saved_opens_nothing_it_builds(
    tmp_path: Path,
) -> None:
    """The copy was saved before B joined: B never held a key of the builds made from it."""
    older = private.State.new(mk1.MIN_ITERATIONS)
    older.add(
        "c@example.org", PASSWORDS["c@example.org"], name="C", tiers=["members"], expires=None
    )
    newer = copy.deepcopy(older)
    newer.add(
        "b@example.org", PASSWORDS["b@example.org"], name="B", tiers=["members"], expires=None
    )
    with_b = Build(newer, 0, tmp_path / "with-b")
    kept_by_b = with_b.keys_of("b@example.org")
    assert kept_by_b is not None
    from_older = Build(older, 1, tmp_path / "older")
    page = from_older.page("guides/x/", "Built from the copy that never knew B.")
    assert not opens(kept_by_b, page, older.site, "guides/x/")


# -- a membership that ended: told so at sign-in, for a while, opening nothing ----------


def test_a_member_whose_membership_ended_is_told_so_and_opens_nothing(tmp_path: Path) -> None:
    saved = roster()
    a_link, _ = saved.issue_link("a@example.org", DAY_0, 30)  # still valid on day 8
    day_8 = Build(saved, 8, tmp_path / "day-8")  # A ended on day 3
    entry = day_8.entry_of("a@example.org")
    assert entry is not None and entry["keys"] == {} and entry["name"] == "A"
    assert keystore.ended_on(entry) == "2031-03-04" == saved.members["a@example.org"].expires
    # Nothing in it opens a page: it holds no tier key, in any form.
    assert set(entry) == {"name", "exp", "keys", "r"}
    page = day_8.page("guides/new/", "A guide written after A left.")
    assert not opens({}, page, saved.site, "guides/new/")
    # The login link handed out before is not published for a membership that ended.
    assert day_8.entry_of("a@example.org", a_link) is None
    # A wrong password finds nothing, as for anyone who is not a member.
    assert day_8.entry_of("a@example.org", "not the password of A at all") is None
    # A member's entry still opens pages and says nothing of an end.
    entry_c = day_8.entry_of("c@example.org")
    assert entry_c is not None and keystore.ended_on(entry_c) is None
    assert day_8.keys_of("c@example.org")


@pytest.mark.parametrize("days", [90, 30, 0])
def test_a_membership_that_ended_is_told_for_ended_notice_days(tmp_path: Path, days: int) -> None:
    saved = roster()  # A's last day: day 3
    told = lambda day: Build(saved, day, tmp_path / f"{days}-{day}", days).entry_of(  # noqa: E731
        "a@example.org"
    )
    if days:
        assert told(3 + days) is not None  # the last day it is told
    else:
        assert told(4) is None  # 0: never told, as before
    assert told(3 + days + 1) is None  # the day after: forgotten
    # A state carried from build to build forgets the record as well.
    carried = Build(saved, 8, tmp_path / f"{days}-carried", days).state
    assert ("a@example.org" in carried.ended) == (days > 0)
    later = Build(carried, 3 + days + 1, tmp_path / f"{days}-later", days)
    # Ended today (a subscription over, by `members sync`): told from that day on, unless 0.
    ending = copy.deepcopy(saved)
    ending.end("c@example.org", (DAY_0 + dt.timedelta(days=5)).isoformat())
    ended_today = Build(ending, 5, tmp_path / f"{days}-today", days)
    assert (ended_today.entry_of("c@example.org") is not None) == (days > 0)
    assert "a@example.org" not in later.state.ended and later.entry_of("a@example.org") is None


def test_a_member_removed_by_the_owner_is_not_told_anything(tmp_path: Path) -> None:
    saved = roster()
    saved.remove("c@example.org")  # removed (or refunded): gone, nothing kept
    day_8 = Build(saved, 8, tmp_path / "day-8")
    assert day_8.entry_of("c@example.org") is None and "c@example.org" not in day_8.state.ended
    # One whose membership had ended, removed afterwards: forgotten as well.
    kept = day_8.state
    assert "a@example.org" in kept.ended
    assert kept.remove("A@Example.org") == []
    again = Build(kept, 9, tmp_path / "day-9")
    assert again.entry_of("a@example.org") is None
    # Joining again: a member once more, no longer told it ended.
    kept.add(
        "a@example.org", "a new long password for A", name="A", tiers=["members"], expires=None
    )
    kept.end("b@example.org", "2031-03-09")
    kept.add("b@example.org", PASSWORDS["b@example.org"], name="B", tiers=["members"], expires=None)
    assert kept.ended == {}


def test_an_ended_entry_rotates_the_keys_as_a_removal_and_tells_nothing_by_its_count(
    tmp_path: Path,
) -> None:
    saved = roster()
    ended = Build(saved, 8, tmp_path / "ended")  # A ended: told so
    gone = copy.deepcopy(saved)
    gone.remove("a@example.org")
    removed = Build(gone, 8, tmp_path / "removed")
    # The tier's key is the one a removal gives: A's browser keeps no key that opens it.
    assert ended.state.tier_keys() == removed.state.tier_keys()
    # The keystore holds A's entry as one more real one, every entry alike, every shard
    # padded to the size of the others: as if A were still a member.
    still = Build(saved, 8, tmp_path / "still", 0)
    still.state.members["a@example.org"] = copy.deepcopy(saved.members["a@example.org"])
    still.state.members["a@example.org"].expires = None
    kept = Build(still.state, 8, tmp_path / "kept", 0)
    assert ended.layout.entries == kept.layout.entries == removed.layout.entries + 1
    assert (ended.layout.digits, ended.layout.size) == (kept.layout.digits, kept.layout.size)
    lengths = {
        len(blob)
        for name, data in ended.files().items()
        if name != "keystore.json"
        for blob in json.loads(data)["members"].values()
    }
    assert len(lengths) == 1  # the entry that holds no key is as long as any other
