"""A member whose email has an international domain signs in, in Chromium behind nginx,
with the domain in Unicode or in ASCII, and reads a members' page. So does a member the
roster keeps with the domain as typed (added before it kept the ASCII form)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from playwright.sync_api import expect

from generator.members import state, store
from generator.protection import mk1

from ..conftest import TEST_ITERATIONS, TestMember, run_memberkit
from .conftest import Nginx, sign_in, watched_tab

MEMBER = TestMember("jo@bücher.example", "Jo Bücher", "a bookish long password 58")
#: Kept with the domain as typed: keys made from `lee@straße.example`.
EARLIER = TestMember("lee@straße.example", "Lee Earlier", "an earlier long password 64")
#: Added now: kept as `kim@xn--strae-oqa.example`; "ß" is no "ss" here.
SHARP = TestMember("kim@straße.example", "Kim Sharp", "a sharp long password 31")
SECRET = "The walrus ledger closes on Fridays."


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, nginx_bin: str) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("international")
    server = Nginx(tmp / "nginx")
    project = tmp / "project"
    (project / "docs" / "guides").mkdir(parents=True)
    (project / "mkdocs.yml").write_text(
        f"site_name: Letters\nsite_url: http://127.0.0.1:{server.port}/\n"
        "theme:\n  name: material\n  font: false\n"
        "plugins:\n  - search\n  - memberkit:\n      access:\n        guides/: members\n"
    )
    (project / "docs/index.md").write_text("# Letters\n\nRead the [guide](guides/ledger.md).\n")
    (project / "docs/guides/ledger.md").write_text(
        f"# Ledger\n\nFor members.\n\n<!-- more -->\n\n{SECRET}\n"
    )
    current = state.State.new(TEST_ITERATIONS)
    current.ensure_tiers(["members"])
    for added in (MEMBER, SHARP):
        current.add(added.email, added.password, name=added.name, tiers=["members"], expires=None)
    # As the roster kept it before: the domain as typed, the keys made from it.
    keys = mk1.derive_member_keys(current.site, EARLIER.email, EARLIER.password, TEST_ITERATIONS)
    current.members[EARLIER.email] = state.Member(
        EARLIER.email, EARLIER.name, ["members"], None, keys.lookup, mk1.b64url(keys.kek)
    )
    store.save(current, project / store.STATE_DIR)
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    yield server.serve(project / "site")
    server.stop()


@pytest.mark.parametrize(
    ("member", "spelling"),
    [
        (MEMBER, "jo@bücher.example"),
        (MEMBER, "jo@xn--bcher-kva.example"),
        (MEMBER, "Jo@BÜCHER.example"),
        (EARLIER, "lee@xn--strae-oqa.example"),
        # The form's field leaves "ß" as typed (a browser's email field makes it "ss").
        (EARLIER, "lee@straße.example"),
        (SHARP, "kim@straße.example"),
        (SHARP, "kim@xn--strae-oqa.example"),
    ],
)
def test_a_member_signs_in_with_either_spelling_of_the_domain(
    browser: Any, site: str, member: TestMember, spelling: str
) -> None:
    with watched_tab(browser, site) as (tab, _):
        sign_in(tab, site, replace(member, email=spelling))
        tab.goto(site + "guides/ledger/")
        expect(tab.get_by_text(SECRET)).to_be_visible()


def test_the_browser_writes_a_domain_as_the_roster_keeps_it(browser: Any, site: str) -> None:
    """What the sign-in form does with an address, whichever spelling is typed."""
    with watched_tab(browser, site) as (tab, _):
        tab.goto(site)
        found = tab.evaluate(
            """async (url) => {
              const { asciiEmail, unicodeEmail } = await import(url);
              return [asciiEmail(" Jo@BÜCHER.example "), asciiEmail("lee@straße.example"),
                      asciiEmail("jo@example.com"), unicodeEmail("lee@xn--strae-oqa.example"),
                      unicodeEmail("jo@xn--zz.example")];
            }""",
            site + "assets/memberkit/addresses.js",
        )
    assert found == [
        "Jo@xn--bcher-kva.example",
        "lee@xn--strae-oqa.example",
        "jo@example.com",
        "lee@straße.example",
        "jo@xn--zz.example",
    ]
