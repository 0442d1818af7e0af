"""`memberkit new`: a new site in one command, which builds, and a folder left alone."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator import __version__
from generator.cli import cli
from generator.errors import MemberkitError
from generator.starter import writer

from ..conftest import MEMBER, ROOT, member_view, run_memberkit

#: What the starter holds, and nothing else.
STARTER_FILES = {
    "mkdocs.yml",
    ".gitignore",
    ".github/workflows/publish.yml",
    "docs/index.md",
    "docs/shared-passwords.md",
    "docs/guides/handing-over-access.md",
    "docs/join.md",
    "docs/about.md",
    "templates/access-request.md",
    "templates/access-register.md",
    "snippets/join-cta.md",
    "emails/welcome.md",
    "emails/reminder.md",
}


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def bundled_site_files() -> dict[str, bytes]:
    """The bundled site of this repository, as `--example` must write it: its own
    files, the starter's .gitignore, and the workflow installing this release."""
    expected: dict[str, bytes] = {}
    for part in writer.EXAMPLE_PARTS:
        source = ROOT / part
        if source.is_dir():
            expected.update({f"{part}/{name}": data for name, data in files_under(source).items()})
        else:
            expected[part] = source.read_bytes()
    expected[".gitignore"] = (writer.STARTER / ".gitignore").read_bytes()
    from_source, release = "run: python -m pip install .\n", f'"memberkit=={__version__}"'
    workflow = expected[writer.WORKFLOW].decode()
    assert from_source in workflow
    expected[writer.WORKFLOW] = workflow.replace(
        from_source, f"run: python -m pip install {release}\n"
    ).encode()
    return expected


def add_member(project: Path) -> None:
    result = run_memberkit(
        *("members", "add", MEMBER.email, "--name", MEMBER.name, "--password-stdin"),
        cwd=project,
        stdin=MEMBER.password + "\n",
    )
    assert result.returncode == 0, result.stderr


def test_new_writes_the_starter_and_says_what_to_do_next(tmp_path: Path) -> None:
    result = run_memberkit("new", "my-site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    site = tmp_path / "my-site"
    written = files_under(site)
    assert set(written) == STARTER_FILES
    assert written["emails/welcome.md"] == (ROOT / "generator/assets/email-welcome.md").read_bytes()
    assert b"/.memberkit/" in written[".gitignore"]
    workflow = written[".github/workflows/publish.yml"].decode()
    assert f'python -m pip install "memberkit=={__version__}"' in workflow
    assert "pip install .\n" not in workflow
    assert "<!-- more -->" in written["docs/guides/handing-over-access.md"].decode()
    # The three next commands, in order: add a member, serve, publish.
    out = result.stdout
    assert out.startswith("Wrote a new site into my-site/ (13 files).")
    assert "cd my-site\n" in out
    steps = [out.index(c) for c in ("memberkit members add", "memberkit serve", "memberkit build")]
    assert steps == sorted(steps)
    assert not list(tmp_path.glob("**/.memberkit-new-*")), "the staging folder was left"


def test_the_starter_builds_strict_opens_for_members_and_passes_the_leak_check(
    tmp_path: Path,
) -> None:
    assert run_memberkit("new", "site-src", cwd=tmp_path).returncode == 0
    project = tmp_path / "site-src"
    add_member(project)
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", f"the starter must build without a warning:\n{result.stderr}"
    assert "strict: true" in (project / "mkdocs.yml").read_text()
    check = run_memberkit("check", cwd=project)
    assert check.returncode == 0 and "No protected text found" in check.stdout, check.stderr
    site = project / "site"
    guide = (site / "guides/handing-over-access/index.html").read_text(encoding="utf-8")
    assert "before the first task starts" in guide  # the teaser, public
    assert "The password you cannot avoid sharing" not in guide  # below the divider
    opened = member_view(project, "guides/handing-over-access/")
    assert "The password you cannot avoid sharing" in opened
    for template in ("access-request", "access-register"):
        assert (site / "templates" / template / "index.html").is_file()
    # The price is one setting: the join page, the home page and the join box show it.
    assert "Join for [Price] a month" in (site / "join/index.html").read_text(encoding="utf-8")
    assert "<strong>[Price] a month</strong>" in (site / "index.html").read_text(encoding="utf-8")
    assert '<p class="mk1-join__price">[Price] a month</p>' in guide


def test_the_starters_placeholders_stop_a_build_for_a_real_address_until_set(
    tmp_path: Path,
) -> None:
    assert run_memberkit("new", "s", cwd=tmp_path).returncode == 0
    project = tmp_path / "s"
    add_member(project)
    config = project / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "site_url: https://members.example.com/", "site_url: https://learn.pantry.biz/"
        )
    )
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 1
    warned = re.findall(r"^warning: memberkit: (.*?)(?: still| is still)", result.stderr, re.M)
    assert warned == [
        "mkdocs.yml: plugins.memberkit.checkout_url",
        "mkdocs.yml: site_name",
        "mkdocs.yml: copyright",
        "mkdocs.yml: plugins.memberkit.price",
    ], result.stderr
    for path in (config, project / "docs/join.md"):
        path.write_text(
            path.read_text()
            .replace("[Site name]", "Pantry Academy")
            .replace("[Price]", "$12")
            .replace("https://example.com/checkout", "https://buy.stripe.com/x")
        )
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_new_refuses_a_folder_that_is_not_empty_and_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("my own notes")
    result = run_memberkit("new", "mine", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr == (
        "Error: mine: the folder is not empty; give a new folder, or an empty one\n"
    )
    assert files_under(folder) == {"notes.txt": b"my own notes"}
    assert result.stdout == ""


def test_new_writes_into_an_empty_folder_it_is_run_in(tmp_path: Path) -> None:
    result = run_memberkit("new", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert set(files_under(tmp_path)) == STARTER_FILES
    assert "\n  cd " not in result.stdout  # already there


def test_new_refuses_a_file_and_a_folder_in_no_folder(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("x")
    for target, message in (
        ("taken", "taken: it is a file, not a folder; give a new folder's name"),
        ("nowhere/s", f"nowhere/s: the folder {tmp_path}/nowhere does not exist; create it first"),
    ):
        result = run_memberkit("new", target, cwd=tmp_path)
        assert (result.returncode, result.stdout) == (1, "")
        assert result.stderr == f"Error: {message}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]
    assert (tmp_path / "taken").read_text() == "x"


def test_a_failure_while_writing_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A disk that fills up half-way: neither the new folder nor a part of the site stays."""
    written: list[Path] = []
    write_bytes = Path.write_bytes

    def fill_up(path: Path, data: bytes) -> int:
        if len(written) == 5:
            raise OSError(28, "No space left on device")
        written.append(path)
        return write_bytes(path, data)

    monkeypatch.setattr(Path, "write_bytes", fill_up)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["new", "full"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: full: cannot write the site (No space left on device); nothing was left in it\n"
    )
    assert len(written) == 5 and not (tmp_path / "full").exists()
    assert list(tmp_path.iterdir()) == []

    # The same in a folder that was there, empty: it stays, empty.
    written.clear()
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["new", "empty"])
    assert result.exit_code == 1 and list((tmp_path / "empty").iterdir()) == []


def test_new_says_so_when_the_folder_cannot_be_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unwritable parent folder (simulated: the tests may run as root)."""

    def refuse(path: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["new", "locked"])
    assert result.exit_code == 1
    assert result.output == "Error: locked: cannot write into it (Permission denied)\n"
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert list(tmp_path.iterdir()) == []


def test_example_writes_the_bundled_site(tmp_path: Path) -> None:
    result = run_memberkit("new", "--example", "example", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = files_under(tmp_path / "example")
    assert written == bundled_site_files()
    assert len([n for n in written if n.startswith("templates/")]) == 12
    assert len([n for n in written if n.startswith("docs/guides/") and "index" not in n]) == 6
    assert result.stdout.startswith("Wrote the example site into example/ ")


def test_the_bundled_workflow_is_the_one_a_new_site_adapts() -> None:
    """The starter gets the bundled workflow; it must keep the line to change."""
    text = (ROOT / writer.WORKFLOW).read_text()
    assert writer.installing_this_release(text) != text
    with pytest.raises(MemberkitError, match=re.escape("no line 'run: python -m pip install .'")):
        writer.installing_this_release(text.replace("pip install .", "pip install memberkit"))


def test_git_ignores_what_the_starters_gitignore_names(tmp_path: Path) -> None:
    assert run_memberkit("new", "g", cwd=tmp_path).returncode == 0
    project = tmp_path / "g"
    for private in (".memberkit/state.json", "site/index.html", ".cache/memberkit/x"):
        (project / private).parent.mkdir(parents=True, exist_ok=True)
        (project / private).write_text("x")
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    shown = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ".memberkit" not in shown and "site/" not in shown and ".cache" not in shown
    assert "docs/index.md" in shown and ".github/workflows/publish.yml" in shown
