"""The roster cannot lose a change: locking, hand-edited states, exports, passwords."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import cli
from generator.members import state as private
from generator.members import store

from ..conftest import MEMBER, TestMember, copy_project, run_memberkit, write_state

FAST = {"MEMBERKIT_PBKDF2_ITERATIONS": "100000"}
TODAY = dt.date.today()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project", with_state=False)


def memberkit(project: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None):
    return run_memberkit(*args, cwd=project, stdin=stdin, env={**FAST, **(env or {})})


def saved(project: Path) -> dict:
    return json.loads((project / ".memberkit" / "state.json").read_text())


def spawn(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if k != store.STATE_ENV}
    return subprocess.Popen(
        [sys.executable, "-m", "generator", *args],
        cwd=project,
        env={**environment, **FAST, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


# -- one writer at a time ----------------------------------------------------------------


def test_concurrent_commands_lose_no_change(project: Path) -> None:
    """Eight adds and a removal at once: every one of them is in the roster after."""
    assert memberkit(project, "members", "add", "gone@example.org").returncode == 0
    assert memberkit(project, "members", "add", "stays@example.org").returncode == 0
    version = saved(project)["tiers"]["members"]["v"]
    adds = [f"new{n}@example.org" for n in range(8)]
    runs = [spawn(project, "members", "add", email) for email in adds]
    runs.append(spawn(project, "members", "remove", "gone@example.org"))
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    after = saved(project)
    assert set(after["members"]) == {"stays@example.org", *adds}
    assert after["tiers"]["members"]["v"] != version  # the removal's new key


def test_a_build_waits_for_a_member_command_and_says_so(tmp_path: Path) -> None:
    """The build's read-modify-write (it drops expired members) takes the same lock."""
    project = copy_project(tmp_path / "project")
    folder = project / ".memberkit"
    release = threading.Event()

    def hold() -> None:
        with store.locked(folder):
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.2)
    build = spawn(project, "build")
    time.sleep(store.LOCK_NOTICE_SECONDS + 2.5)
    assert build.poll() is None, "the build did not wait for the lock"
    release.set()
    holder.join()
    _, err = build.communicate(timeout=300)
    assert build.returncode == 0, err
    assert "waiting for another memberkit command to finish with the private state" in err


def test_the_lock_is_released_when_its_holder_dies(project: Path) -> None:
    assert memberkit(project, "members", "add", "a@example.org").returncode == 0
    script = (
        "import os, sys; from pathlib import Path; from generator.members import store; "
        "cm = store.locked(Path(sys.argv[1])); cm.__enter__(); os._exit(3)"
    )
    died = subprocess.run([sys.executable, "-c", script, str(project / ".memberkit")], check=False)
    assert died.returncode == 3
    started = time.monotonic()
    assert memberkit(project, "members", "add", "b@example.org").returncode == 0
    assert time.monotonic() - started < 30


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (Linux' /proc)."""
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        with contextlib.suppress(OSError):
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
            if fields.get("PPid", "").strip() == str(pid):
                found.add(int(status.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux' /proc")
@pytest.mark.parametrize("ending", [signal.SIGKILL, signal.SIGTERM], ids=["killed", "stopped"])
def test_an_import_ended_midway_leaves_no_helper_and_no_lock(
    project: Path, tmp_path: Path, ending: signal.Signals
) -> None:
    """Killed while its helpers derive keys: they end with it, and the next command
    gets the state's lock at once."""
    assert memberkit(project, "members", "add", "a@example.org").returncode == 0
    source = tmp_path / "many.csv"
    source.write_text("email\n" + "".join(f"m{n}@example.org\n" for n in range(400)))
    run = spawn(project, "members", "import", str(source), "--passwords-out", str(tmp_path / "o"))
    deadline = time.monotonic() + 60
    helpers: set[int] = set()
    while time.monotonic() < deadline and len(helpers) < 2:
        helpers |= _children(run.pid)
        time.sleep(0.05)
    assert helpers, "the import started no helper"
    time.sleep(0.5)  # the helpers are deriving keys now
    run.send_signal(ending)
    run.wait(timeout=30)
    gone = time.monotonic() + 15
    while time.monotonic() < gone and any(Path(f"/proc/{p}").exists() for p in helpers):
        time.sleep(0.05)
    alive = [
        p
        for p in helpers
        if Path(f"/proc/{p}/status").exists()
        and "State:\tZ" not in Path(f"/proc/{p}/status").read_text()
    ]
    assert not alive, f"helpers outlived the import: {alive}"
    started = time.monotonic()
    added = memberkit(project, "members", "add", "b@example.org")
    assert added.returncode == 0, added.stderr
    assert time.monotonic() - started < 30 and "waiting for another" not in added.stderr
    assert set(saved(project)["members"]) == {"a@example.org", "b@example.org"}


def test_a_dropped_expired_member_is_named_in_the_build_output(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project", with_state=False)
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    old = TestMember(
        "old@example.com", "Old Member", "an expired long password 5", expires=yesterday
    )
    write_state(project, (MEMBER, old))
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    assert (
        f"dropped expired member old@example.com (ended {yesterday}); new keys for members"
        in result.stderr
    )
    assert "old@example.com" not in store.load(project / ".memberkit").members


# -- a hand-edited state -----------------------------------------------------------------


def _edit(data: dict, path: str, value: object) -> None:
    *parents, last = path.split("/")
    for key in parents:
        data = data[key]
    if value is KeyError:
        del data[last]
    else:
        data[last] = value


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("members/a@b.org/tiers", "members", "members.a@b.org.tiers must be a list of tier names"),
        ("members/a@b.org/expires", 20270101, "members.a@b.org.expires must be YYYY-MM-DD or null"),
        ("members/a@b.org/expires", "31/01/2027", "members.a@b.org.expires must be YYYY-MM-DD"),
        ("members/a@b.org/name", ["A"], "members.a@b.org.name must be text"),
        ("members/a@b.org/colour", "blue", "members.a@b.org has an unknown field 'colour'"),
        ("members/a@b.org/kek", KeyError, "members.a@b.org lacks the field 'kek'"),
        ("members/a@b.org/tiers", ["gold"], "names 'gold', which has no key under tiers"),
        ("iterations", "600000", "iterations must be a whole number"),
        ("tiers/members/v", "2", "tiers.members.v must be a whole number"),
        ("members", [], "members must be an object"),
        ("roster", {}, "the file has an unknown field 'roster'"),
    ],
)
def test_a_hand_edited_state_is_refused_by_field_and_kept(
    project: Path, path: str, value: object, message: str
) -> None:
    assert memberkit(project, "members", "add", "a@b.org").returncode == 0
    state_file = project / ".memberkit" / "state.json"
    data = json.loads(state_file.read_text())
    _edit(data, path, value)
    state_file.write_text(json.dumps(data))
    before = state_file.read_bytes()
    for args in (["members", "list"], ["members", "add", "c@d.org"], ["build"]):
        result = memberkit(project, *args)
        assert result.returncode != 0, args
        assert message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert state_file.read_bytes() == before


# -- what the owner types ----------------------------------------------------------------


def test_an_expiry_in_the_past_is_refused_today_is_not(project: Path) -> None:
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    result = memberkit(project, "members", "add", "a@b.org", "--expires", yesterday)
    assert result.returncode != 0 and f"the expiry date {yesterday} is in the past" in result.stderr
    assert not (project / ".memberkit" / "state.json").exists()
    today = TODAY.isoformat()
    result = memberkit(project, "members", "add", "a@b.org", "--expires", today)
    assert result.returncode == 0, result.stderr
    assert saved(project)["members"]["a@b.org"]["expires"] == today


@pytest.mark.parametrize(
    ("name", "reason"),
    [("x" * 101, "names are capped at 100"), ("Ana\nLima", "control character")],
)
def test_names_are_one_sane_line(project: Path, name: str, reason: str) -> None:
    result = memberkit(project, "members", "add", "a@b.org", "--name", name)
    assert result.returncode != 0 and reason in result.stderr
    assert "Traceback" not in result.stderr
    assert memberkit(project, "members", "add", "a@b.org", "--name", "x" * 100).returncode == 0


@pytest.mark.parametrize(
    ("email", "name", "password", "hint"),
    [
        ("a@b.org", "", "Password123!", "commonly used password"),
        ("alexandra@b.org", "Alexandra Montgomery", "Alexandra Montgomery", "too easy"),
        ("montgomery.lee@b.org", "", "montgomery.lee2024", "too easy"),
        ("a@b.org", "", "qwertyuiop123", "too easy"),
    ],
)
def test_guessable_passwords_are_refused_with_advice(
    project: Path, email: str, name: str, password: str, hint: str
) -> None:
    args = ["members", "add", email, "--password-stdin", *(["--name", name] if name else [])]
    result = memberkit(project, *args, stdin=password)
    assert result.returncode != 0
    assert "too easy to guess" in result.stderr and hint in result.stderr
    assert not (project / ".memberkit" / "state.json").exists()


def test_a_strong_chosen_password_is_taken(project: Path) -> None:
    result = memberkit(
        project, "members", "add", "a@b.org", "--password-stdin", stdin="velvet orbit cactus lamp"
    )
    assert result.returncode == 0, result.stderr
    package = Path(private.__file__).parents[1]
    assert not list(package.rglob("common-passwords*"))


def test_reset_rotates_the_tiers_the_member_holds(project: Path) -> None:
    memberkit(project, "members", "add", "a@b.org")
    before = saved(project)
    result = memberkit(project, "members", "reset", "a@b.org")
    assert result.returncode == 0, result.stderr
    after = saved(project)
    assert after["members"]["a@b.org"]["lookup"] != before["members"]["a@b.org"]["lookup"]
    assert after["tiers"]["members"]["v"] != before["tiers"]["members"]["v"]
    assert after["tiers"]["members"]["k"] != before["tiers"]["members"]["k"]
    assert "new keys for members" in result.stdout and "signed in" in result.stdout


# -- files the owner opens ---------------------------------------------------------------

FORMULAS = ["=HYPERLINK(1)", "+1+1", "-2", "@SUM(1)", "\tTab", "\rReturn"]


def test_exports_never_start_a_cell_with_a_formula(project: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    rows = [f"m{n}@b.org,{json.dumps(name)},,\n" for n, name in enumerate(FORMULAS)]
    source.write_text("email,name,tier,expires\n" + "".join(rows) + "-dash@b.org,Dash,,\n")
    out = tmp_path / "logins.csv"
    result = memberkit(project, "members", "import", str(source), "--passwords-out", str(out))
    assert result.returncode == 0, result.stderr
    exported = memberkit(project, "members", "export").stdout
    for text in (exported, out.read_text()):
        for row in csv.reader(io.StringIO(text)):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    names = {r["email"]: r["name"] for r in csv.DictReader(io.StringIO(exported))}
    assert names["m0@b.org"] == "'=HYPERLINK(1)" and names["m3@b.org"] == "'@SUM(1)"
    assert "'-dash@b.org" in out.read_text()
    # The ' comes off again when memberkit reads its own export back.
    again = tmp_path / "again.csv"
    again.write_text(exported)
    memberkit(project, "members", "remove", "m1@b.org")
    result = memberkit(
        project, "members", "import", str(again), "--passwords-out", str(tmp_path / "x.csv")
    )
    assert result.returncode == 0, result.stderr
    assert saved(project)["members"]["m1@b.org"]["name"] == "+1+1"


@pytest.mark.parametrize(
    "args",
    [
        ["members", "export", "-o", "nope/x.csv"],
        ["members", "import", "IN", "--passwords-out", "nope/x.csv"],
    ],
)
def test_an_output_folder_that_does_not_exist_is_one_clear_line(
    project: Path, tmp_path: Path, args: list[str]
) -> None:
    memberkit(project, "members", "add", "a@b.org")
    source = tmp_path / "in.csv"
    source.write_text("email\nnew@b.org\n")
    before = (project / ".memberkit" / "state.json").read_bytes()
    result = memberkit(project, *[str(source) if a == "IN" else a for a in args])
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "Error: nope/x.csv: the folder nope does not exist; create it or choose another"
    ]
    assert (project / ".memberkit" / "state.json").read_bytes() == before


def test_no_roster_change_when_the_passwords_cannot_be_written(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The passwords are written first: if that fails, nobody is added."""
    from generator.cli import context
    from generator.errors import MemberkitError

    memberkit(project, "members", "add", "a@b.org")
    before = (project / ".memberkit" / "state.json").read_bytes()
    source = tmp_path / "in.csv"
    source.write_text("email\nnew@b.org\n")

    def fail(path: Path, text: str) -> None:
        raise MemberkitError(f"{path}: cannot write it (No space left on device)")

    monkeypatch.setattr(context, "write_file", fail)
    monkeypatch.chdir(project)
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "logins.csv"
    result = CliRunner().invoke(
        cli, ["members", "import", str(source), "--passwords-out", str(out)]
    )
    assert result.exit_code != 0 and "No space left" in result.output
    assert (project / ".memberkit" / "state.json").read_bytes() == before


def test_a_failed_save_leaves_no_passwords_file(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.errors import MemberkitError

    memberkit(project, "members", "add", "a@b.org")

    def fail(kept: store.StateStore, state: private.State) -> None:
        raise MemberkitError(f"{kept.label()}: cannot save the private state (No space left)")

    monkeypatch.setattr(store.StateStore, "save", fail)
    monkeypatch.chdir(project)
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    source, out = tmp_path / "in.csv", tmp_path / "logins.csv"
    source.write_text("email\nnew@b.org\n")
    result = CliRunner().invoke(
        cli, ["members", "import", str(source), "--passwords-out", str(out)]
    )
    assert result.exit_code != 0 and "cannot save the private state" in result.output
    assert not out.exists()


# -- importing many --------------------------------------------------------------------------


def test_keys_derived_on_every_core_match_one_core() -> None:
    logins = [(f"m{n}@example.org", f"password number {n}") for n in range(6)]
    seen: list[tuple[int, int]] = []
    site = "00112233445566778899aabbccddeeff"
    parallel = private.derive_keys(
        site, logins, 100_000, workers=2, progress=lambda d, t: seen.append((d, t))
    )
    serial = private.derive_keys(site, logins, 100_000, workers=1)
    assert parallel == serial
    assert seen[0] == (0, 6) and seen[-1] == (6, 6)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_import_progress_updates_on_a_terminal(project: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("email\n" + "".join(f"m{n}@b.org\n" for n in range(40)))
    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != store.STATE_ENV}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "generator",
            "members",
            "import",
            str(source),
            "--passwords-out",
            str(tmp_path / "out.csv"),
        ],
        cwd=project,
        env={**environment, **FAST},
        stderr=follower,
        stdout=subprocess.PIPE,
        timeout=300,
        check=False,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    text = shown.decode()
    assert run.returncode == 0, text
    assert "\r  deriving keys: 40/40 (100%)" in text
    assert text.count("\r  deriving keys:") >= 5
    assert "Derived the keys of 40 new member(s)" in text


def test_import_is_quiet_without_a_terminal_but_for_a_final_line(
    project: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("email\n" + "".join(f"m{n}@b.org\n" for n in range(5)))
    result = memberkit(
        project, "members", "import", str(source), "--passwords-out", str(tmp_path / "o.csv")
    )
    assert result.returncode == 0, result.stderr
    assert "deriving keys" not in result.stderr
    assert result.stderr.count("Derived the keys of 5 new member(s)") == 1


def test_the_publish_workflow_also_rebuilds_every_day() -> None:
    """Expiries take effect without anyone at the keyboard: a daily build drops them."""
    import yaml

    from ..conftest import ROOT

    workflow = yaml.safe_load((ROOT / ".github/workflows/publish.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert triggers["push"] == {"branches": ["main"]} and "workflow_dispatch" in triggers
    [daily] = [s["cron"] for s in triggers["schedule"] if not s["cron"].startswith("*/")]
    minute, hour, day, month, weekday = daily.split()
    assert (day, month, weekday) == ("*", "*", "*") and minute.isdigit() and hour.isdigit()
    commands = "\n".join(s.get("run", "") for s in workflow["jobs"]["build"]["steps"])
    assert "memberkit build" in commands  # the same build, with the sealed state


def test_the_readme_synopsis_matches_the_member_commands() -> None:
    """Every option of `memberkit members COMMAND --help` is in the README, and back."""
    import re

    from ..conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    block = readme[readme.index("## Command line") : readme.index("## Publish")]
    synopsis: dict[str, set[str]] = {}
    for line in block.splitlines():
        if line.startswith("memberkit members "):
            for part in re.split(r" \| (?=[a-z])", line.removeprefix("memberkit members ")):
                command = part.split()[0]
                synopsis.setdefault(command, set()).update(re.findall(r"-{1,2}[a-z-]+", part))
    group = CliRunner().invoke(cli, ["members", "--help"]).output
    commands = re.findall(r"^  ([a-z]+)  ", group, re.MULTILINE)
    assert sorted(synopsis) == sorted(commands)
    for command in commands:
        shown = CliRunner().invoke(cli, ["members", command, "--help"]).output
        options = re.findall(r"^  (?:(-\w), )?(--[a-z-]+)", shown, re.MULTILINE)
        options = [o for o in options if o[1] not in ("--help", "--config-file")]
        for short, long in options:
            assert {short, long} & synopsis[command], f"members {command} {long}"
        named = {name for option in options for name in option if name}
        assert synopsis[command] <= named, f"members {command}"
