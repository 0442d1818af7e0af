"""Unit tests for the access core: front matter, tiers and the teaser divider."""

from __future__ import annotations

import pytest

from generator.content import access
from generator.errors import MemberkitError

TIERS = ("members", "premium")


def check(text: str, src: str = "guides/a.md", defaults: dict[str, str] | None = None):
    return access.page_access(text, src, tiers=TIERS, folder_defaults=defaults or {})


def test_access_from_front_matter() -> None:
    page = check("---\naccess: premium\n---\n# A\n")
    assert page.tier == "premium" and page.protected and not page.has_divider


def test_public_by_default_and_folder_defaults_longest_prefix_wins() -> None:
    defaults = {"guides/": "members", "guides/advanced": "premium"}
    assert check("# A\n", "index.md", defaults).tier == "public"
    assert check("# A\n", "guides/a.md", defaults).tier == "members"
    assert check("# A\n", "guides/advanced/b.md", defaults).tier == "premium"
    assert check("---\naccess: public\n---\n", "guides/c.md", defaults).tier == "public"


def test_unknown_tier_names_the_file_and_the_choices() -> None:
    with pytest.raises(MemberkitError) as caught:
        check("---\naccess: gold\n---\n", "guides/x.md")
    message = str(caught.value)
    assert message.startswith("guides/x.md: ")
    assert "'gold'" in message and "public, members, premium" in message


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("Access: members", "access"),
        ("acess: members", "access"),
        ("acces: premium", "access"),
        ("ACCESS: public", "access"),
        ("Available: 2030-01-01", "available"),
        ("avaliable: 2030-01-01", "available"),
        ("availble: 2030-01-01", "available"),
    ],
)
def test_a_guarded_key_misspelled_stops_the_build_with_its_line(written: str, meant: str) -> None:
    with pytest.raises(MemberkitError) as caught:
        check(f"---\ntitle: A\n{written}\n---\n# A\n", "guides/x.md")
    message = str(caught.value)
    assert message.startswith("guides/x.md:3: ")
    assert f"{written.split(':')[0]!r}" in message and f"did you mean {meant!r}" in message


def test_keys_that_only_look_alike_are_left_to_their_plugins() -> None:
    page = check("---\naccent: red\naddress: x\nsuccess: true\navailability: soon\n---\n")
    assert page.tier == "public"


def test_broken_yaml_reports_its_line() -> None:
    with pytest.raises(MemberkitError) as caught:
        check("---\ntitle: ok\naccess: [members\n---\n# A\n")
    assert caught.value.path == "guides/a.md"
    assert caught.value.line is not None and caught.value.line >= 3


def test_a_day_the_calendar_does_not_have_names_its_field_and_line() -> None:
    text = "---\ntitle: T\navailable: 2027-02-30\n---\n# T\n"
    with pytest.raises(MemberkitError) as caught:
        access.read_front_matter(text, "docs/x.md")
    assert str(caught.value).startswith(
        "docs/x.md:3: front matter 'available' is '2027-02-30', which is not a date"
    )


def test_unclosed_front_matter_is_an_error() -> None:
    with pytest.raises(MemberkitError, match="no closing"):
        check("---\naccess: members\n# A\n")


def test_front_matter_must_be_a_mapping_and_titles_text() -> None:
    with pytest.raises(MemberkitError, match="mapping"):
        check("---\n- a\n- b\n---\n")
    with pytest.raises(MemberkitError, match="'title' must be text"):
        check("---\ntitle: [a, b]\n---\n")


def test_teaser_divider_found_and_split() -> None:
    text = "---\naccess: members\n---\nTeaser.\n\n<!--  more -->\n\nSecret.\n"
    assert check(text).has_divider
    teaser, rest = access.split_teaser("Teaser.\n<!-- more -->\nSecret.\n")
    assert teaser == "Teaser.\n" and rest == "\nSecret.\n"
    assert access.split_teaser("No divider.\n") == ("No divider.\n", None)


def test_divider_inside_a_line_does_not_count() -> None:
    assert not check("Text <!-- more --> inline.\n").has_divider
    assert not check("<!-- more --> and text after it\n").has_divider
    # Indented up to three spaces, at the very start, at the very end: alone on its
    # line, so it counts. Four spaces or a tab make it code: shown, not a divider.
    assert check("   <!--more-->\t\nSecret.\n").has_divider
    assert not check("Text\n\n    <!-- more -->\n\nMore.\n").has_divider
    assert not check("Text\n\n\t<!-- more -->\n\nMore.\n").has_divider
    assert access.split_teaser("<!-- more -->\nAll of it.") == ("", "\nAll of it.")
    assert access.split_teaser("Teaser.\n  <!-- more -->") == ("Teaser.\n", "")
    # One inside a line, then the real one: the real one splits.
    text = "See <!-- more --> here.\n<!-- more -->\nSecret.\n"
    assert access.split_teaser(text) == ("See <!-- more --> here.\n", "\nSecret.\n")
    assert check(text).has_divider


def test_a_divider_shown_in_fenced_code_is_not_one() -> None:
    """How every blog tutorial explains the divider: in a code block."""
    tutorial = (
        "Intro.\n\n```markdown\nA teaser.\n\n<!-- more -->\n```\n\n"
        "~~~~\n<!-- more -->\n```\nstill code\n~~~~\n\n"
        "<!-- more -->\n\nFor members.\n\n```\n<!-- more -->\n```\n"
    )
    assert check(tutorial).has_divider  # one divider, not four
    teaser, rest = access.split_teaser(tutorial)
    assert teaser.endswith("~~~~\n\n") and rest is not None and rest.startswith("\n\nFor members")
    # A fence left open runs to the end: nothing in it counts.
    assert not check("Intro.\n\n```\n<!-- more -->\n").has_divider


def test_a_key_written_twice_in_front_matter_is_an_error() -> None:
    with pytest.raises(MemberkitError, match="'access' twice") as caught:
        access.duplicate_key("---\ntitle: A\naccess: members\naccess: public\n---\nText", "a.md")
    assert caught.value.line == 4 and caught.value.path == "a.md"
    # Nested keys and list items are not top-level keys.
    access.duplicate_key("---\nsearch:\n  boost: 2\ntags:\n  - boost: 1\n---\n", "b.md")


def test_the_whole_site_as_one_folder_default() -> None:
    for folder in ("/", "", ".", "*"):
        rules = {folder: "members", "free/": "public"}
        assert access.default_tier("index.md", rules) == "members"
        assert access.default_tier("guides/a.md", rules) == "members"
        assert access.default_tier("free/b.md", rules) == "public"


def test_second_divider_is_an_error_with_its_line() -> None:
    with pytest.raises(MemberkitError) as caught:
        check("A\n<!-- more -->\nB\n<!-- more -->\n")
    assert caught.value.line == 4


@pytest.mark.parametrize("tiers", [[], ["public"], ["Members"], ["a b"], ["x", "x"]])
def test_bad_tier_declarations(tiers: list[str]) -> None:
    with pytest.raises(MemberkitError, match=r"mkdocs\.yml"):
        access.validate_tiers(tiers)
