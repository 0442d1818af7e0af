"""Scheduled release, and `memberkit report`: what each tier gets and what is coming."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from generator.content import schedule
from generator.content.access import split_teaser
from generator.errors import MemberkitError
from generator.protection import mk1

from ..conftest import copy_project, run_memberkit, tier_keys
from ..protection.test_attacks import every_text, protected_sentences
from ..publish.test_found import ATOM, head, json_ld, meta, set_front_matter

GUIDE = "guides/onboarding-first-30-days"
RELEASE = "2027-01-15"


def words(text: str, count: int = 8) -> str:
    return " ".join(re.findall(r"[A-Za-z0-9']+", text)[:count])


def readable(site: Path, sentence: str) -> bool:
    """Whether the first eight words of `sentence` can be read anywhere in the site."""
    pattern = r"\W+".join(map(re.escape, words(sentence).split()))
    return re.search(pattern, every_text(site)) is not None


def build_on(project: Path, day: str) -> str:
    result = run_memberkit("build", cwd=project, env={schedule.TODAY_ENV: day})
    assert result.returncode == 0, result.stderr
    return result.stderr


def members_search(project: Path) -> list[dict[str, str]]:
    site, keys = tier_keys(project)
    shard = (project / "site/search/members.json.mk1").read_bytes()
    _, plain = mk1.open_envelope(shard, keys, site=site, path="search/members.json")
    docs: list[dict[str, str]] = json.loads(plain)["docs"]
    return docs


def feed_ids(site: Path) -> set[str]:
    root = ET.fromstring((site / "feed.xml").read_bytes())
    return {e.findtext(f"{ATOM}id") or "" for e in root.iter(f"{ATOM}entry")}


# -- units ----------------------------------------------------------------------


def test_today_can_be_set_for_tests_and_previews(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(schedule.TODAY_ENV, raising=False)
    assert schedule.today() == dt.date.today()
    monkeypatch.setenv(schedule.TODAY_ENV, RELEASE)
    assert schedule.today() == dt.date(2027, 1, 15)
    monkeypatch.setenv(schedule.TODAY_ENV, "tomorrow")
    with pytest.raises(MemberkitError, match="MEMBERKIT_TODAY='tomorrow' is not a date"):
        schedule.today()


def test_a_page_is_released_on_its_day() -> None:
    page = {"available": dt.date(2027, 1, 15)}
    assert schedule.unreleased(page, "p", dt.date(2027, 1, 14)) == dt.date(2027, 1, 15)
    assert schedule.unreleased(page, "p", dt.date(2027, 1, 15)) is None
    assert schedule.unreleased({}, "p", dt.date(2027, 1, 14)) is None
    assert schedule.notice(dt.date(2027, 1, 5)) == "Available on 5 January 2027."
    notice = schedule.notice_html("A <b> guide", dt.date(2027, 1, 15))
    assert "<h1>A &lt;b&gt; guide</h1>" in notice
    assert '<time datetime="2027-01-15">15 January 2027</time>' in notice


# -- a members' guide and a public page, before and on their day -----------------


def test_a_scheduled_guide_is_only_its_title_and_date_until_its_day(project: Path) -> None:
    source = project / "docs" / f"{GUIDE}.md"
    set_front_matter(source, f"available: {RELEASE}")
    teaser, _ = split_teaser(source.read_text(encoding="utf-8"))
    teaser_sentence = next(p for p in teaser.split("\n\n") if p.startswith("Most "))
    hidden = [teaser_sentence, *protected_sentences(source)]
    url = f"https://members.example.com/{GUIDE}/"

    build_on(project, "2027-01-14")
    site = project / "site"
    page = site / GUIDE / "index.html"
    text = page.read_text(encoding="utf-8")
    article = text[text.index("<article") : text.index("</article>")]
    assert "<h1>Onboarding a remote worker in the first 30 days</h1>" in article
    assert "Available on" in article and "15 January 2027" in article
    assert "data-mk1=" not in text and 'class="mk1-join"' not in text
    for sentence in hidden:
        assert not readable(site, sentence), f"{sentence!r} is in the site before its day"
    assert meta(head(page), "robots") == ["noindex"]
    assert meta(head(page), "description") == ["Available on 15 January 2027."]
    assert meta(head(page), "og:type") == ["website"] and json_ld(head(page)) == []
    index = json.loads((site / "search/search_index.json").read_text())
    assert not [d for d in index["docs"] if d["location"].startswith(f"{GUIDE}/")]
    assert not [d for d in members_search(project) if d["location"].startswith(f"{GUIDE}/")]
    assert url not in feed_ids(site)
    rules = (site / "_headers").read_text()
    assert f"/{GUIDE}/\n  X-Robots-Tag: noindex" in rules
    assert url not in sitemap_urls(site) and len(sitemap_urls(site)) > 10

    build_on(project, RELEASE)
    text = page.read_text(encoding="utf-8")
    assert words(teaser_sentence) in " ".join(re.findall(r"[A-Za-z0-9']+", text))
    assert "data-mk1=" in text and "Available on" not in text
    assert meta(head(page), "robots") == []
    assert [d for d in members_search(project) if d["location"].startswith(f"{GUIDE}/")]
    assert url in feed_ids(site)
    assert url in sitemap_urls(site)


def sitemap_urls(site: Path) -> list[str]:
    """The addresses the sitemap lists, the same in sitemap.xml and sitemap.xml.gz."""
    plain = (site / "sitemap.xml").read_text(encoding="utf-8")
    assert gzip.decompress((site / "sitemap.xml.gz").read_bytes()).decode() == plain
    return re.findall(r"<loc>([^<]+)</loc>", plain)


def test_a_scheduled_public_page_and_the_leak_check(project: Path) -> None:
    """Until its day, a page's text counts as protected: found anywhere, it fails the build."""
    about = project / "docs/about.md"
    set_front_matter(about, f"available: {RELEASE}")
    sentence = "Some of those hires worked out brilliantly."
    long_sentence = next(
        line for line in about.read_text().splitlines() if line.startswith("When I started")
    )
    assert sentence in about.read_text()
    # A plugin of the owner's copies the text into a page of its own.
    (project / "hooks.py").write_text(
        "import pathlib\n\n"
        "def on_post_build(config):\n"
        "    draft = pathlib.Path(config.config_file_path).parent / 'draft.txt'\n"
        "    if draft.exists():\n"
        "        (pathlib.Path(config.site_dir) / 'notes.html').write_text(draft.read_text())\n"
    )
    config = project / "mkdocs.yml"
    config.write_text(config.read_text() + "hooks:\n  - hooks.py\n")
    (project / "draft.txt").write_text(f"<p>Draft: {long_sentence}</p>\n")
    result = run_memberkit("build", cwd=project, env={schedule.TODAY_ENV: "2027-01-14"})
    assert result.returncode == 1
    assert "leak check" in result.stderr and "notes.html" in result.stderr
    (project / "draft.txt").unlink()
    build_on(project, "2027-01-14")
    assert not readable(project / "site", long_sentence)
    assert "Available on" in (project / "site/about/index.html").read_text()
    # On its day, it is public like any other page, and so is the text copied elsewhere.
    (project / "draft.txt").write_text(f"<p>Draft: {long_sentence}</p>\n")
    build_on(project, RELEASE)
    assert sentence in (project / "site/about/index.html").read_text()


def test_a_bad_release_date_names_the_file_and_line(project: Path) -> None:
    guide = project / "docs" / f"{GUIDE}.md"
    set_front_matter(guide, "available: 15/01/2027")
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 1
    assert (
        f"docs/{GUIDE}.md: front matter 'available' is '15/01/2027', which is not a date; "
        "write it as YYYY-MM-DD"
    ) in result.stderr
    guide.write_text(guide.read_text().replace("15/01/2027", "2027-02-30"))
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 1
    assert f"docs/{GUIDE}.md:2: front matter 'available' is '2027-02-30'" in result.stderr
    assert "Traceback" not in result.stderr


# -- memberkit report -----------------------------------------------------------


def test_report_lists_what_each_tier_gets_without_keys_or_a_build(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project", with_state=False)
    set_front_matter(project / "docs" / f"{GUIDE}.md", f"available: {RELEASE}")
    (project / "docs/guides/preview.md").write_text(
        "---\ntitle: Preview\ndescription: Coming.\n---\n\n# Preview\n\nText.\n"
    )
    result = run_memberkit("report", cwd=project, env={schedule.TODAY_ENV: "2027-01-01"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "docs/guides/task-briefs.md  members  teaser" in lines
    assert f"docs/{GUIDE}.md  members  teaser  available {RELEASE}" in lines
    assert "docs/guides/preview.md  members  title-only" in lines
    assert "docs/three-mistakes.md  public  full" in lines
    pages = lines[
        lines.index("[pages] path  who reads all of it  what visitors see  release date") + 1 :
    ]
    pages = pages[: pages.index("")]
    assert pages == sorted(pages) and len(pages) == 12
    assert (
        "templates/weekly-report.md  members  downloads/weekly-report.docx "
        "downloads/weekly-report.md downloads/weekly-report.txt"
    ) in lines
    # A template whose page shows visitors a sample says so.
    assert (
        "templates/timesheet.md  members  downloads/timesheet.docx downloads/timesheet.md "
        "downloads/timesheet.txt downloads/timesheet.xlsx downloads/timesheet.csv  sample"
    ) in lines
    assert "members: 7 pages, 12 templates, 40 downloads and a zip of all templates" in lines
    scheduled = lines[lines.index("[scheduled] release date  page  who reads all of it") + 1 :]
    assert scheduled == [f"{RELEASE}  docs/{GUIDE}.md  members"]
    # Nothing was built and no private state was made.
    assert not (project / "site").exists() and not (project / ".memberkit").exists()
    # The same sources give the same text; on the release day nothing is waiting.
    again = run_memberkit("report", cwd=project, env={schedule.TODAY_ENV: "2027-01-01"})
    assert again.stdout == result.stdout
    later = run_memberkit("report", cwd=project, env={schedule.TODAY_ENV: RELEASE})
    assert later.stdout.splitlines()[-1] == "(none)"


def test_report_names_a_broken_page(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project", with_state=False)
    about = project / "docs/about.md"
    about.write_text(about.read_text().replace("access: public", "access: vip"))
    result = run_memberkit("report", cwd=project)
    assert result.returncode == 1
    assert "docs/about.md: front matter 'access' is 'vip'" in result.stderr
    assert "Traceback" not in result.stderr
