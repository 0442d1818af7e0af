"""A site with two tiers in Chromium behind nginx: each member reads, searches and
downloads what their tier allows, and is told when a page is not in their membership;
`?next=` brings a member back to the page they wanted after signing in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from ..conftest import (
    MEMBER,
    TestMember,
    copy_project,
    run_memberkit,
    tier_keys,
    write_state,
)
from .conftest import Nginx, PageWatch, sign_in

PREMIUM = TestMember(
    "pat@example.com", "Pat Premium", "a premium long password 31", tiers=("members", "premium")
)
PREMIUM_HEADING = "Negotiating a retainer"
PREMIUM_WORD = "quinquennial"  # in the premium guide's members' part only


@pytest.fixture(scope="module")
def tiered_site(tmp_path_factory: pytest.TempPathFactory, nginx_bin: str) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("tiers")
    server = Nginx(tmp / "nginx")
    port = server.port
    project = copy_project(tmp / "project", with_state=False)
    write_state(project, (MEMBER, PREMIUM))
    config = project / "mkdocs.yml"
    text = re.sub(r"(?m)^site_url: .*$", f"site_url: http://127.0.0.1:{port}/", config.read_text())
    text = text.replace("      tiers: [members]", "      tiers: [members, premium]")
    assert "tiers: [members, premium]" in text, "mkdocs.yml declares its tiers elsewhere"
    config.write_text(text)
    (project / "docs/guides/retainers.md").write_text(
        "---\ntitle: Retainers\naccess: premium\n---\n# Retainers\n\nFor premium members.\n\n"
        f"<!-- more -->\n\n## {PREMIUM_HEADING}\n\nAgree a {PREMIUM_WORD} review of the fee.\n"
    )
    text = config.read_text()
    config.write_text(
        text.replace(
            "      - guides/task-briefs.md\n",
            "      - guides/task-briefs.md\n      - guides/retainers.md\n",
            1,
        )
    )
    (project / "templates/retainer-review.md").write_text(
        "---\ntitle: Retainer review\nsummary: A yearly review of a retainer.\n"
        "category: Money\nwhen_to_use: Once a year.\naccess: premium\nfields:\n"
        "  - name: fee\n    label: Monthly fee\n    example: 900 USD\n---\n"
        "# Retainer review\n\nThe fee stays at {{ fee }} for another year.\n"
    )
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    url = server.serve(project / "site")
    tiered_site_projects[url] = str(project)
    yield url
    server.stop()


@pytest.fixture(scope="module")
def tiered_project(tiered_site: str) -> Path:
    return Path(tiered_site_projects[tiered_site])


tiered_site_projects: dict[str, str] = {}


def _member_tab(browser: Any, site: str, member: TestMember) -> tuple[Any, PageWatch, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    watch = PageWatch(tab, site.rstrip("/"))
    sign_in(tab, site, member)
    return tab, watch, context


def _search(tab: Any, words: str) -> Any:
    tab.get_by_role("textbox", name="Search").click()
    tab.keyboard.type(words)
    return tab.locator(".md-search-result__item")


def test_each_tier_reads_and_searches_what_it_holds(browser: Any, tiered_site: str) -> None:
    tab, watch, context = _member_tab(browser, tiered_site, MEMBER)
    tab.goto(tiered_site + "guides/retainers/")
    expect(tab.get_by_text("Your membership does not include this page.")).to_be_visible()
    assert PREMIUM_HEADING not in tab.content()
    tab.goto(tiered_site + "guides/task-briefs/")
    expect(tab.get_by_role("heading", name="Estimating time")).to_be_visible()
    results = _search(tab, PREMIUM_WORD)
    expect(tab.locator(".md-search-result__meta")).to_contain_text("No matching documents")
    assert results.count() == 0
    context.close()
    assert not watch.errors, watch.errors

    tab, watch, context = _member_tab(browser, tiered_site, PREMIUM)
    tab.goto(tiered_site + "guides/retainers/")
    expect(tab.get_by_role("heading", name=PREMIUM_HEADING)).to_be_visible()
    expect(_search(tab, PREMIUM_WORD).first).to_contain_text(PREMIUM_HEADING)
    context.close()
    assert not watch.errors, watch.errors


def test_each_tier_has_its_own_bundle(tiered_site: str, tiered_project: Path) -> None:
    """ "Download all": members get the members' templates, premium members theirs."""
    import io
    import zipfile
    from urllib.request import urlopen

    from generator.protection import mk1

    site, keys = tier_keys(tiered_project)
    contents = {}
    for tier in ("members", "premium"):
        path = f"downloads/all-templates-{tier}.zip"
        with urlopen(f"{tiered_site}{path}.mk1") as response:
            envelope = response.read()
        _, data = mk1.open_envelope(envelope, keys, site=site, path=path)
        contents[tier] = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert any("retainer-review" in name for name in contents["premium"])
    assert not any("retainer-review" in name for name in contents["members"])
    assert any("task-brief" in name for name in contents["members"])


def test_signing_in_goes_on_to_the_page_asked_for(browser: Any, tiered_site: str) -> None:
    for next_page, lands_on in (
        ("guides/task-briefs/", "guides/task-briefs/"),
        ("https://elsewhere.example/", ""),  # never to another site: home instead
    ):
        context = browser.new_context()
        tab = context.new_page()
        tab.goto(f"{tiered_site}login/?next={next_page}")
        tab.get_by_label("Email", exact=True).fill(MEMBER.email)
        tab.get_by_label("Password", exact=True).fill(MEMBER.password)
        tab.get_by_role("button", name="Sign in").click()
        expect(tab).to_have_url(tiered_site + lands_on)
        expect(tab.locator(".mk1-account")).to_contain_text(MEMBER.name)
        context.close()


def test_a_member_given_a_tier_reads_it_without_signing_in_again(
    browser: Any, tiered_site: str, tiered_project: Path, tmp_path: Path
) -> None:
    """An upgrade (a checkout export imported again with a new tier): the member's
    browser, signed in before, renews its keys where the tier is missing.
    Last in this module: the member holds the premium tier from here on."""
    tab, watch, context = _member_tab(browser, tiered_site, MEMBER)
    tab.goto(tiered_site + "guides/retainers/")
    expect(tab.get_by_text("Your membership does not include this page.")).to_be_visible()
    export = tmp_path / "upgrades.csv"
    export.write_text(f"email,name,tier,expires\n{MEMBER.email},{MEMBER.name},premium,\n")
    imported = run_memberkit(
        "members",
        "import",
        str(export),
        "--passwords-out",
        str(tmp_path / "logins.csv"),
        cwd=tiered_project,
        env={"MEMBERKIT_PBKDF2_ITERATIONS": "100000"},
    )
    assert imported.returncode == 0, imported.stderr
    built = run_memberkit("build", cwd=tiered_project)
    assert built.returncode == 0, built.stderr

    tab.goto(tiered_site + "about/")
    tab.goto(tiered_site + "guides/retainers/")
    expect(tab.get_by_role("heading", name=PREMIUM_HEADING)).to_be_visible()
    expect(tab.locator(".mk1-account")).to_contain_text(MEMBER.name)
    context.close()
    assert not watch.errors, watch.errors
