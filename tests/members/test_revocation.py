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

    def __init__(self, saved: private.State, day: int, folder: Path) -> None:
        self.state = copy.deepcopy(saved)
        self.today = DAY_0 + dt.timedelta(days=day)
        self.state.drop_expired(self.today)
        self.folder = folder
        keystore_writer.write(folder, self.state, self.today, ["members"])
        self.sealer = envelopes.Sealer(site=self.state.site, keys=self.state.sealing_keys())

    def page(self, path: str, text: str) -> bytes:
        return mk1.unb64url(self.sealer.seal_page("members", path, {"content": text}))

    def keys_of(self, email: str) -> dict[str, tuple[int, bytes]] | None:
        """The tier keys a member's browser keeps after signing in to this build."""
        files = {
            p.relative_to(self.folder / "mk1").as_posix(): p.read_bytes()
            for p in (self.folder / "mk1").rglob("*.json")
        }
        index = json.loads(files["keystore.json"])
        member = mk1.derive_member_keys(
            self.state.site, email, PASSWORDS[email], self.state.iterations
        )
        entry = keystore.open_member_entry(index, lambda url: files[url], email, member)
        if entry is None:
            return None
        return {t: (held["v"], mk1.unb64url(held["k"])) for t, held in entry["keys"].items()}


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
    assert kept_by_b is not None and day_8.keys_of("a@example.org") is None
    assert day_18.keys_of("b@example.org") is None  # B's entry is gone ...
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
