"""Shared fixtures: a copy of the bundled project to build and break in tmp_path."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PARTS = ("mkdocs.yml", "docs", "snippets", "templates")


def copy_project(dest: Path) -> Path:
    """Copy the bundled content (not site/ or private state) into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, dest / part)
        else:
            shutil.copy2(source, dest / part)
    return dest


def run_memberkit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the real command line, as the owner would, in another process."""
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def tree_digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the SHA-256 of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def bundled_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled content built once with the real CLI; returns the site folder."""
    project = copy_project(tmp_path_factory.mktemp("bundled"))
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", f"the bundled site must build without a warning:\n{result.stderr}"
    return project / "site"
