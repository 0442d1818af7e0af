"""The private state sealed in memberkit.state: every command reads and changes it as it
would the folder, a build from it gives a site members open, and nothing is lost."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import cli
from generator.members import keeping, sealed, store
from generator.members import state as private
from generator.protection import mk1

from ..conftest import copy_project, keystore_entry, run_memberkit
from ..mailserver import free_port, mail_server
from .test_roster import spawn

KEY = sealed.new_key()
SENDER = "Small Site <hello@example.com>"
ENV = {
    sealed.KEY_ENV: KEY,
    "MEMBERKIT_PBKDF2_ITERATIONS": "100000",
    "MEMBERKIT_MAIL_FROM": SENDER,
}
GUIDE = "The members read the answer: forty-two bananas in a blue crate."


def memberkit(project: Path, *args: str, env: dict[str, str] | None = None, stdin: str = ""):
    return run_memberkit(*args, cwd=project, stdin=stdin, env={**ENV, **(env or {})})


def sealed_store(project: Path, key: str = KEY) -> keeping.SealedStore:
    return keeping.SealedStore(
        project / sealed.SEALED_FILE, sealed.parse_key(key), project / store.STATE_DIR
    )


def plaintext(project: Path) -> list[str]:
    """The files of an unsealed state in the project (the lock is not one)."""
    return store.FolderStore(project / store.STATE_DIR).paths()


def small_site(folder: Path) -> Path:
    """A site of three pages: a public home and join page, and one members' guide."""
    (folder / "docs" / "guides").mkdir(parents=True)
    (folder / "mkdocs.yml").write_text(
        "site_name: Small Site\nsite_url: https://small.example.com/\n"
        "theme:\n  name: material\n  font: false\nplugins:\n  - memberkit\n"
    )
    (folder / "docs" / "index.md").write_text("# Home\n\nWelcome, visitor.\n")
    (folder / "docs" / "join.md").write_text("# Join\n\nJoin us.\n")
    (folder / "docs" / "guides" / "secret.md").write_text(
        "---\naccess: members\n---\n# Secret guide\n\nA teaser for everyone.\n\n"
        f"<!-- more -->\n\n{GUIDE}\n"
    )
    return folder


def printed(output: str, label: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in output.splitlines() if label in line)


def opened_as_member(site: Path, email: str, password: str, url: str) -> str:
    """A page as the member's browser opens it, from their email and password alone."""
    entry = keystore_entry(site, email, password)
    assert entry is not None, f"{email} cannot sign in"
    keys = {t: (k["v"], mk1.unb64url(k["k"])) for t, k in entry["keys"].items()}
    site_id = json.loads((site / "mk1" / "keystore.json").read_text())["site"]
    page = (site / url / "index.html").read_text("utf-8")
    envelope = re.search(r'data-mk1="([^"]+)"', page)
    assert envelope, f"{url} has no members' part"
    _, plain = mk1.open_envelope(mk1.unb64url(envelope.group(1)), keys, site=site_id, path=url)
    return str(json.loads(plain)["content"])


# -- every command, on the sealed state ------------------------------------------------------


def test_every_members_command_works_on_the_sealed_state(tmp_path: Path) -> None:
    project = small_site(tmp_path / "site")
    added = memberkit(project, "members", "add", "ana@example.org", "--name", "Ana")
    assert added.returncode == 0, added.stderr
    assert "sealed in memberkit.state" in added.stdout and "commit it" in added.stdout
    kept = sealed_store(project)
    assert list(kept.load().members) == ["ana@example.org"]
    assert plaintext(project) == []
    soon = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    for email in ("ben@example.org", "cy@example.org"):
        done = memberkit(project, "members", "add", email, "--expires", soon)
        assert done.returncode == 0, done.stderr
    listed = memberkit(project, "members", "list")
    assert listed.returncode == 0 and "3 member(s)" in listed.stderr
    assert "ben@example.org" in listed.stdout and soon in listed.stdout
    before = kept.load().tier_keys()["members"]
    reset = memberkit(project, "members", "reset", "ana@example.org")
    assert reset.returncode == 0, reset.stderr
    assert kept.load().tier_keys()["members"] != before
    removed = memberkit(project, "members", "remove", "cy@example.org")
    assert removed.returncode == 0, removed.stderr
    exported = memberkit(project, "members", "export")
    assert exported.stdout.splitlines()[1:] == [
        "ana@example.org,Ana,members,",
        f"ben@example.org,ben,members,{soon}",
    ]
    source = tmp_path / "checkout.csv"
    source.write_text("Email,Name\ndee@example.org,Dee\n")
    imported = memberkit(
        project, "members", "import", str(source), "--passwords-out", str(tmp_path / "p.csv")
    )
    assert imported.returncode == 0, imported.stderr
    assert sorted(kept.load().members) == ["ana@example.org", "ben@example.org", "dee@example.org"]
    reminded = memberkit(project, "members", "remind", "--days", "7")
    assert reminded.returncode == 0 and "ben@example.org" in reminded.stdout
    with mail_server(tmp_path) as (inbox, url, _):
        sent = memberkit(
            project, "members", "remind", "--days", "7", "--send", env={"MEMBERKIT_SMTP": url}
        )
        assert sent.returncode == 0, sent.stderr
        assert [m["To"].addresses[0].addr_spec for m in inbox.messages] == ["ben@example.org"]
    assert json.loads(kept.read("reminders.json") or b"") == {"ben@example.org": soon}
    assert plaintext(project) == [], "nothing of the state was written unsealed"


def test_a_welcome_waits_sealed_in_the_outbox_until_resent(tmp_path: Path) -> None:
    project = small_site(tmp_path / "site")
    down = {"MEMBERKIT_SMTP": f"smtp://127.0.0.1:{free_port()}"}
    failed = memberkit(project, "members", "add", "ana@example.org", "--send", env=down)
    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    assert "it waits in memberkit.state until 'memberkit members resend" in failed.stderr
    password = printed(failed.stdout, "password:")
    kept = sealed_store(project)
    assert kept.names("outbox") == ["outbox/ana@example.org.eml"]
    assert password.encode() not in (project / sealed.SEALED_FILE).read_bytes()
    assert plaintext(project) == []
    with mail_server(tmp_path) as (inbox, url, _):
        resent = memberkit(project, "members", "resend", "--all", env={"MEMBERKIT_SMTP": url})
        assert resent.returncode == 0, resent.stderr
        [message] = inbox.messages
    assert password in message.get_body(("plain",)).get_content()
    assert kept.names("outbox") == []
    empty = memberkit(project, "members", "resend", "--all")
    assert "The outbox is empty" in empty.stdout


# -- the build --------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["memberkit", "mkdocs"])
def test_a_build_from_the_sealed_state_gives_pages_members_open(
    tmp_path: Path, command: str
) -> None:
    """`memberkit build` and plain `mkdocs build` (the plugin alone) read the sealed state."""
    project = small_site(tmp_path / "site")
    added = memberkit(project, "members", "add", "ana@example.org", "--name", "Ana")
    assert added.returncode == 0, added.stderr
    password = printed(added.stdout, "password:")
    before = (project / sealed.SEALED_FILE).read_bytes()
    if command == "mkdocs":
        built = subprocess.run(
            [sys.executable, "-m", "mkdocs", "build"],
            cwd=project,
            env={**os.environ, **ENV},
            capture_output=True,
            text=True,
            timeout=300,
        )
    else:
        built = memberkit(project, "build")
    assert built.returncode == 0, built.stderr
    site = project / "site"
    assert GUIDE in opened_as_member(site, "ana@example.org", password, "guides/secret/")
    assert GUIDE not in (site / "guides/secret/index.html").read_text("utf-8")
    assert keystore_entry(site, "ana@example.org", password + "x") is None
    # Nothing changed, nothing written: the committed file stays as it was, to the byte.
    assert (project / sealed.SEALED_FILE).read_bytes() == before
    assert plaintext(project) == []
    assert not any(p.name == sealed.SEALED_FILE for p in site.rglob("*"))


def test_a_build_drops_an_expired_member_from_the_sealed_state(tmp_path: Path) -> None:
    project = small_site(tmp_path / "site")
    kept = sealed_store(project)
    current = private.State.new(100_000)
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    for email, expires in (("gone@example.org", yesterday), ("stays@example.org", None)):
        password = f"{email} password"
        current.add(email, password, name="M", tiers=["members"], expires=expires, generated=True)
    kept.save(current)
    built = memberkit(project, "build", "-v")
    assert built.returncode == 0, built.stderr
    assert "dropped expired member gone@example.org" in built.stderr
    state = kept.load()
    assert list(state.members) == ["stays@example.org"]
    assert list(state.ended) == ["gone@example.org"]  # kept, sealed too
    site = project / "site"
    # Told that it ended, and opening nothing.
    gone = keystore_entry(site, "gone@example.org", "gone@example.org password")
    assert gone is not None and gone["keys"] == {} and gone["exp"] == yesterday
    assert keystore_entry(site, "stays@example.org", "stays@example.org password") is not None


def test_serve_makes_its_demo_member_in_the_sealed_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator.cli.site import DEMO_EMAIL, demo_member

    project = small_site(tmp_path / "site")
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    demo_member(str(project / "mkdocs.yml"), "127.0.0.1:8000")
    assert list(sealed_store(project).load().members) == [DEMO_EMAIL]
    assert plaintext(project) == []


# -- what is refused, and what is never lost --------------------------------------------------


@pytest.fixture
def sealed_project(tmp_path: Path) -> Path:
    project = copy_project(tmp_path / "project")  # three members, in .memberkit/
    keeping.seal(project, sealed.parse_key(KEY))
    return project


def said(stderr: str) -> str:
    """The one line that says why a command stopped (a build adds that it failed)."""
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    if lines[-1] == "Error: build failed; the previous site was left unchanged":
        lines.pop()
    assert len(lines) == 1, stderr
    return re.sub(r"^(Error|error): ", "", lines[0])


def damaged(blob: bytes) -> list[tuple[str, bytes]]:
    flipped = bytearray(blob)
    flipped[len(blob) // 2] ^= 0x04
    return [("cut short", blob[:-1000]), ("a flipped bit", bytes(flipped)), ("emptied", b"")]


@pytest.mark.parametrize(
    "args",
    [
        ["members", "list"],
        ["members", "add", "new@example.org"],
        ["members", "remove", "morgan@example.com"],
        ["members", "resend", "--all"],
        ["build"],
        ["state", "unseal"],
    ],
    ids=lambda a: " ".join(a),
)
def test_a_wrong_key_or_a_damaged_file_stops_every_command_and_changes_nothing(
    sealed_project: Path, args: list[str]
) -> None:
    path = sealed_project / sealed.SEALED_FILE
    original = path.read_bytes()
    wrong = memberkit(sealed_project, *args, env={sealed.KEY_ENV: sealed.new_key()})
    assert wrong.returncode != 0
    assert said(wrong.stderr) == (
        f"{path} was sealed with another key than the one in MEMBERKIT_STATE_KEY; "
        "set the key it was sealed with. memberkit will not overwrite it"
    )
    assert path.read_bytes() == original
    for what, broken in damaged(original):
        path.write_bytes(broken)
        result = memberkit(sealed_project, *args)
        assert result.returncode != 0, what
        assert said(result.stderr).startswith(f"{path} is damaged"), (what, result.stderr)
        assert path.read_bytes() == broken, f"{what}: the file was overwritten"
        assert plaintext(sealed_project) == []
    path.write_bytes(original)


def test_a_failed_write_leaves_the_sealed_file_as_it_was(
    sealed_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = sealed_project / sealed.SEALED_FILE
    original = path.read_bytes()

    def no_space(*args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.chdir(sealed_project)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(store.os, "fsync", no_space)  # the new file, half written
    result = CliRunner().invoke(cli, ["members", "add", "new@example.org"])
    assert result.exit_code != 0
    assert "cannot save the private state (No space left on device)" in result.output
    assert path.read_bytes() == original
    assert sorted(p.name for p in sealed_project.iterdir() if "memberkit" in p.name) == [
        store.STATE_DIR,
        sealed.SEALED_FILE,
    ], "no temporary file left behind"
    monkeypatch.undo()
    assert "new@example.org" not in sealed_store(sealed_project).load().members


def test_the_size_tells_nothing_of_the_member_count(tmp_path: Path) -> None:
    sizes = []
    for count in (1, 50):
        current = private.State.new(100_000)
        current.ensure_tiers(["members"])
        for number in range(count):
            email = f"buyer{number}@example.org"
            keys = mk1.MemberKeys(lookup=f"{number:032x}", kek=bytes(32))
            current.add(
                email,
                "-",
                name=f"B {number}",
                tiers=["members"],
                expires=None,
                keys=keys,
                generated=True,
            )
        folder = tmp_path / str(count)
        folder.mkdir()
        kept = sealed_store(folder)
        kept.save(current)
        assert len(kept.load().members) == count
        sizes.append((folder / sealed.SEALED_FILE).stat().st_size)
    assert sizes == [64 * 1024, 64 * 1024]


def test_concurrent_commands_on_the_sealed_state_lose_no_change(sealed_project: Path) -> None:
    """The lock (.memberkit/state.lock, beside the sealed file) guards every change."""
    adds = [f"new{n}@example.org" for n in range(4)]
    runs = [spawn(sealed_project, "members", "add", email, env=ENV) for email in adds]
    runs.append(spawn(sealed_project, "members", "remove", "riley@example.org", env=ENV))
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
    members = set(sealed_store(sealed_project).load().members)
    assert members == {"morgan@example.com", "casey@example.net", *adds}
    assert (sealed_project / store.STATE_DIR / store.LOCK_FILE).is_file()


def test_a_change_that_changes_nothing_writes_nothing(tmp_path: Path) -> None:
    """A new nonce would be a new file for git: an unchanged state is not written again."""
    from generator.members.mail import Outbox

    kept = sealed_store(tmp_path)
    current = private.State.new(100_000)
    kept.save(current)
    path = tmp_path / sealed.SEALED_FILE
    before = path.read_bytes()
    kept.save(current)
    Outbox(kept).discard("nobody@example.org")
    assert path.read_bytes() == before
    kept.change({"reminders.json": b"{}\n"})
    assert path.read_bytes() != before and kept.read("reminders.json") == b"{}\n"


def test_a_welcome_the_outbox_cannot_keep_is_not_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept first, then sent: a welcome that could not be kept is reported, not sent."""
    from generator.errors import MemberkitError
    from generator.members.mail import Outbox

    project = small_site(tmp_path / "site")

    def full(box: Outbox, message: object) -> None:
        raise MemberkitError(f"{box.where}: cannot save the private state (No space left)")

    monkeypatch.chdir(project)
    monkeypatch.setattr(Outbox, "put", full)
    with mail_server(tmp_path) as (inbox, url, _):
        for name, value in {**ENV, "MEMBERKIT_SMTP": url}.items():
            monkeypatch.setenv(name, value)
        result = CliRunner().invoke(cli, ["members", "add", "ana@example.org", "--send"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "error: ana@example.org: not sent:" in result.output
    assert "cannot save the private state (No space left)" in result.output
    assert inbox.messages == []
    assert list(sealed_store(project).load().members) == ["ana@example.org"]
