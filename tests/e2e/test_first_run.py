"""README command 1 on a fresh clone, and `memberkit serve` in a site just written by
`memberkit new` (memberkit installed from its wheel): with no roster, it creates a demo
member, prints its login, and that login opens the members' area in Chromium."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest
from playwright.sync_api import expect

from ..conftest import copy_project
from .conftest import _free_port

#: Each site, and a heading of a members' part to read once signed in.
SITES = {
    "bundled": ("guides/task-briefs/", "Estimating time"),
    "starter": ("guides/handing-over-access/", "The password you cannot avoid sharing"),
}


@pytest.mark.parametrize("site", sorted(SITES))
def test_first_run_prints_a_demo_login_that_works(
    browser: Any, tmp_path: Path, site: str, request: pytest.FixtureRequest
) -> None:
    if site == "bundled":
        project = copy_project(tmp_path / "fresh", with_state=False)
        command = [sys.executable, "-m", "generator"]
        env = {k: v for k, v in os.environ.items() if k != "MEMBERKIT_STATE"}
    else:
        installed = request.getfixturevalue("installed_memberkit")
        assert installed.run("new", "fresh", cwd=tmp_path).returncode == 0
        project, command, env = tmp_path / "fresh", installed.command, installed.environment()
    guide, heading = SITES[site]
    port = _free_port()
    process = subprocess.Popen(
        [*command, "serve", "-a", f"127.0.0.1:{port}"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    printed: list[str] = []
    try:
        deadline = time.monotonic() + 120
        link = None
        while link is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            printed.append(line)
            found = re.search(r"login link:\s+(\S+)", line)
            link = found.group(1) if found else None
        assert link, "no login link printed:\n" + "".join(printed)
        text = "".join(printed)
        assert "demo@example.com" in text and re.search(r"password:\s+\S{10,}", text)
        while True:  # the preview is up once the home page answers
            try:
                with urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "".join(printed)
                time.sleep(0.3)
        tab = browser.new_page()
        tab.goto(link)
        expect(tab.locator(".mk1-account")).to_contain_text("Demo Member")
        tab.goto(f"http://127.0.0.1:{port}/{guide}")
        expect(tab.get_by_role("heading", name=heading)).to_be_visible()
        tab.close()
        assert (project / ".memberkit" / "state.json").exists()
    finally:
        process.terminate()
        process.wait(timeout=20)
