"""`memberkit serve --as`: the owner previews what each audience sees."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.request import urlopen

import pytest
from playwright.sync_api import Browser, expect

from ..conftest import run_memberkit

PROTECTED = "Estimating time"


@contextmanager
def serving(project: Path, audience: str | None = None) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    as_audience = ["--as", audience] if audience else []
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", "-a", f"127.0.0.1:{port}", *as_audience],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={k: v for k, v in os.environ.items() if k != "MEMBERKIT_STATE"},
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urlopen(url + "guides/task-briefs/", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    pytest.fail(f"memberkit serve did not start:\n{output}")
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.parametrize("audience", ["members", "public"])
def test_serve_as_an_audience(browser: Browser, project: Path, audience: str) -> None:
    with serving(project, audience) as url:
        tab = browser.new_page()
        tab.goto(url + "guides/task-briefs/")
        if audience == "members":
            expect(tab.get_by_role("heading", name=PROTECTED)).to_be_visible()
            expect(tab.locator(".mk1-account")).to_contain_text("Preview: members")
        else:
            expect(tab.get_by_role("button", name="Sign in")).to_be_visible()
            assert PROTECTED not in tab.content()
        tab.close()


def test_a_built_site_never_carries_a_preview_key(project: Path) -> None:
    os.environ["MEMBERKIT_PREVIEW_AS"] = "members"
    try:
        result = run_memberkit("build", cwd=project)
    finally:
        del os.environ["MEMBERKIT_PREVIEW_AS"]
    assert result.returncode == 0, result.stderr
    for page in (project / "site").rglob("*.html"):
        assert "mk1-preview" not in page.read_text(), page


def test_the_preview_reloads_on_a_change_without_a_policy_error(
    browser: Browser, project: Path
) -> None:
    """MkDocs' reload script is inline: the page's policy must allow it, in the preview."""
    with serving(project) as url:
        tab = browser.new_page()
        errors: list[str] = []
        tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.goto(url + "about/")
        heading = tab.get_by_role("heading", level=1)
        expect(heading).to_contain_text("About")
        tab.evaluate("window.mkSamePage = true")  # gone once the page reloads
        about = project / "docs" / "about.md"
        about.write_text(about.read_text().replace("\n# About\n", "\n# About this site\n", 1))
        expect(heading).to_contain_text("About this site", timeout=90_000)
        assert tab.evaluate("window.mkSamePage") is None, "the text changed without a reload"
        assert not errors, errors
        tab.close()
