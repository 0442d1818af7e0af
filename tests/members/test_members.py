"""Managing members from the command line, and the private state behind it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import stat
from pathlib import Path

import pytest

from generator.members import state
from generator.protection import mk1

from ..conftest import copy_project, keystore_entry, run_memberkit

FAST = {"MEMBERKIT_PBKDF2_ITERATIONS": "100000"}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The bundled content with no private state yet, as on a first checkout."""
    return copy_project(tmp_path / "project", with_state=False)


def memberkit(project: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None):
    return run_memberkit(*args, cwd=project, stdin=stdin, env={**FAST, **(env or {})})


def read_state(project: Path) -> dict:
    return json.loads((project / ".memberkit" / "state.json").read_text())


def test_add_prints_a_strong_password_and_login_link_once(project: Path) -> None:
    result = memberkit(project, "members", "add", "Ana@Example.com", "--name", "Ana")
    assert result.returncode == 0, result.stderr
    password = next(
        line.split(":", 1)[1].strip() for line in result.stdout.splitlines() if "password:" in line
    )
    assert len(password.replace("-", "")) == 20  # 20 symbols of 31: 99 bits
    assert "#login=" in result.stdout
    saved = read_state(project)
    member = saved["members"]["ana@example.com"]
    assert member["name"] == "Ana" and member["tiers"] == ["members"]
    assert password not in json.dumps(saved)
    keys = mk1.derive_member_keys(saved["site"], "ana@example.com", password, 100_000)
    assert member["lookup"] == keys.lookup and mk1.unb64url(member["kek"]) == keys.kek
    folder = project / ".memberkit"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "state.json").stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("password", "reason"),
    [("short pass", "too short"), ("Password1234", "too easy"), ("aaaaaaaaaaaaaa", "too easy")],
)
def test_weak_chosen_passwords_are_refused(project: Path, password: str, reason: str) -> None:
    result = memberkit(project, "members", "add", "a@b.org", "--password-stdin", stdin=password)
    assert result.returncode != 0
    assert reason in result.stderr and "Traceback" not in result.stderr
    assert not (project / ".memberkit" / "state.json").exists()


def test_unknown_tier_and_bad_expiry_are_refused(project: Path) -> None:
    result = memberkit(project, "members", "add", "a@b.org", "--tier", "gold")
    assert result.returncode != 0 and "unknown tier 'gold'" in result.stderr
    result = memberkit(project, "members", "add", "a@b.org", "--expires", "next year")
    assert result.returncode != 0 and "YYYY-MM-DD" in result.stderr


def test_remove_rotates_the_tiers_the_member_held(project: Path) -> None:
    assert memberkit(project, "members", "add", "a@b.org").returncode == 0
    assert memberkit(project, "members", "add", "c@d.org").returncode == 0
    before = read_state(project)["tiers"]["members"]
    result = memberkit(project, "members", "remove", "A@B.org")
    assert result.returncode == 0, result.stderr
    after = read_state(project)
    assert after["tiers"]["members"]["v"] != before["v"]
    assert after["tiers"]["members"]["k"] != before["k"]
    assert list(after["members"]) == ["c@d.org"]
    missing = memberkit(project, "members", "remove", "a@b.org")
    assert missing.returncode != 0 and "no member" in missing.stderr


def test_remove_forgets_a_membership_that_ended(project: Path) -> None:
    from generator.members import store

    assert memberkit(project, "members", "add", "a@b.org").returncode == 0
    folder = project / ".memberkit"
    current = store.load(folder)
    current.end("a@b.org", "2026-01-31")  # a subscription over, as `members sync` ends it
    store.save(current, folder)
    result = memberkit(project, "members", "remove", "A@B.org")
    assert result.returncode == 0, result.stderr
    assert "Forgot a@b.org, whose membership ended on 2026-01-31" in result.stdout
    assert "ended" not in read_state(project)
    missing = memberkit(project, "members", "remove", "a@b.org")
    assert missing.returncode != 0 and "no member" in missing.stderr


def test_reset_changes_the_password(project: Path) -> None:
    """After a reset and a build, the old password opens nothing; the new one signs in."""
    added = memberkit(project, "members", "add", "a@b.org", "--name", "Ann")
    assert added.returncode == 0, added.stderr
    old_password = printed(added.stdout, "password:")
    assert memberkit(project, "build").returncode == 0
    assert keystore_entry(project / "site", "a@b.org", old_password)["name"] == "Ann"
    version = read_state(project)["tiers"]["members"]["v"]
    result = memberkit(project, "members", "reset", "a@b.org")
    assert result.returncode == 0, result.stderr
    new_password = printed(result.stdout, "password:")
    assert new_password != old_password
    assert read_state(project)["tiers"]["members"]["v"] != version  # the tier's key changed
    built = memberkit(project, "build")
    assert built.returncode == 0, built.stderr
    assert keystore_entry(project / "site", "a@b.org", old_password) is None
    assert keystore_entry(project / "site", "a@b.org", new_password)["name"] == "Ann"


def test_import_applies_good_rows_and_reports_bad_ones(project: Path, tmp_path: Path) -> None:
    source = tmp_path / "checkout.csv"
    source.write_text(
        "Email,Name,Tier,Expires\n"
        "ana@x.org,Ana,members,2027-01-31\n"
        "not-an-email,Bad,members,\n"
        "ben@x.org,Ben,gold,\n"
        "cy@x.org,Cy,,2026-02-30\n"
        "dee@x.org,Dee,,\n"
    )
    out = tmp_path / "passwords.csv"
    result = memberkit(project, "members", "import", str(source), "--passwords-out", str(out))
    assert result.returncode != 0
    for line in ("line 3: 'not-an-email'", "line 4: unknown tier 'gold'", "line 5: '2026-02-30'"):
        assert line in result.stderr
    assert "Traceback" not in result.stderr
    assert set(read_state(project)["members"]) == {"ana@x.org", "dee@x.org"}
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["email"] for r in rows] == ["ana@x.org", "dee@x.org"]
    assert all("#login=" in r["login_link"] for r in rows)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    again = memberkit(project, "members", "import", str(source), "--passwords-out", str(out))
    assert again.returncode != 0 and "already exists" in again.stderr


def test_export_has_no_secrets(project: Path) -> None:
    memberkit(project, "members", "add", "a@b.org", "--name", "Al", "--expires", "2027-05-01")
    result = memberkit(project, "members", "export")
    assert result.stdout == "email,name,tier,expires\na@b.org,Al,members,2027-05-01\n"
    saved = read_state(project)["members"]["a@b.org"]
    assert saved["kek"] not in result.stdout and saved["lookup"] not in result.stdout


def test_corrupt_state_is_an_error_and_never_overwritten(project: Path) -> None:
    memberkit(project, "members", "add", "a@b.org")
    path = project / ".memberkit" / "state.json"
    broken = path.read_text()[:-40]
    path.write_text(broken)
    for args in (["members", "add", "c@d.org"], ["members", "list"]):
        result = memberkit(project, *args)
        assert result.returncode != 0
        assert "damaged" in result.stderr and "backup" in result.stderr
        assert "Traceback" not in result.stderr
    assert path.read_text() == broken


def test_state_folder_from_the_environment(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "secrets"
    result = memberkit(
        project, "members", "add", "a@b.org", env={"MEMBERKIT_STATE": str(elsewhere)}
    )
    assert result.returncode == 0, result.stderr
    assert (elsewhere / "state.json").is_file()
    assert not (project / ".memberkit").exists()


def test_expired_members_are_dropped_and_their_tiers_rotated() -> None:
    import datetime as dt

    current = state.State.new(100_000)
    current.add("a@b.org", "long enough secret", name="A", tiers=["members"], expires="2026-01-31")
    current.add("c@d.org", "another long secret", name="C", tiers=["members"], expires=None)
    before = current.tier_keys()["members"]
    assert current.drop_expired(dt.date(2026, 1, 31)) == []
    assert current.tier_keys()["members"] == before
    gone = current.drop_expired(dt.date(2026, 2, 1))
    assert [m.email for m in gone] == ["a@b.org"]
    after = current.tier_keys()["members"]
    assert after.v != before.v and after.k != before.k
    assert list(current.members) == ["c@d.org"]


def test_gitignore_keeps_the_private_state_out() -> None:
    from ..conftest import ROOT

    assert "/.memberkit/" in (ROOT / ".gitignore").read_text().splitlines()


def test_rotation_is_reproducible_from_the_same_state() -> None:
    """Two CI builds from one state secret rotate to the same keys (no sign-out per deploy)."""
    import datetime as dt

    first = state.State.new(100_000)
    first.add("a@b.org", "long enough secret", name="A", tiers=["members"], expires="2026-01-01")
    first.add("c@d.org", "another long secret", name="C", tiers=["members"], expires=None)
    second = state.State(**{**first.__dict__, "members": dict(first.members)})
    second.tiers = list(first.tiers)
    for copy in (first, second):
        copy.drop_expired(dt.date(2026, 6, 1))
    assert first.tier_keys() == second.tier_keys()
    other = state.State(**{**first.__dict__, "secret": state.State.new(100_000).secret})
    # Another secret, the same holders: another key.
    assert other.tier_keys()["members"].k != first.tier_keys()["members"].k


def _link_secret(link: str, email: str) -> str:
    payload = json.loads(mk1.unb64url(link.partition("#login=")[2]))
    assert set(payload) == {"e", "l"} and payload["e"] == email
    return str(payload["l"])


def printed(output: str, label: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in output.splitlines() if label in line)


def test_the_login_link_carries_a_secret_of_its_own_that_lasts_link_days(project: Path) -> None:
    result = memberkit(project, "members", "add", "ana@example.com", "--link-days", "3")
    assert result.returncode == 0, result.stderr
    password, link = printed(result.stdout, "password:"), printed(result.stdout, "login link:")
    last_day = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    assert f"the link works until {last_day}" in result.stdout
    secret = _link_secret(link, "ana@example.com")
    assert password not in link and secret != password and len(mk1.unb64url(secret)) == 16
    saved = read_state(project)
    member = saved["members"]["ana@example.com"]
    keys = mk1.derive_member_keys(saved["site"], "ana@example.com", secret, 100_000)
    assert member["link"] == {
        "lookup": keys.lookup,
        "kek": mk1.b64url(keys.kek),
        "expires": last_day,
        "lookup_key": mk1.b64url(keys.lookup_key),
    }
    assert secret not in json.dumps(saved)
    # A reset gives a new password and a new link: the old link's entry is gone.
    reset = memberkit(project, "members", "reset", "ana@example.com")
    assert reset.returncode == 0, reset.stderr
    new = _link_secret(printed(reset.stdout, "login link:"), "ana@example.com")
    after = read_state(project)["members"]["ana@example.com"]["link"]
    assert new != secret and after["lookup"] != keys.lookup
    assert after["expires"] == (dt.date.today() + dt.timedelta(days=14)).isoformat()
    refused = memberkit(project, "members", "add", "b@example.com", "--link-days", "0")
    assert refused.returncode != 0 and "--link-days" in refused.stderr


def test_imported_members_get_a_login_link_each(project: Path, tmp_path: Path) -> None:
    source = tmp_path / "checkout.csv"
    source.write_text("Email,Name\nana@x.org,Ana\nben@x.org,Ben\n")
    out = tmp_path / "logins.csv"
    result = memberkit(
        project, "members", "import", str(source), "--passwords-out", str(out), "--link-days", "5"
    )
    assert result.returncode == 0, result.stderr
    saved = read_state(project)
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["email"] for r in rows] == ["ana@x.org", "ben@x.org"]
    for row in rows:
        assert row["link_expires"] == (dt.date.today() + dt.timedelta(days=5)).isoformat()
        secret = _link_secret(row["login_link"], row["email"])
        keys = mk1.derive_member_keys(saved["site"], row["email"], secret, 100_000)
        assert saved["members"][row["email"]]["link"]["lookup"] == keys.lookup
        login = mk1.derive_member_keys(saved["site"], row["email"], row["password"], 100_000)
        assert saved["members"][row["email"]]["lookup"] == login.lookup


def test_a_membership_that_ended_is_kept_in_the_state_and_checked_when_read(
    tmp_path: Path,
) -> None:
    from generator.errors import MemberkitError
    from generator.members import store

    current = state.State.new(100_000)
    current.add("a@b.org", "long enough secret", name="A", tiers=["members"], expires="2026-01-31")
    current.drop_expired(dt.date(2026, 2, 1))
    assert list(current.ended) == ["a@b.org"] and current.ended["a@b.org"].expires == "2026-01-31"
    store.save(current, tmp_path)
    assert store.load(tmp_path).ended == current.ended
    data = json.loads((tmp_path / "state.json").read_text())
    # A state with none of them reads and writes as before.
    assert "ended" not in json.loads(state.State.new(100_000).to_json())
    for field, value, message in [
        ("expires", None, "ended.a@b.org.expires must be YYYY-MM-DD"),
        ("kek", "short", "ended.a@b.org.kek must be a 32-byte key"),
        ("tiers", ["members"], "ended.a@b.org has an unknown field 'tiers'"),
        ("email", "x@b.org", "ended.a@b.org.email must be 'a@b.org'"),
    ]:
        edited = json.loads(json.dumps(data))
        edited["ended"]["a@b.org"][field] = value
        (tmp_path / "state.json").write_text(json.dumps(edited))
        with pytest.raises(MemberkitError, match=message.replace(".", r"\.")):
            store.load(tmp_path)
