"""What a build knows before its first page, checked without running MkDocs: the
settings, the preview's audience, the navigation, snippet folders, the leak report."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from generator.engine import postbuild, site
from generator.errors import MemberkitError
from generator.members import state as private
from generator.protection.leakcheck import Leak


def settings(**changed: Any) -> SimpleNamespace:
    values: dict[str, Any] = {
        "tiers": ["members", "pro"],
        "access": {"guides": "members"},
        "templates_access": "members",
        "comments": {},
        "ended_notice_days": 90,
    }
    return SimpleNamespace(**{**values, **changed})


def test_settings_that_name_a_tier_name_a_declared_one() -> None:
    assert site.check_settings(settings()) == (("members", "pro"), False)
    with pytest.raises(MemberkitError, match=r"access gives folder 'guides' the unknown tier"):
        site.check_settings(settings(access={"guides": "gold"}))
    with pytest.raises(MemberkitError, match=r"templates_access is 'gold'; use 'public' or"):
        site.check_settings(settings(templates_access="gold"))
    assert site.check_settings(settings(access={"blog": "public"}))[0] == ("members", "pro")


def test_ended_notice_days_is_a_number_of_days() -> None:
    assert site.check_settings(settings(ended_notice_days=0))[0] == ("members", "pro")
    with pytest.raises(MemberkitError, match=r"ended_notice_days is -1; use a number of days"):
        site.check_settings(settings(ended_notice_days=-1))


def test_comments_need_every_giscus_setting() -> None:
    full = {"repo": "o/r", "repo_id": "R1", "category": "C", "category_id": "C1"}
    assert site.check_settings(settings(comments=full))[1] is True
    with pytest.raises(MemberkitError, match=r"comments needs repo_id, category_id"):
        site.check_settings(settings(comments={"repo": "o/r", "category": "C"}))


def test_the_preview_shows_an_audience_only_when_serving() -> None:
    state = private.State.new(1000)
    state.ensure_tiers(["members"])
    asked = {site.PREVIEW_ENV: "members"}
    assert site.preview_keys("build", ("members",), state, asked) is None
    assert site.preview_keys("serve", ("members",), state, {}) is None
    assert site.preview_keys("serve", ("members",), state, {site.PREVIEW_ENV: "public"}) == {
        "tier": None
    }
    shown = site.preview_keys("serve", ("members",), state, asked)
    assert shown is not None and shown["tier"] == "members" and shown["site"] == state.site
    with pytest.raises(MemberkitError, match=r"--as 'gold': use 'public' or one of the tiers"):
        site.preview_keys("serve", ("members",), state, {site.PREVIEW_ENV: "gold"})


def test_the_site_furniture_holds_its_name_and_every_nav_title() -> None:
    nav = [{"Home": "index.md"}, {"Guides": [{"Task briefs": "guides/briefs.md"}, "x.md"]}]
    assert site.furniture("Site", None, "(c) Owner", nav) == [
        "Site",
        "(c) Owner",
        "Home",
        "Guides",
        "Task briefs",
    ]


def test_the_library_index_in_the_nav_becomes_the_whole_library() -> None:
    entries = ["templates/index.md", {"Reports": ["templates/daily.md"]}]
    nav: list[Any] = ["index.md", {"Members": ["guides.md", {"Documents": "templates/index.md"}]}]
    assert site.expand_library_nav(nav, entries)
    assert nav[1] == {"Members": ["guides.md", {"Documents": entries}]}
    bare: list[Any] = ["index.md", "templates/index.md"]
    assert site.expand_library_nav(bare, entries) and bare[1] == {"Templates": entries}
    assert not site.expand_library_nav(["index.md"], entries)


def test_snippet_folders_are_read_beside_mkdocs_yml() -> None:
    options: dict[str, Any] = {"pymdownx.snippets": {"base_path": "snippets"}}
    site.anchor_snippets(options, "/owner/site/mkdocs.yml")
    assert options["pymdownx.snippets"]["base_path"] == [os.path.normpath("/owner/site/snippets")]
    untouched: dict[str, Any] = {"toc": {}}
    site.anchor_snippets(untouched, "/owner/site/mkdocs.yml")
    assert untouched == {"toc": {}}


def test_a_leak_report_names_every_finding_and_removes_the_site_when_asked(
    tmp_path: Path,
) -> None:
    built = tmp_path / "site"
    built.mkdir()
    leaks = [Leak(f"page-{n}/index.html", f"secret {n}") for n in range(7)]
    message = postbuild.leak_failure(leaks, built, tmp_path, remove_site=True)
    assert "7 finding(s) in 7 file(s)" in message and "(and 2 more)" in message
    report = (tmp_path / postbuild.LEAK_REPORT).read_text()
    assert all(f"page-{n}/index.html" in report for n in range(7))
    assert not built.exists()
    kept = tmp_path / "kept"
    kept.mkdir()
    postbuild.leak_failure(leaks[:1], kept, tmp_path, remove_site=False)
    assert kept.exists()


def test_the_links_on_every_page_are_the_sites_furniture() -> None:
    extra = {"social": [{"icon": "x", "link": "https://social.example.org/@o"}, {"icon": "y"}]}
    assert site.furniture_links(extra, "https://code.example.org/o/s", "https://e.org/") == [
        "https://social.example.org/@o",
        "https://code.example.org/o/s",
        "https://e.org/",
    ]
    assert site.furniture_links({}, None, None) == []


def test_the_leak_advice_follows_where_the_leaking_file_came_from(tmp_path: Path) -> None:
    leaks = [
        Leak("about/index.html", "protected text 'x'"),
        Leak("blog/index.html", "protected text 'y'"),
        Leak("llms-full.txt", "protected text 'z'"),
        Leak("bundle.zip!inside.txt", "protected text 'z'"),
    ]
    origins = {"about/index.html": postbuild.PAGE, "blog/index.html": "material/blog"}
    message = postbuild.leak_failure(
        leaks, tmp_path / "site", tmp_path, remove_site=False, origins=origins
    )
    assert "In pages (about/index.html): move the text below the teaser divider" in message
    assert "blog/index.html: made by the 'material/blog' plugin from members' pages" in message
    assert "bundle.zip, llms-full.txt: not a page of the site but a file written by" in message


def test_memberkit_adds_its_partials_stylesheet_and_library_to_the_config() -> None:
    config = SimpleNamespace(
        theme=SimpleNamespace(dirs=["/owner/overrides", "/site-packages/material/templates"]),
        mdx_configs={"pymdownx.snippets": {"base_path": ["snippets"]}},
        config_file_path="/owner/mkdocs.yml",
        nav=["index.md", "templates/index.md"],
        extra_css=[],
        site_name="Site",
        site_description=None,
        copyright='&copy; <a href="https://owner.example.org/">Owner</a>',
        extra={"social": [{"link": "https://social.example.org/@o"}]},
        repo_url=None,
        site_url="https://e.org/",
    )
    site.adjust_config(
        config, theme="/memberkit/theme", library_nav=["templates/index.md"], stylesheet="mk.css"
    )
    assert config.theme.dirs[1] == "/memberkit/theme"
    assert config.mdx_configs["pymdownx.snippets"]["base_path"] == [
        os.path.normpath("/owner/snippets")
    ]
    assert config.nav[1] == {"Templates": ["templates/index.md"]}
    assert config.extra_css == ["mk.css"]
    public = site.public_furniture(config)
    assert "<p>Site</p>" in public and 'href="https://social.example.org/@o"' in public
    assert '<a href="https://owner.example.org/">Owner</a>' in public


def test_a_list_page_another_plugin_renders_is_that_plugins() -> None:
    from generator.engine.pages import made_by

    class View:  # as Material's blog names its index, archive and category pages
        __module__ = "material.plugins.blog.structure"

        def __init__(self, generated_by: str | None) -> None:
            self.file = SimpleNamespace(generated_by=generated_by)

    class Page:
        def __init__(self, generated_by: str | None) -> None:
            self.file = SimpleNamespace(generated_by=generated_by)

    assert made_by(View(None)) == "material.plugins.blog"
    assert made_by(Page("copies.py")) == "copies.py"
    assert made_by(Page("memberkit")) is None and made_by(Page(None)) is None
