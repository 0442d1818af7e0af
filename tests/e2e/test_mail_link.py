"""From the welcome email to the members' area: the login link a real SMTP server
received signs the new member in, in Chromium behind nginx."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from ..conftest import copy_project, run_memberkit
from ..mailserver import mail_server
from .conftest import Nginx, PageWatch, serve_from

PROTECTED = "Estimating time"  # a heading below the divider of the task-briefs guide
ENV = {
    "MEMBERKIT_PBKDF2_ITERATIONS": "100000",
    "MEMBERKIT_MAIL_FROM": "Outsource Without Regret <hello@example.com>",
}


def test_the_login_link_of_a_received_welcome_email_signs_in(
    browser: Any, nginx_bin: str, tmp_path: Path
) -> None:
    server = Nginx(tmp_path / "nginx")
    try:
        project = copy_project(tmp_path / "project", with_state=False)
        serve_from(project, server.url)
        with mail_server(tmp_path / "mail") as (inbox, url, env):
            added = run_memberkit(
                "members",
                "add",
                "new.member@example.org",
                "--name",
                "Nia Newcomer",
                "--send",
                cwd=project,
                env={**ENV, "MEMBERKIT_SMTP": url, **env},
            )
        assert added.returncode == 0, added.stderr
        [message] = inbox.messages
        assert inbox.recipients == [["new.member@example.org"]]
        body = message.get_body(("plain",))
        assert body is not None
        links = re.findall(r"https?://\S+#login=[A-Za-z0-9_-]+", body.get_content())
        assert links and links[0].startswith(server.url), body.get_content()
        signs_in(browser, server, project, links[0], "Nia Newcomer")
    finally:
        server.stop()


def signs_in(browser: Any, server: Nginx, project: Path, link: str, name: str) -> None:
    """Build the project, serve it, and open `link` as the member clicks it in their
    mail program: they are signed in as `name` and read a members' part."""
    built = run_memberkit("build", cwd=project)
    assert built.returncode == 0, built.stderr
    server.serve(project / "site")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    watch = PageWatch(tab, server.url.rstrip("/"))
    tab.goto(link)
    expect(tab.locator(".mk1-account")).to_contain_text(name)
    tab.goto(server.url + "guides/task-briefs/")
    expect(tab.get_by_role("heading", name=PROTECTED)).to_be_visible()
    assert not watch.errors, watch.errors
    context.close()
