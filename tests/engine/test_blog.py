"""Material's blog with members' posts: its list pages, its feed (mkdocs-rss-plugin) and
its tags publish only what a post's own page shows a visitor; a scheduled post is in
none of them before its date; a member reads every post whole.

Attacks: every file of the built site is searched for the members' text, codes and
all, and for every figure counted on it ("N min read").
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from ..conftest import member_view, run_memberkit, write_state
from ..protection.test_attacks import every_text

CONFIG = """\
site_name: Field Notes
site_url: https://notes.example.com/
strict: true
theme:
  name: material
plugins:
  - search
  - blog:
      pagination_per_page: 2
      categories_allowed: [Money, Hiring, Launches]
  - tags
  - rss:
      match_path: "blog/posts/.*"
      use_git: false
      date_from_meta:
        as_creation: date
  - memberkit:
      access:
        blog/: members
markdown_extensions:
  - abbr
  - footnotes
nav:
  - Home: index.md
  - Blog: blog/index.md
  - Tags: tags.md
"""

POSTS = {
    # A members' post of one sentence, no divider: its title and description are public.
    "coupon.md": """\
        ---
        date: 2026-11-01
        description: One coupon for this month.
        categories: [Money]
        tags: [Deals]
        ---
        # Coupon of the month

        This month: code ZZCOUPON-7731.
        """,
    # A divider, and a teaser that uses a link and an abbreviation defined below it.
    "interviews.md": """\
        ---
        date: 2026-11-02
        categories: [Hiring]
        tags: [Deals]
        ---
        # Interview questions

        A teaser with a [reference link][ref] and an RFP.

        <!-- more -->

        Ask every candidate about the quokka harvest rota before the second call.
        Then ask them to estimate the ferret budget for a week of night shifts.

        [ref]: https://example.org/interviewing
        *[RFP]: Request for proposal
        """,
    # Released on 2027-03-01, in a category of its own.
    "launch.md": """\
        ---
        date: 2026-11-03
        available: 2027-03-01
        description: The plan for the spring launch.
        categories: [Launches]
        tags: [Plans]
        ---
        # Launch plan

        The sprocket launch happens in the zebrafish quarter.
        """,
    # The owner publishes its reading time.
    "budget.md": """\
        ---
        date: 2026-11-05
        readtime: 7
        categories: [Money]
        ---
        # Budget review

        Public teaser of the budget review.

        <!-- more -->

        The quarterly review moves eleven percent of spend to the pelican account.
        """,
    "public.md": """\
        ---
        date: 2026-11-04
        access: public
        categories: [Hiring]
        ---
        # A public post

        Everyone reads this one.
        """,
}

#: Only in members' parts or in the scheduled post: never in the site.
PROTECTED = [
    "ZZCOUPON-7731",
    "quokka harvest rota",
    "ferret budget",
    "pelican account",
    "Launch plan",
    "sprocket launch",
    "zebrafish quarter",
    "The plan for the spring launch",
]
COUPON = "blog/2026/11/01/coupon-of-the-month/"
INTERVIEWS = "blog/2026/11/02/interview-questions/"
BUDGET = "blog/2026/11/05/budget-review/"
LIST_PAGES = [
    "blog/index.html",
    "blog/page/2/index.html",
    "blog/archive/2026/index.html",
    "blog/category/money/index.html",
    "blog/category/hiring/index.html",
]


def blog_project(folder: Path) -> Path:
    (folder / "docs" / "blog" / "posts").mkdir(parents=True)
    (folder / "mkdocs.yml").write_text(CONFIG)
    (folder / "docs" / "index.md").write_text("# Field Notes\n\nNotes for small teams.\n")
    (folder / "docs" / "blog" / "index.md").write_text("# Blog\n")
    (folder / "docs" / "tags.md").write_text("# Tags\n\n<!-- material/tags -->\n")
    for name, text in POSTS.items():
        (folder / "docs" / "blog" / "posts" / name).write_text(textwrap.dedent(text))
    write_state(folder)
    return folder


def build(project: Path, today: str) -> str:
    result = run_memberkit("build", cwd=project, env={"MEMBERKIT_TODAY": today})
    assert result.returncode == 0, result.stderr
    return result.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    project = blog_project(tmp_path_factory.mktemp("blog"))
    return project, build(project, "2026-12-07")


def text_of(path: Path) -> str:
    page = path.read_text("utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_no_file_of_the_site_holds_a_members_or_scheduled_word(built: tuple[Path, str]) -> None:
    project, _ = built
    site = every_text(project / "site")
    assert [p for p in PROTECTED if p in site] == []


def test_the_list_pages_show_what_each_post_shows_a_visitor(built: tuple[Path, str]) -> None:
    project, _ = built
    site = project / "site"
    for name in LIST_PAGES:
        assert (site / name).is_file(), name
    # The blog's own page, members' by its folder, holds only its title: nothing to seal.
    assert "mk1-locked" not in (site / "blog/index.html").read_text()
    everything = " ".join(text_of(site / name) for name in LIST_PAGES)
    # Without a divider: the title and the description, and the way to the post.
    assert "Coupon of the month" in everything
    assert "One coupon for this month." in everything
    # With one: the teaser whole, its link and abbreviation working.
    interviews = (site / "blog/category/hiring/index.html").read_text()
    assert 'href="https://example.org/interviewing"' in interviews
    assert '<abbr title="Request for proposal">RFP</abbr>' in interviews
    assert "[ref]" not in interviews
    money = (site / "blog/category/money/index.html").read_text()
    assert 'href="../../2026/11/01/coupon-of-the-month/"' in money
    assert money.count("Continue reading") == 2  # the coupon and the budget review


def test_reading_time_is_published_only_where_public_or_the_owners(
    built: tuple[Path, str],
) -> None:
    project, _ = built
    site = project / "site"
    for url in (COUPON, INTERVIEWS):
        assert "min read" not in (site / url / "index.html").read_text(), url
    assert "7 min read" in (site / BUDGET / "index.html").read_text()
    assert "7 min read" in (site / "blog/category/money/index.html").read_text()
    public = (site / "blog/2026/11/04/a-public-post/index.html").read_text()
    assert "1 min read" in public
    hiring = text_of(site / "blog/category/hiring/index.html")
    assert hiring.count("min read") == 1  # the public post's


def test_a_scheduled_post_is_in_no_list_feed_tag_or_sitemap_before_its_day(
    built: tuple[Path, str],
) -> None:
    project, log = built
    site = project / "site"
    assert "blog/posts/launch.md: a blog post available on 2027-03-01" in log
    assert not (site / "blog/category/launches").exists()
    assert not (site / "blog/2026/11/03").exists()
    assert "launch-plan" not in (site / "sitemap.xml").read_text()
    assert "Launch plan" not in (site / "feed_rss_created.xml").read_text()
    assert "Plans" not in text_of(site / "tags/index.html")


def test_on_its_day_the_scheduled_post_is_listed_as_a_members_post(tmp_path: Path) -> None:
    project = blog_project(tmp_path / "later")
    build(project, "2027-03-01")
    site = project / "site"
    launch = "blog/2026/11/03/launch-plan/"
    category = text_of(site / "blog/category/launches/index.html")
    assert "Launch plan" in category
    assert "The plan for the spring launch." in category
    assert "sprocket launch" not in every_text(site)
    assert "The sprocket launch happens in the zebrafish quarter." in member_view(project, launch)


def test_the_feed_and_tags_hold_only_public_text(built: tuple[Path, str]) -> None:
    project, _ = built
    site = project / "site"
    feed = (site / "feed_rss_created.xml").read_text()
    assert "Coupon of the month" in feed
    assert "One coupon for this month." in feed
    assert "A teaser with a" in feed
    tags = text_of(site / "tags/index.html")
    assert "Coupon of the month" in tags
    assert "Interview questions" in tags


def test_a_member_reads_every_post_whole(built: tuple[Path, str]) -> None:
    project, _ = built
    assert "This month: code ZZCOUPON-7731." in member_view(project, COUPON)
    interviews = member_view(project, INTERVIEWS)
    assert "quokka harvest rota" in interviews
    assert "ferret budget" in interviews
    assert "pelican account" in member_view(project, BUDGET)
