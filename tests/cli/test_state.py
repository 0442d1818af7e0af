"""`memberkit state key | seal | unseal`: the private state into memberkit.state and back,
nothing lost on the way, and nothing guessed when two states could be the truth."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest

from generator.members import keeping, sealed, store
from generator.members.mail import Outbox

from ..conftest import MEMBER, OTHER, ROOT, copy_project, run_memberkit

KEY = sealed.new_key()
WITH_KEY = {sealed.KEY_ENV: KEY, "MEMBERKIT_PBKDF2_ITERATIONS": "100000"}
WELCOME = (
    b"To: riley@example.org\r\nSubject: Welcome\r\n\r\nYour password: another long password 77\r\n"
)


def memberkit(project: Path, *args: str, env: dict[str, str] | None = None):
    return run_memberkit(*args, cwd=project, env={**WITH_KEY, **(env or {})})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The bundled content with three members, a welcome waiting and a reminder sent."""
    project = copy_project(tmp_path / "project")
    folder = store.FolderStore(project / store.STATE_DIR)
    folder.change(
        {
            "outbox/riley%40example.org.eml": WELCOME,
            "reminders.json": b'{\n "casey@example.net": "2099-01-01"\n}\n',
        }
    )
    return project


def kept_sealed(project: Path) -> keeping.SealedStore:
    return keeping.SealedStore(
        project / sealed.SEALED_FILE, sealed.parse_key(KEY), project / store.STATE_DIR
    )


def files_of(project: Path) -> dict[str, bytes]:
    return store.FolderStore(project / store.STATE_DIR).files()


def test_state_key_prints_a_new_key_once() -> None:
    first, second = (run_memberkit("state", "key", cwd=ROOT) for _ in range(2))
    for result in (first, second):
        assert result.returncode == 0, result.stderr
        [key] = result.stdout.splitlines()
        assert len(base64.urlsafe_b64decode(key + "=")) == 32
        assert sealed.parse_key(key)  # what MEMBERKIT_STATE_KEY takes
        assert "Keep it secret" in result.stderr and key not in result.stderr
    assert first.stdout != second.stdout


def test_seal_then_unseal_gives_back_every_file_to_the_byte(project: Path) -> None:
    before = files_of(project)
    assert sorted(before) == ["outbox/riley%40example.org.eml", "reminders.json", "state.json"]
    result = memberkit(project, "state", "seal")
    assert result.returncode == 0, result.stderr
    assert "3 member(s), 1 welcome email(s) waiting" in result.stdout
    assert "Commit memberkit.state" in result.stdout
    # No plaintext left beside it: the folder holds its lock and nothing else.
    assert [p.name for p in (project / store.STATE_DIR).iterdir()] == [store.LOCK_FILE]
    blob = (project / sealed.SEALED_FILE).read_bytes()
    for secret in (b"riley@example.org", b"another long password", b"state.json", b"casey"):
        assert secret not in blob
    assert kept_sealed(project).files() == before
    # Every command reads it; the outbox is there for `members resend`.
    listed = memberkit(project, "members", "list")
    assert listed.returncode == 0 and MEMBER.email in listed.stdout
    assert Outbox(kept_sealed(project)).waiting() == [OTHER.email]
    result = memberkit(project, "state", "unseal")
    assert result.returncode == 0, result.stderr
    assert (
        "unset MEMBERKIT_STATE_KEY" in result.stdout and "git rm memberkit.state" in result.stdout
    )
    assert not (project / sealed.SEALED_FILE).exists()
    assert files_of(project) == before
    listed = run_memberkit("members", "list", cwd=project)
    assert listed.returncode == 0 and MEMBER.email in listed.stdout


def test_seal_and_unseal_need_the_key(project: Path) -> None:
    for command in ("seal", "unseal"):
        result = memberkit(project, "state", command, env={sealed.KEY_ENV: ""})
        assert result.returncode != 0
        assert "set MEMBERKIT_STATE_KEY first" in result.stderr
        assert "memberkit state key" in result.stderr
    bad = memberkit(project, "state", "seal", env={sealed.KEY_ENV: "my-password"})
    assert bad.returncode != 0 and "not a key memberkit made" in bad.stderr
    assert "my-password" not in bad.stderr
    assert not (project / sealed.SEALED_FILE).exists()


def test_without_the_key_a_sealed_state_says_to_set_it(project: Path) -> None:
    assert memberkit(project, "state", "seal").returncode == 0
    for args in (["members", "list"], ["members", "add", "new@example.org"], ["build"]):
        result = run_memberkit(*args, cwd=project)
        assert result.returncode != 0
        assert "memberkit.state holds the private state, sealed: set MEMBERKIT_STATE_KEY" in (
            result.stderr
        )
        assert "Traceback" not in result.stderr
    assert not (project / store.STATE_DIR / store.STATE_FILE).exists()


def test_a_key_beside_an_unsealed_state_is_refused(project: Path) -> None:
    before = files_of(project)
    for args in (["members", "list"], ["members", "add", "new@example.org"], ["build"]):
        result = memberkit(project, *args)
        assert result.returncode != 0
        assert "unsealed: seal it with 'memberkit state seal', or unset" in result.stderr
    assert files_of(project) == before
    assert not (project / sealed.SEALED_FILE).exists()


def test_two_states_are_refused_key_or_no_key(project: Path, tmp_path: Path) -> None:
    """A pull brought a sealed state while an unsealed one was still here: which is current?"""
    other = copy_project(tmp_path / "other")
    assert memberkit(other, "state", "seal").returncode == 0
    shutil.copy2(other / sealed.SEALED_FILE, project / sealed.SEALED_FILE)
    sealed_bytes, before = (project / sealed.SEALED_FILE).read_bytes(), files_of(project)
    for env in (WITH_KEY, {sealed.KEY_ENV: ""}):
        for args in (["members", "list"], ["members", "add", "new@example.org"], ["build"]):
            result = memberkit(project, *args, env=env)
            assert result.returncode != 0
            assert "will not guess which is current" in result.stderr
    assert (project / sealed.SEALED_FILE).read_bytes() == sealed_bytes
    assert files_of(project) == before


def test_seal_never_overwrites_another_sealed_state(project: Path, tmp_path: Path) -> None:
    other = copy_project(tmp_path / "other")
    assert memberkit(other, "state", "seal").returncode == 0
    shutil.copy2(other / sealed.SEALED_FILE, project / sealed.SEALED_FILE)
    sealed_bytes, before = (project / sealed.SEALED_FILE).read_bytes(), files_of(project)
    result = memberkit(project, "state", "seal")
    assert result.returncode != 0
    assert "exists already and holds another private state" in result.stderr
    assert (project / sealed.SEALED_FILE).read_bytes() == sealed_bytes
    assert files_of(project) == before


def test_a_seal_cut_short_is_finished_by_sealing_again(project: Path) -> None:
    """memberkit.state written, the folder not yet emptied: the same files, so go on."""
    before = files_of(project)
    kept_sealed(project).write(before)
    result = memberkit(project, "state", "seal")
    assert result.returncode == 0, result.stderr
    assert files_of(project) == {} and kept_sealed(project).files() == before


def test_unseal_never_overwrites_a_state_in_the_folder(project: Path) -> None:
    assert memberkit(project, "state", "seal").returncode == 0
    sealed_bytes = (project / sealed.SEALED_FILE).read_bytes()
    folder = store.FolderStore(project / store.STATE_DIR)
    folder.change({"state.json": b"{}\n"})
    result = memberkit(project, "state", "unseal")
    assert result.returncode != 0
    assert "holds a private state already (state.json differs" in result.stderr
    assert folder.files() == {"state.json": b"{}\n"}
    assert (project / sealed.SEALED_FILE).read_bytes() == sealed_bytes


def test_an_unseal_cut_short_is_finished_by_unsealing_again(project: Path) -> None:
    before = files_of(project)
    assert memberkit(project, "state", "seal").returncode == 0
    store.FolderStore(project / store.STATE_DIR).change({"state.json": before["state.json"]})
    result = memberkit(project, "state", "unseal")
    assert result.returncode == 0, result.stderr
    assert files_of(project) == before and not (project / sealed.SEALED_FILE).exists()


def test_a_damaged_state_is_not_sealed(project: Path) -> None:
    path = project / store.STATE_DIR / store.STATE_FILE
    path.write_text(path.read_text()[:-40])
    result = memberkit(project, "state", "seal")
    assert result.returncode != 0 and "is damaged" in result.stderr
    assert not (project / sealed.SEALED_FILE).exists()
    assert path.is_file()


def test_nothing_to_seal_or_unseal_is_said(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project", with_state=False)
    seal = memberkit(project, "state", "seal")
    assert seal.returncode != 0 and "no private state to seal there" in seal.stderr
    unseal = memberkit(project, "state", "unseal")
    assert unseal.returncode != 0 and "there is no sealed state to unseal" in unseal.stderr


def test_gitignore_keeps_the_unsealed_state_out_and_lets_the_sealed_one_in(
    tmp_path: Path,
) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copy2(ROOT / ".gitignore", tmp_path / ".gitignore")
    paths = [
        ".memberkit/state.json",
        ".memberkit/state.lock",
        ".memberkit/outbox/a%40b.org.eml",
        ".memberkit.state.k2j4h1",  # a write's temporary file
        "memberkit.state",
    ]
    ignored = subprocess.run(
        ["git", "check-ignore", *paths], cwd=tmp_path, capture_output=True, text=True
    ).stdout.split()
    assert ignored == paths[:-1]


def test_members_list_shows_whose_membership_ended(project: Path) -> None:
    folder = store.FolderStore(project / store.STATE_DIR)
    current = folder.load()
    current.end(MEMBER.email, "2026-01-31")  # a subscription over, as `members sync` ends it
    folder.save(current)
    listed = run_memberkit("members", "list", cwd=project)
    assert listed.returncode == 0, listed.stderr
    ended = [line for line in listed.stdout.splitlines() if line.startswith(MEMBER.email)]
    assert len(ended) == 1 and ended[0].split()[-2:] == ["2026-01-31", "(ended)"]
    assert "-" in ended[0].split()  # no tier
    assert listed.stderr.strip() == (
        "2 member(s); 1 whose membership ended, told so if they sign in"
    )
