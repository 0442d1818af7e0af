"""The package as owners get it: the sdist and the wheel carry the starter and the
bundled site, and the installed `memberkit`, with no clone at hand, writes, builds and
checks a new site."""

from __future__ import annotations

import subprocess
import tarfile
import tomllib
import zipfile
from pathlib import Path

from generator.starter import writer

from ..conftest import MEMBER, ROOT, InstalledMemberkit
from .test_new import STARTER_FILES, bundled_site_files, files_under

EXAMPLE = "generator/starter/example/"


def test_the_wheel_and_the_sdist_carry_the_starter_and_the_bundled_site(
    installed_memberkit: InstalledMemberkit,
) -> None:
    with zipfile.ZipFile(installed_memberkit.wheel) as wheel:
        names = set(wheel.namelist())
    starter = {n.removeprefix("generator/starter/files/") for n in names if "/starter/files/" in n}
    assert starter == {n for n in STARTER_FILES if not n.startswith((".github/", "emails/"))}
    example = {n.removeprefix(EXAMPLE) for n in names if n.startswith(EXAMPLE)}
    assert example == set(bundled_site_files()) - {".gitignore"}
    # Every package of the source is in the wheel (pyproject.toml lists them by hand).
    packages = {
        str(p.parent.relative_to(ROOT)).replace("/", ".")
        for p in (ROOT / "generator").rglob("__init__.py")
    }
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert set(listed["packages"]) == packages | {"generator.starter.example"}
    assert {f"{p.replace('.', '/')}/__init__.py" for p in packages} <= names
    # Sensible in size: no built site, cache or environment slipped in.
    assert installed_memberkit.wheel.stat().st_size < 1_000_000
    assert not [n for n in names if "/site/" in n or "__pycache__" in n or ".venv" in n]

    with tarfile.open(installed_memberkit.sdist) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if m.isfile()}
    assert {f"generator/starter/files/{n}" for n in starter} <= members
    assert set(bundled_site_files()) - {".gitignore"} <= members


def test_the_installed_memberkit_runs_from_its_own_environment(
    installed_memberkit: InstalledMemberkit, tmp_path: Path
) -> None:
    where = subprocess.run(
        [
            installed_memberkit.venv / "bin" / "python",
            "-c",
            "import generator; print(generator.__file__)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(installed_memberkit.venv), where
    assert not Path(where).is_relative_to(ROOT)
    version = installed_memberkit.run("--version", cwd=tmp_path)
    assert version.returncode == 0 and "memberkit, version" in version.stdout


def test_the_installed_memberkit_writes_builds_and_checks_the_starter(
    installed_memberkit: InstalledMemberkit, tmp_path: Path
) -> None:
    run = installed_memberkit.run
    result = run("new", "my-site", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    project = tmp_path / "my-site"
    assert files_under(project) == writer.site_files()
    added = run(
        *("members", "add", MEMBER.email, "--name", MEMBER.name, "--password-stdin"),
        cwd=project,
        stdin=MEMBER.password + "\n",
    )
    assert added.returncode == 0, added.stderr
    built = run("build", cwd=project)
    assert built.returncode == 0, built.stderr
    assert built.stderr == "", built.stderr
    assert (project / "site/guides/handing-over-access/index.html").is_file()
    checked = run("check", cwd=project)
    assert checked.returncode == 0, checked.stderr
    assert "No protected text found in site/" in checked.stdout


def test_the_installed_memberkit_writes_the_bundled_site_which_builds(
    installed_memberkit: InstalledMemberkit, tmp_path: Path
) -> None:
    run = installed_memberkit.run
    result = run("new", "--example", "example", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    project = tmp_path / "example"
    assert files_under(project) == bundled_site_files()
    added = run(
        *("members", "add", MEMBER.email, "--password-stdin"),
        cwd=project,
        stdin=MEMBER.password + "\n",
    )
    assert added.returncode == 0, added.stderr
    built = run("build", cwd=project)
    assert built.returncode == 0, built.stderr
    assert built.stderr == ""
    assert len(list((project / "site/templates").glob("*/index.html"))) == 12
