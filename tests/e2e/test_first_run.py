"""README command 1 on a fresh clone: `memberkit serve` with no roster creates a demo
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

from playwright.sync_api import expect

from ..conftest import copy_project
from .conftest import _free_port


def test_first_run_prints_a_demo_login_that_works(browser: Any, tmp_path: Path) -> None:
    project = copy_project(tmp_path / "fresh", with_state=False)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "-a", f"127.0.0.1:{port}"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "MEMBERKIT_STATE"},
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
        tab.goto(f"http://127.0.0.1:{port}/guides/task-briefs/")
        expect(tab.get_by_role("heading", name="Estimating time")).to_be_visible()
        tab.close()
        assert (project / ".memberkit" / "state.json").exists()
    finally:
        process.terminate()
        process.wait(timeout=20)
