"""The command line: help, output and where the site goes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import cli
from generator.members import store

from ..conftest import nginx_check, run_memberkit
from ..protection.test_attacks import every_text


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


def test_materials_end_of_life_banner_shows_in_mkdocs_not_in_memberkit(project: Path) -> None:
    """Material prints its banner when run as `mkdocs`; the memberkit command hides it."""
    import sys

    env = {k: v for k, v in os.environ.items() if "MKDOCS_2_WARNING" not in k}

    def build_output(*command: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", *command, "build"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout + done.stderr

    assert "end of life" in build_output("mkdocs")
    assert "end of life" not in build_output("generator")


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


@pytest.mark.skipif(
    shutil.which("nginx") is None and os.environ.get("CI") != "true",
    reason="nginx is not installed (CI installs it; sudo apt-get install nginx)",
)
def test_memberkit_nginx_prints_a_server_block_nginx_accepts(project: Path, tmp_path: Path) -> None:
    assert run_memberkit("build", cwd=project).returncode == 0
    result = run_memberkit(
        "nginx",
        "--root",
        "/srv/members",
        "--server-name",
        "members.example.com",
        "--listen",
        "127.0.0.1:8089",
        cwd=project,
    )
    assert result.returncode == 0, result.stderr
    block = result.stdout
    assert "root /srv/members;" in block and "server_name members.example.com;" in block
    assert "listen 127.0.0.1:8089;" in block
    assert "Content-Security-Policy" in block and "location = /mk1/keystore.json" in block
    checked = nginx_check(block, tmp_path)
    assert checked.returncode == 0, checked.stderr


def test_build_reads_the_state_named_by_memberkit_state(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "secrets"
    shutil.move(str(project / store.STATE_DIR), elsewhere)
    without = run_memberkit("build", cwd=project)
    assert without.returncode != 0 and "no private state" in without.stderr
    result = run_memberkit("build", cwd=project, env={store.STATE_ENV: str(elsewhere)})
    assert result.returncode == 0, result.stderr
    keystore = json.loads((project / "site/mk1/keystore.json").read_text())
    assert keystore["site"] == store.load(elsewhere).site
    assert not (project / store.STATE_DIR).exists()


def test_the_private_state_never_reaches_the_site(project: Path) -> None:
    assert run_memberkit("build", cwd=project).returncode == 0
    site = project / "site"
    names = {p.name for p in site.rglob("*")}
    assert store.STATE_DIR not in names and store.STATE_FILE not in names
    state = store.load(project / store.STATE_DIR)
    secrets = [state.secret, *(m.kek for m in state.members.values())]
    secrets += [k.k for k in state.tier_keys().values()]
    everything = every_text(site)
    for secret in secrets:
        assert secret not in everything
