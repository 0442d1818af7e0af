"""The command line: help, output and where the site goes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import cli

from .conftest import run_memberkit


@pytest.mark.parametrize("command", [[], ["build"], ["serve"]])
def test_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage: " in result.output
    assert "--config-file" in result.output or not command


def test_build_output_is_one_concise_line(project: Path) -> None:
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("Built ") and "site/" in result.stdout
    assert len(result.stdout.splitlines()) == 1
    assert "end of life" not in result.stdout + result.stderr


def test_build_from_elsewhere_with_config_file_and_site_dir(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere" / "public"
    result = run_memberkit("build", "-f", str(project / "mkdocs.yml"), "-d", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # Snippets resolve against mkdocs.yml, not the directory the command ran in.
    assert "Not legal or tax advice" in (out / "three-mistakes/index.html").read_text()


def test_rebuild_replaces_the_site(project: Path) -> None:
    assert run_memberkit("build", cwd=project).returncode == 0
    stale = project / "site" / "stale.txt"
    stale.write_text("left from an old build")
    assert run_memberkit("build", cwd=project).returncode == 0
    assert not stale.exists()
    assert (project / "site" / "index.html").is_file()
