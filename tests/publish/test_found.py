"""Visitors find the site: indexable teasers, paywall markup, link previews, the feed,
and dates in the sitemap."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from generator.content.access import read_front_matter, split_teaser
from generator.content.dates import SourceDates, front_matter_date
from generator.engine.build import BuildFailed, build_site
from generator.errors import MemberkitError
from generator.publish import feed, hosting, seo

from ..conftest import ROOT, run_memberkit
from ..protection.test_attacks import GUIDES, protected_sentences

ATOM = "{http://www.w3.org/2005/Atom}"


def head(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    return text[: text.index("</head>")]


def meta(page_head: str, name: str) -> list[str]:
    """The content of every <meta property|name="name"> of a head."""
    return re.findall(rf'<meta (?:property|name)="{re.escape(name)}" content="([^"]*)">', page_head)


def json_ld(page_head: str) -> list[dict[str, object]]:
    found = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page_head)
    return [json.loads(block) for block in found]


def set_plugin_option(project: Path, line: str) -> None:
    config = project / "mkdocs.yml"
    text = config.read_text()
    anchor = "      join_url: join.md\n"
    assert anchor in text
    config.write_text(text.replace(anchor, anchor + line + "\n", 1))


def set_front_matter(page: Path, line: str) -> None:
    text = page.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    page.write_text("---\n" + line + "\n" + text[4:], encoding="utf-8")


# -- units ----------------------------------------------------------------------


def test_first_paragraph_is_plain_prose_shortened_at_a_word() -> None:
    page = (
        '<h1>T</h1><div class="admonition"><p class="admonition-title">Note</p></div>'
        "<p>Most <strong>bad</strong> hires are <a href='#'>visible</a> early &amp; cheap .</p>"
    )
    assert seo.first_paragraph(page) == "Most bad hires are visible early & cheap."
    long = "<p>" + "word " * 100 + "</p>"
    shortened = seo.first_paragraph(long, limit=50)
    assert len(shortened) <= 50 and shortened.endswith("word…")
    assert seo.first_paragraph('<p class="mk1-locked__note">This part is for members.</p>') == ""


def test_head_tags_for_a_members_page_mark_the_sealed_part_as_paywalled() -> None:
    facts = seo.PageFacts(
        title='Briefs "that work"',
        description="Public <teaser>",
        site_name="Site",
        url="https://m.example/guides/x/",
        members_only=True,
        published=dt.date(2026, 11, 13),
        modified=dt.date(2026, 11, 20),
    )
    tags = seo.head_tags(facts, feed=("../../feed.xml", "Site"))
    assert meta(tags, "og:title") == ["Briefs &quot;that work&quot;"]
    assert meta(tags, "og:description") == ["Public &lt;teaser&gt;"]
    assert meta(tags, "og:url") == ["https://m.example/guides/x/"]
    assert meta(tags, "og:type") == ["article"]
    assert meta(tags, "twitter:card") == ["summary"]
    assert meta(tags, "og:image") == [] and meta(tags, "robots") == []
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Site" href="../../feed.xml">'
        in (tags)
    )
    (article,) = json_ld(tags)
    assert "<teaser>" not in tags.split("ld+json")[1]  # no "<" inside the script element
    assert article["@type"] == "Article" and article["headline"] == 'Briefs "that work"'
    assert article["isAccessibleForFree"] is False
    assert article["hasPart"] == {
        "@type": "WebPageElement",
        "isAccessibleForFree": False,
        "cssSelector": ".mk1-locked",
    }
    assert article["datePublished"] == "2026-11-13" and article["dateModified"] == "2026-11-20"


def test_head_tags_for_a_plain_page_with_an_image() -> None:
    facts = seo.PageFacts(
        title="About",
        description="Who",
        site_name="Site",
        image="https://m.example/a.png",
        noindex=True,
    )
    tags = seo.head_tags(facts)
    assert meta(tags, "twitter:card") == ["summary_large_image"]
    assert meta(tags, "og:image") == ["https://m.example/a.png"]
    assert meta(tags, "og:type") == ["website"]
    assert meta(tags, "robots") == ["noindex"]
    assert meta(tags, "og:url") == [] and json_ld(tags) == [] and "alternate" not in tags


def test_noindex_choices() -> None:
    def choose(meta: dict[str, object], **kwargs: object) -> bool:
        options = {"members_only": False, "teasers": "index", "unreleased": False, **kwargs}
        return seo.noindex(meta, path="docs/x.md", **options)  # type: ignore[arg-type]

    assert choose({}) is False
    assert choose({}, members_only=True) is False
    assert choose({}, members_only=True, teasers="noindex") is True
    assert choose({"noindex": False}, members_only=True, teasers="noindex") is False
    assert choose({"noindex": True}) is True
    assert choose({}, unreleased=True) is True
    with pytest.raises(MemberkitError, match=r"docs/x.md: front matter 'noindex' is 'yes'"):
        choose({"noindex": "yes"})


def test_image_url_takes_a_docs_file_or_a_web_address() -> None:
    def url(value: object, site: str | None = "https://m.example/") -> str | None:
        return seo.image_url(
            value, site_url=site, exists=lambda p: p == "assets/s.png", field="image", path="x"
        )

    assert url("assets/s.png") == "https://m.example/assets/s.png"
    assert url("/assets/s.png") == "https://m.example/assets/s.png"
    assert url("https://cdn.example/s.png") == "https://cdn.example/s.png"
    assert url("assets/s.png", site=None) is None
    with pytest.raises(MemberkitError, match=r"x: image is 'assets/missing.png'.*file in docs/"):
        url("assets/missing.png")
    with pytest.raises(MemberkitError, match="image must be"):
        url(42)


def test_csp_leaves_json_ld_alone() -> None:
    page = '<script type="application/ld+json">{"a":1}</script><script>run()</script>'
    assert len(hosting.inline_script_hashes(page)) == 1


def test_feed_entry_content_is_public_html_with_absolute_links() -> None:
    html = (
        '<h1 id="t">Title<a class="headerlink" href="#t">¶</a></h1>'
        '<h2 id="a">Part<a class="headerlink" href="#a">¶</a></h2>'
        '<p>See <a href="../other/">other</a> and <img src="../../img/x.png" alt="x">.</p>'
        "<script>track()</script>"
    )
    url = "https://m.example/guides/x/"
    content = feed.entry_content(html, url, members_only=True, site_name="Site")
    assert "Title" not in content and "headerlink" not in content and "track" not in content
    assert 'href="https://m.example/guides/other/"' in content
    assert 'src="https://m.example/img/x.png"' in content
    assert content.endswith(f'<a href="{url}">Continue reading on Site</a></p>')
    public = feed.entry_content(html, url, members_only=False, site_name="Site")
    assert "Continue reading" not in public


def test_atom_document_is_valid_xml_and_newest_first() -> None:
    entries = [
        feed.FeedEntry(
            f"Guide {day}",
            f"https://m.example/g{day}/",
            dt.date(2026, 11, day),
            dt.date(2026, 11, day + 1),
            "Sum & more",
            "<p>Body\x01</p>",
        )
        for day in (3, 9, 5)
    ]
    document = feed.atom(
        entries, title="Site", subtitle="", site_url="https://m.example", author="Me", limit=2
    )
    assert document is not None
    root = ET.fromstring(document)
    titles = [e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")]
    assert titles == ["Guide 9", "Guide 5"]
    assert root.findtext(f"{ATOM}updated") == "2026-11-10T00:00:00Z"
    assert root.find(f"{ATOM}entry/{ATOM}content").text == "<p>Body</p>"  # type: ignore[union-attr]
    assert feed.atom([], title="S", subtitle="", site_url="https://m", author="M", limit=5) is None


def test_front_matter_dates() -> None:
    assert front_matter_date({"date": dt.date(2026, 1, 2)}, "date", "p") == dt.date(2026, 1, 2)
    assert front_matter_date({"date": "2026-01-02"}, "date", "p") == dt.date(2026, 1, 2)
    assert front_matter_date({}, "date", "p") is None
    with pytest.raises(MemberkitError, match=r"^docs/p.md: front matter 'updated' is 'soon'"):
        front_matter_date({"updated": "soon"}, "updated", "docs/p.md")


def test_source_dates_come_from_git_else_the_files_time(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    for name in ("old.md", "new.md", "untracked.md"):
        (tmp_path / "docs" / name).write_text(name)
    os.utime(tmp_path / "docs/untracked.md", (1_700_000_000, 1_700_000_000))
    assert SourceDates(tmp_path).commits == {}  # not a git work tree: every date from mtime

    def git(*args: str, date: str = "2026-01-01T12:00:00") -> None:
        environment = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        subprocess.run(
            ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
            cwd=tmp_path,
            env=environment,
            check=True,
            capture_output=True,
        )

    git("init", "-q")
    git("add", "docs/old.md", "docs/new.md")
    git("commit", "-q", "-m", "first", date="2026-03-04T10:00:00")
    (tmp_path / "docs/new.md").write_text("changed")
    git("commit", "-q", "-am", "second", date="2026-05-06T10:00:00")
    dates = SourceDates(tmp_path)
    assert dates.of("docs/old.md") == dt.date(2026, 3, 4)
    assert dates.of(tmp_path / "docs/new.md") == dt.date(2026, 5, 6)
    assert dates.of("docs/untracked.md") == dt.date(2023, 11, 14)
    assert dates.of("docs/missing.md") is None
    assert dates.newest(["docs/old.md", "docs/new.md"]) == dt.date(2026, 5, 6)


# -- the bundled site -----------------------------------------------------------


def test_teasers_are_indexable_and_marked_as_paywalled(bundled_site: Path) -> None:
    for guide in GUIDES:
        page = bundled_site / "guides" / guide.stem / "index.html"
        text = page.read_text(encoding="utf-8")
        tags = head(page)
        assert meta(tags, "robots") == [], f"{guide.stem} asks not to be indexed"
        (article,) = json_ld(tags)
        assert article["isAccessibleForFree"] is False
        selector = article["hasPart"]["cssSelector"]  # type: ignore[index]
        # The selector names the element that really holds the sealed part.
        sealed = re.findall(rf'<div class="{selector.lstrip(".")}"[^>]* data-mk1=', text)  # type: ignore[union-attr]
        assert len(sealed) == 1
    headers = (bundled_site / "_headers").read_text()
    assert "/guides/" not in headers and "/templates/" not in headers
    rules = dict(hosting.parse_headers(headers))
    for private in ("/mk1/*", "/downloads/*", "/search/*"):
        assert dict(rules[private])["X-Robots-Tag"] == "noindex"
    robots = (bundled_site / "robots.txt").read_text()
    for private in ("/mk1/", "/downloads/", "/search/"):
        assert f"Disallow: {private}\n" in robots


def test_every_page_has_link_preview_tags_made_of_public_text(bundled_site: Path) -> None:
    pages = sorted(p for p in bundled_site.rglob("index.html"))
    assert len(pages) > 20
    for page in pages:
        tags = head(page)
        url = "https://members.example.com/" + page.parent.relative_to(bundled_site).as_posix()
        url = url.removesuffix(".") + ("/" if page.parent != bundled_site else "")
        assert meta(tags, "og:url") == [url], page
        assert meta(tags, "og:site_name") == ["Outsource Without Regret"]
        assert len(meta(tags, "og:title")) == 1 and len(meta(tags, "og:description")) == 1
        assert meta(tags, "og:image") == ["https://members.example.com/assets/social.jpg"]
        assert meta(tags, "twitter:card") == ["summary_large_image"]
        # Material writes these once; nothing here writes them again.
        assert tags.count('<meta name="description"') == 1
        assert tags.count('rel="canonical"') == 1
        # The description tag says the same as the preview.
        assert meta(tags, "description") == meta(tags, "og:description")
    for guide in GUIDES:
        tags = head(bundled_site / "guides" / guide.stem / "index.html")
        text = guide.read_text(encoding="utf-8")
        teaser, _ = split_teaser(text)
        (description,) = meta(tags, "og:description")
        assert description == read_front_matter(text, guide.name)["description"]
        assert description.split()[0] in teaser


def test_description_falls_back_to_the_teasers_first_paragraph(project: Path) -> None:
    guide = project / "docs/guides/task-briefs.md"
    text = guide.read_text(encoding="utf-8")
    guide.write_text(re.sub(r"(?m)^description: .*\n", "", text, count=1), encoding="utf-8")
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    tags = head(project / "site/guides/task-briefs/index.html")
    (description,) = meta(tags, "og:description")
    assert description.startswith("Most disappointing work from freelancers starts with a brief")
    assert description.endswith("…") and len(description) <= seo.DESCRIPTION_CHARS
    # A page without a divider and a description shows visitors only its title: its
    # preview says what the site is about, nothing of the page.
    guide.write_text(
        re.sub(r"(?m)^description: .*\n", "", text, count=1).replace("<!-- more -->", ""),
        encoding="utf-8",
    )
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    tags = head(project / "site/guides/task-briefs/index.html")
    assert meta(tags, "og:description") == [
        "Guides and ready-made reporting documents for small-business owners who work with "
        "remote freelancers."
    ]


def test_a_title_from_the_heading_is_plain_text_in_previews(project: Path) -> None:
    guide = project / "docs/guides/task-briefs.md"
    text = re.sub(r"(?m)^title: .*\n", "", guide.read_text(encoding="utf-8"), count=1)
    old = "# Writing task briefs that cannot be misread\n"
    guide.write_text(text.replace(old, "# Task *briefs* & `specs`\n", 1), "utf-8")
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    tags = head(project / "site/guides/task-briefs/index.html")
    assert meta(tags, "og:title") == ["Task briefs &amp; specs"]
    assert json_ld(tags)[0]["headline"] == "Task briefs & specs"


def test_an_owner_can_keep_teasers_out_of_search_engines(project: Path) -> None:
    set_plugin_option(project, "      teasers: noindex")
    set_front_matter(project / "docs/guides/task-briefs.md", "noindex: false")
    set_front_matter(project / "docs/about.md", "noindex: true")
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    site = project / "site"
    assert meta(head(site / "guides/vetting-and-interviewing/index.html"), "robots") == ["noindex"]
    assert meta(head(site / "templates/task-brief/index.html"), "robots") == ["noindex"]
    assert meta(head(site / "guides/task-briefs/index.html"), "robots") == []
    assert meta(head(site / "about/index.html"), "robots") == ["noindex"]
    assert meta(head(site / "three-mistakes/index.html"), "robots") == []
    rules = dict(hosting.parse_headers((site / "_headers").read_text()))
    assert dict(rules["/guides/vetting-and-interviewing/"])["X-Robots-Tag"] == "noindex"
    assert dict(rules["/about/"])["X-Robots-Tag"] == "noindex"
    assert "/guides/task-briefs/" not in rules and "/three-mistakes/" not in rules


def test_social_image_from_the_settings_or_the_page(project: Path) -> None:
    (project / "docs/assets/social.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (project / "docs/assets/briefs.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace("assets/social.jpg", "assets/social.png"))
    set_front_matter(project / "docs/guides/task-briefs.md", "image: assets/briefs.png")
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    home = head(project / "site/index.html")
    assert meta(home, "og:image") == ["https://members.example.com/assets/social.png"]
    assert meta(home, "twitter:card") == ["summary_large_image"]
    briefs = head(project / "site/guides/task-briefs/index.html")
    assert meta(briefs, "og:image") == ["https://members.example.com/assets/briefs.png"]
    assert json_ld(briefs)[0]["image"] == "https://members.example.com/assets/briefs.png"
    set_front_matter(project / "docs/about.md", "image: assets/nowhere.png")
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 1
    assert "docs/about.md: front matter 'image' is 'assets/nowhere.png'" in result.stderr
    assert "Traceback" not in result.stderr


# -- the feed -------------------------------------------------------------------


def read_feed(site: Path) -> ET.Element:
    return ET.fromstring((site / "feed.xml").read_bytes())


def test_the_feed_holds_the_guides_as_teasers_and_the_article_in_full(bundled_site: Path) -> None:
    root = read_feed(bundled_site)
    entries = {
        e.findtext(f"{ATOM}id"): e.findtext(f"{ATOM}content") or ""
        for e in root.iter(f"{ATOM}entry")
    }
    base = "https://members.example.com/"
    assert set(entries) == {base + "three-mistakes/"} | {f"{base}guides/{g.stem}/" for g in GUIDES}
    article = entries[base + "three-mistakes/"]
    source = (ROOT / "docs/three-mistakes.md").read_text(encoding="utf-8")
    last_paragraph = [p for p in source.split("\n\n") if p.strip() and p[0].isalpha()][-1]
    assert " ".join(last_paragraph.split()[:6]) in article  # all of it, to the end
    assert 'href="https://members.example.com/guides/vetting-and-interviewing/"' in article
    for guide in GUIDES:
        content = entries[f"{base}guides/{guide.stem}/"]
        assert content.endswith("Continue reading on Outsource Without Regret</a></p>")
        for sentence in protected_sentences(guide):
            assert " ".join(sentence.split()[:8]) not in content
    dates = [e.findtext(f"{ATOM}published") for e in root.iter(f"{ATOM}entry")]
    assert dates == sorted(dates, reverse=True)
    # Linked from every page, relative to it.
    assert (
        '<link rel="alternate" type="application/atom+xml" title="Outsource Without Regret" '
        'href="../../feed.xml">' in head(bundled_site / "guides/task-briefs/index.html")
    )
    assert 'href="feed.xml"' in head(bundled_site / "index.html")


def test_a_protected_sentence_planted_in_the_feed_fails_the_build(
    project: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The leak check reads the feed like every other file of the site."""
    guide = ROOT / "docs/guides/task-briefs.md"
    planted = protected_sentences(guide)[0]
    original = feed.entry_content

    def leaky(public_html: str, url: str, **kwargs: object) -> str:
        return original(public_html, url, **kwargs) + f"<p>{planted}</p>"  # type: ignore[arg-type]

    monkeypatch.setattr(feed, "entry_content", leaky)
    monkeypatch.chdir(project)
    with pytest.raises(BuildFailed):
        build_site(project / "mkdocs.yml")
    assert any(
        "leak check" in r.getMessage() and "feed.xml" in r.getMessage() for r in caplog.records
    )
    assert not (project / "site").exists()


def test_pages_choose_to_stay_out_of_the_feed_and_the_owner_can_turn_it_off(
    project: Path,
) -> None:
    set_front_matter(project / "docs/guides/task-briefs.md", "feed: false")
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    ids = {e.findtext(f"{ATOM}id") for e in read_feed(project / "site").iter(f"{ATOM}entry")}
    assert len(ids) == len(GUIDES) and not any("task-briefs" in (i or "") for i in ids)
    set_plugin_option(project, "      feed_entries: 0")
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 1
    assert "mkdocs.yml: plugins.memberkit.feed_entries is 0: give 1 or more" in result.stderr
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace("feed_entries: 0", "feed: false"))
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    assert not (project / "site/feed.xml").exists()
    assert "application/atom+xml" not in (project / "site/index.html").read_text()


# -- the sitemap ----------------------------------------------------------------


def lastmods(site: Path) -> dict[str, str]:
    sitemap = (site / "sitemap.xml").read_text()
    return dict(re.findall(r"<loc>([^<]+)</loc>\s*<lastmod>([^<]+)</lastmod>", sitemap))


def test_sitemap_dates_come_from_front_matter_then_git(project: Path) -> None:
    set_front_matter(project / "docs/guides/task-briefs.md", "updated: 2026-11-20")
    environment = {
        "GIT_COMMITTER_DATE": "2026-06-07T10:00:00",
        "GIT_AUTHOR_DATE": "2026-06-07T10:00:00",
    }
    git = ["git", "-c", "user.name=T", "-c", "user.email=t@example.com"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "site"]):
        subprocess.run(
            [*git, *command],
            cwd=project,
            env={**os.environ, **environment},
            check=True,
            capture_output=True,
        )
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    dates = lastmods(project / "site")
    base = "https://members.example.com/"
    assert dates[base + "guides/task-briefs/"] == "2026-11-20"  # updated
    assert dates[base + "guides/budgeting-and-paying/"] == "2026-11-18"  # date
    assert dates[base + "about/"] == "2026-06-07"  # its last commit
    assert dates[base + "templates/weekly-report/"] == "2026-06-07"  # its template's
    assert dates[base + "login/"] == "2026-06-07"  # mkdocs.yml's
    assert len(dates) == len(re.findall("<loc>", (project / "site/sitemap.xml").read_text()))


def test_a_bad_date_names_the_file(project: Path) -> None:
    set_front_matter(project / "docs/about.md", "date: 2026-02-30")
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 1
    assert "docs/about.md:2: front matter 'date' is '2026-02-30', which is not a date" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
