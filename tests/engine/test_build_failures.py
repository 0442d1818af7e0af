"""Bad input stops the build with one clear line and leaves the last good site alone."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ..conftest import run_memberkit, tree_digest


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def broken_front_matter(project: Path) -> None:
    replace_in(project / "docs/guides/task-briefs.md", "access: members", "access: [members")


def unknown_access(project: Path) -> None:
    replace_in(project / "docs/guides/task-briefs.md", "access: members", "access: gold")


def missing_snippet(project: Path) -> None:
    replace_in(project / "docs/about.md", "# About", '# About\n\n--8<-- "no-such-piece.md"\n')


def broken_link(project: Path) -> None:
    replace_in(project / "docs/about.md", "# About", "# About\n\nSee [the pricing](pricing.md).\n")


def second_divider(project: Path) -> None:
    path = project / "docs/guides/task-briefs.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n<!-- more -->\n", encoding="utf-8")


# The line of that second divider, counted from the top of the file (front matter too).
BRIEFS = Path(__file__).parents[2] / "docs/guides/task-briefs.md"
SECOND_DIVIDER_LINE = len(BRIEFS.read_text(encoding="utf-8").splitlines()) + 2


def unknown_folder_tier(project: Path) -> None:
    replace_in(project / "mkdocs.yml", "guides/: members", "guides/: gold")


def misspelled_access(project: Path) -> None:
    # The article is public by its own front matter; written `Access: members` on a
    # guide of the members' folder it would have fallen back to that folder's tier, and
    # on a public page the paid text would have gone out.
    replace_in(project / "docs/three-mistakes.md", "access: public", "acess: members")


def undeclared_blank(project: Path) -> None:
    replace_in(project / "templates/task-brief.md", "## ", "Owner: {{ owner_phone }}\n\n## ")


def unused_field(project: Path) -> None:
    replace_in(
        project / "templates/task-brief.md",
        "fields:\n",
        "fields:\n  - name: spare_field\n    label: Spare\n    example: x\n",
    )


def duplicate_slug(project: Path) -> None:
    text = (project / "templates/task-brief.md").read_text(encoding="utf-8")
    (project / "templates/another-brief.md").write_text(
        text.replace("title:", "slug: task-brief\ntitle:", 1), encoding="utf-8"
    )


def bad_sheet(project: Path) -> None:
    replace_in(project / "templates/timesheet.md", "formula: ", "formula: nonsense_key + ")


CASES: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "broken front matter": (broken_front_matter, ["docs/guides/task-briefs.md:", "YAML"]),
    "unknown access": (unknown_access, ["docs/guides/task-briefs.md", "'gold'", "members"]),
    "missing snippet": (missing_snippet, ["about.md", "no-such-piece.md"]),
    "broken link": (broken_link, ["about.md", "pricing.md"]),
    "second divider": (
        second_divider,
        [f"docs/guides/task-briefs.md:{SECOND_DIVIDER_LINE}:", "second teaser divider"],
    ),
    "unknown folder tier": (unknown_folder_tier, ["mkdocs.yml", "'gold'"]),
    "misspelled access": (
        misspelled_access,
        ["docs/three-mistakes.md:4:", "'acess'", "did you mean 'access'"],
    ),
    "undeclared blank": (undeclared_blank, ["templates/task-brief.md:", "owner_phone"]),
    "unused field": (unused_field, ["templates/task-brief.md", "'spare_field'", "never used"]),
    "duplicate slug": (duplicate_slug, ["templates/another-brief.md", "task-brief"]),
    "bad spreadsheet spec": (bad_sheet, ["templates/timesheet.md", "nonsense_key"]),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_fails_naming_the_file_and_keeps_site(project: Path, case: str) -> None:
    first = run_memberkit("build", cwd=project)
    assert first.returncode == 0, first.stderr
    before = tree_digest(project / "site")
    assert before

    break_it, expected = CASES[case]
    break_it(project)
    result = run_memberkit("build", cwd=project)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in expected:
        assert fragment in result.stderr, f"{fragment!r} missing from:\n{result.stderr}"
    assert "previous site was left unchanged" in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3, result.stderr
    assert tree_digest(project / "site") == before
    assert not list(project.glob(".site-*")), "temporary build folders were left behind"


def test_a_first_failed_build_writes_no_site(project: Path) -> None:
    unknown_access(project)
    result = run_memberkit("build", cwd=project)
    assert result.returncode != 0
    assert not (project / "site").exists()
    assert not list(project.glob(".site-*"))


def test_missing_config_is_one_clear_line(tmp_path: Path) -> None:
    result = run_memberkit("build", cwd=tmp_path)
    assert result.returncode != 0
    assert "mkdocs.yml: no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_build_started_from_an_owners_script_runs_once(project: Path) -> None:
    """A script without `if __name__ == "__main__"` calls MkDocs: the helper process
    must not run the script again (it would start a second build inside the first)."""
    script = project / "publish.py"
    script.write_text(
        "from mkdocs.__main__ import cli\n"
        "print('building')\n"
        "cli.main(['build', '-q'], standalone_mode=False)\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)], cwd=project, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("building") == 1
    assert (project / "site" / "guides" / "task-briefs" / "index.html").is_file()
