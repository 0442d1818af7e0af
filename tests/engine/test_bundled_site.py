"""The bundled membership site, built with the real CLI, as a visitor receives it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.content.access import read_front_matter, split_teaser

from ..conftest import ROOT, member_view

GUIDES = sorted(p for p in (ROOT / "docs" / "guides").glob("*.md") if p.name != "index.md")


class _Resources(HTMLParser):
    """Collects every URL the browser would fetch on its own (not links to click)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in {"script", "img", "iframe", "source", "audio", "video"} and found.get("src"):
            self.urls.append(found["src"] or "")
        if tag == "link" and found.get("rel") in {"stylesheet", "preload", "icon", "preconnect"}:
            self.urls.append(found.get("href") or "")


def body_words(path: Path) -> int:
    text = path.read_text(encoding="utf-8")
    read_front_matter(text, str(path))  # must parse
    body = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.DOTALL)
    return len(re.findall(r"[A-Za-z0-9][\w'\u2019$%.,-]*", body))


def test_there_are_six_guides() -> None:
    assert len(GUIDES) >= 6


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.stem)
def test_every_guide_is_members_only_with_a_teaser_and_substance(guide: Path) -> None:
    text = guide.read_text(encoding="utf-8")
    meta = read_front_matter(text, guide.name)
    assert meta.get("access", "members") == "members"
    assert meta.get("title") and meta.get("description")
    teaser, rest = split_teaser(text)
    assert rest is not None, f"{guide.name} has no teaser divider <!-- more -->"
    assert len(teaser.split()) < len(rest.split()) / 3, "the teaser gives away too much"
    assert body_words(guide) >= 1200
    assert "- [ ]" in rest, "every guide carries at least one checklist"


def test_pages_visitors_expect_are_built(bundled_site: Path) -> None:
    for page in ("index.html", "three-mistakes/index.html", "join/index.html", "about/index.html"):
        assert (bundled_site / page).is_file(), page
    for guide in GUIDES:
        assert (bundled_site / "guides" / guide.stem / "index.html").is_file()
    assert (bundled_site / "404.html").is_file()


def test_sitemap_lists_every_page_for_instant_navigation(bundled_site: Path) -> None:
    """Material's instant navigation only takes over links to pages in the sitemap."""
    sitemap = (bundled_site / "sitemap.xml").read_text(encoding="utf-8")
    locations = set(re.findall(r"<loc>([^<]+)</loc>", sitemap))
    for guide in GUIDES:
        assert f"https://members.example.com/guides/{guide.stem}/" in locations
    assert "https://members.example.com/templates/task-brief/" in locations
    assert "https://members.example.com/three-mistakes/" in locations


def test_snippets_are_expanded(bundled_site: Path) -> None:
    article = (bundled_site / "three-mistakes" / "index.html").read_text(encoding="utf-8")
    assert "Not legal or tax advice" in article
    assert "Join the membership" in article
    assert "--8&lt;--" not in article and "--8<--" not in article


def test_join_links_resolve_to_the_configured_url(bundled_site: Path) -> None:
    for page in bundled_site.rglob("*.html"):
        assert "memberkit:join" not in page.read_text(encoding="utf-8"), page
    home = (bundled_site / "index.html").read_text(encoding="utf-8")
    assert 'href="join/"' in home
    article = (bundled_site / "three-mistakes" / "index.html").read_text(encoding="utf-8")
    assert 'href="../join/"' in article


def test_no_request_leaves_the_site(bundled_site: Path) -> None:
    """No fonts, scripts or styles from another host: the site works offline and leaks no visit."""
    for page in bundled_site.rglob("*.html"):
        parser = _Resources()
        parser.feed(page.read_text(encoding="utf-8"))
        external = [u for u in parser.urls if re.match(r"^(https?:)?//", u)]
        assert not external, f"{page.relative_to(bundled_site)} loads {external}"
    for css in bundled_site.rglob("*.css"):
        assert "fonts.googleapis" not in css.read_text(encoding="utf-8")


def test_home_page_sells_the_membership(bundled_site: Path) -> None:
    home = (bundled_site / "index.html").read_text(encoding="utf-8")
    assert "Join the membership" in home
    assert "Six in-depth guides" in home and "Twelve reporting documents" in home
    assert "assets/logo.svg" in home


def test_a_page_per_template_with_form_preview_and_downloads(bundled_project: Path) -> None:
    site = bundled_project / "site"
    page = member_view(bundled_project, "templates/weekly-report/")
    for control in ('name="worker_name"', 'class="mk-doc__preview"', 'data-mk-copy="text"'):
        assert control in page
    for fmt in ("docx", "md", "txt"):
        assert f'href="../../downloads/weekly-report.{fmt}.mk1"' in page
        assert (site / "downloads" / f"weekly-report.{fmt}.mk1").is_file()
        assert not (site / "downloads" / f"weekly-report.{fmt}").exists()
    budget = member_view(bundled_project, "templates/budget-planner/")
    assert 'href="../../downloads/budget-planner.xlsx.mk1"' in budget
    assert 'type="number"' in budget
    visitor = (site / "templates" / "weekly-report" / "index.html").read_text("utf-8")
    assert 'name="worker_name"' not in visitor and "Weekly report" in visitor


def test_library_page_groups_cards_by_category(bundled_site: Path) -> None:
    index = (bundled_site / "templates" / "index.html").read_text("utf-8")
    ids = ("reporting", "hiring", "reviews-and-endings")
    positions = [index.index(f'<h2 id="{i}">') for i in ids]
    assert positions == sorted(positions)
    assert index.count('class="mk-badge"') >= 12 * 3
    assert 'href="../downloads/all-templates-members.zip.mk1"' in index
    assert (bundled_site / "downloads" / "all-templates-members.zip.mk1").is_file()


def test_the_footer_is_the_owners_and_the_join_page_leads_nowhere_else(
    bundled_site: Path,
) -> None:
    """No "Made with Material for MkDocs" on a paid site (`extra.generator: false`), and
    no "Previous: Offboarding checklist" at the foot of the join page."""
    for page in ("index.html", "join/index.html", "guides/task-briefs/index.html"):
        assert "Made with" not in (bundled_site / page).read_text(encoding="utf-8"), page
    footer = re.compile(
        r'<nav class="md-footer__inner md-grid" aria-label="Footer"\s*(hidden)?\s*>'
    )

    def footer_hidden(page: str) -> bool:
        found = footer.search((bundled_site / page).read_text(encoding="utf-8"))
        assert found is not None, page
        return found.group(1) == "hidden"

    assert footer_hidden("join/index.html")
    assert not footer_hidden("about/index.html")  # the other pages keep theirs
