"""An email with an international domain: the roster keeps its ASCII form, a member is
found by either spelling wherever an email enters, and the keystore opens for both
spellings once the domain is written as browsers write a host. A member added when
the roster kept the domain as typed is not locked out."""

from __future__ import annotations

import encodings.idna
from pathlib import Path

import pytest

from generator.errors import MemberkitError
from generator.members import addresses, state, store
from generator.protection import mk1

from ..conftest import TEST_ITERATIONS, keystore_entry
from .test_members import memberkit, printed, read_state

UNICODE = "jo@bücher.example"
ASCII = "jo@xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        (UNICODE, ASCII),
        (ASCII, ASCII),
        ("  Jo@BÜCHER.Example ", ASCII),  # UTS #46 lowercases the domain; ASCII A-Z too
        ("jo@bücher\u3002example", ASCII),  # an ideographic full stop between labels
        ("jo@b\uff35cher.example", "jo@bucher.example"),  # a fullwidth letter
        ("jo@straße.example", "jo@xn--strae-oqa.example"),  # ß kept, as browsers keep it
        ("Jo@Example.com", "jo@example.com"),
    ],
)
def test_the_roster_keeps_an_international_domain_in_ascii(typed: str, kept: str) -> None:
    assert addresses.ascii_form(typed) == kept


def test_the_ascii_form_is_the_browsers_not_pythons_own_codec() -> None:
    """Python's idna codec is IDNA 2003: `ß` becomes `ss`, another domain."""
    assert encodings.idna.ToASCII("straße") == b"strasse"
    assert addresses.ascii_form("jo@straße.example") != "jo@strasse.example"


def test_a_domain_that_is_no_valid_name_is_refused() -> None:
    with pytest.raises(MemberkitError, match="not a valid international domain name"):
        addresses.ascii_form("jo@bü_cher.example")


def test_people_read_the_domain_in_unicode() -> None:
    assert addresses.shown_form(ASCII) == UNICODE
    assert addresses.shown_form("jo@example.com") == "jo@example.com"
    assert addresses.shown_form("jo@xn--zz.example") == "jo@xn--zz.example"  # not valid


def small_project(project: Path) -> Path:
    (project / "docs").mkdir()
    (project / "docs/index.md").write_text("# Home\n")
    (project / "mkdocs.yml").write_text(
        "site_name: S\nsite_url: https://s.example/\nplugins:\n  - memberkit\n"
    )
    return project


def test_add_and_remove_with_either_spelling(tmp_path: Path) -> None:
    project = small_project(tmp_path)
    added = memberkit(project, "members", "add", UNICODE, "--name", "Jo")
    assert added.returncode == 0, added.stderr
    assert list(read_state(project)["members"]) == [ASCII]
    assert f"{ASCII} (or {UNICODE})" in added.stdout
    again = memberkit(project, "members", "add", ASCII.upper())
    assert again.returncode != 0 and "already a member" in again.stderr
    removed = memberkit(project, "members", "remove", ASCII)
    assert removed.returncode == 0, removed.stderr
    assert read_state(project)["members"] == {}


def test_the_keystore_opens_for_both_spellings(tmp_path: Path) -> None:
    """The reference reader takes the address as PROTOCOL.md normalises it: written as
    a browser writes its host, either spelling finds the member's entry."""
    project = small_project(tmp_path)
    added = memberkit(project, "members", "add", UNICODE, "--name", "Jo")
    assert added.returncode == 0, added.stderr
    password = printed(added.stdout, "password:")
    built = memberkit(project, "build")
    assert built.returncode == 0, built.stderr
    site = project / "site"
    for spelling in (UNICODE, ASCII, "Jo@BÜCHER.example"):
        entry = keystore_entry(site, addresses.ascii_form(spelling), password)
        assert entry is not None and entry["name"] == "Jo", spelling
    # The keys are made from the ASCII form: the Unicode one, as such, opens nothing.
    assert keystore_entry(site, UNICODE, password) is None


def test_a_member_kept_with_a_unicode_domain_is_found_and_moved_on_reset(
    tmp_path: Path,
) -> None:
    """Added when the roster kept the domain as typed: their keys come from that form
    and their password is not stored. They keep their entry (the browser tries that
    spelling next), either spelling finds them, and a reset moves them to the ASCII
    form with new credentials."""
    project = small_project(tmp_path)
    current = state.State.new(TEST_ITERATIONS)
    current.ensure_tiers(["members"])
    password = "an old bookish password 19"
    keys = mk1.derive_member_keys(current.site, UNICODE, password, TEST_ITERATIONS)
    current.members[UNICODE] = state.Member(
        UNICODE, "Jo", ["members"], None, keys.lookup, mk1.b64url(keys.kek)
    )
    assert current.member(ASCII) is current.members[UNICODE]
    with pytest.raises(MemberkitError, match="already a member"):
        current.add(
            ASCII, "a brand new long password 73", name="Jo", tiers=["members"], expires=None
        )
    store.save(current, project / store.STATE_DIR)
    assert memberkit(project, "build").returncode == 0
    assert keystore_entry(project / "site", UNICODE, password)["name"] == "Jo"

    reset = memberkit(project, "members", "reset", ASCII)
    assert reset.returncode == 0, reset.stderr
    assert list(read_state(project)["members"]) == [ASCII]
    new_password = printed(reset.stdout, "password:")
    assert memberkit(project, "build").returncode == 0
    assert keystore_entry(project / "site", ASCII, new_password)["name"] == "Jo"
    assert keystore_entry(project / "site", UNICODE, password) is None
