"""A new owner's first site in Chromium behind nginx: written, built and checked by
memberkit installed from its wheel, with no clone at hand; a visitor meets the guide's
teaser and the join box, a member signs in and reads the guide and fills in a template."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from ..conftest import MEMBER, InstalledMemberkit
from .conftest import Nginx, serve_from, sign_in, watched_tab
from .test_accessibility import violations

GUIDE = "guides/handing-over-access/"
MEMBERS_HEADING = "The password you cannot avoid sharing"


@pytest.fixture(scope="module")
def starter_site(
    tmp_path_factory: pytest.TempPathFactory,
    nginx_bin: str,
    installed_memberkit: InstalledMemberkit,
) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("starter-e2e")
    server = Nginx(tmp / "nginx")
    run = installed_memberkit.run
    assert run("new", "my-site", cwd=tmp).returncode == 0
    project = tmp / "my-site"
    added = run(
        *("members", "add", MEMBER.email, "--name", MEMBER.name, "--password-stdin"),
        cwd=project,
        stdin=MEMBER.password + "\n",
    )
    assert added.returncode == 0, added.stderr
    serve_from(project, server.url)  # a local address: the placeholders stay notes
    for command in ("build", "check"):
        result = run(command, cwd=project)
        assert result.returncode == 0, result.stderr
    yield server.serve(project / "site")
    server.stop()


def test_a_visitor_meets_the_teaser_and_a_member_reads_the_starters_guide(
    browser: Any, starter_site: str
) -> None:
    with watched_tab(browser, starter_site) as (tab, _):
        tab.goto(starter_site + GUIDE)
        expect(tab.get_by_text("before the first task starts")).to_be_visible()
        expect(tab.locator(".mk1-join__price")).to_have_text("[Price] a month")
        assert MEMBERS_HEADING not in tab.content()

        sign_in(tab, starter_site)
        tab.goto(starter_site + GUIDE)
        expect(tab.get_by_role("heading", name=MEMBERS_HEADING)).to_be_visible()
        expect(tab.locator(".mk1-join")).to_be_hidden()


def test_a_member_fills_in_a_starter_template(browser: Any, starter_site: str) -> None:
    with watched_tab(browser, starter_site) as (tab, _):
        sign_in(tab, starter_site)
        tab.goto(starter_site + "templates/access-request/")
        tab.get_by_label("Your name", exact=True).fill("Ana Lima")
        expect(tab.get_by_role("heading", name="Access request: Ana Lima")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_starters_pages_pass_axe_for_visitors_and_members(
    browser: Any, starter_site: str, scheme: str
) -> None:
    found: dict[str, list[str]] = {}
    with watched_tab(browser, starter_site, color_scheme=scheme) as (tab, _):
        for path in ("", "shared-passwords/", GUIDE, "templates/", "join/", "about/"):
            tab.goto(starter_site + path)
            found[f"visitor: /{path}"] = violations(tab)
        sign_in(tab, starter_site)
        for path in (GUIDE, "templates/access-register/"):
            tab.goto(starter_site + path)
            tab.locator(".md-content").first.wait_for()
            found[f"member: /{path}"] = violations(tab)
    bad = {page: v for page, v in found.items() if v}
    assert not bad, "\n".join(f"{p}: {v}" for p, v in bad.items())
