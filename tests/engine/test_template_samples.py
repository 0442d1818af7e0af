"""A template's sample for visitors, built with the real CLI: public above the members'
part where the owner chose one and nowhere else; members' pages and files keep their
writing hints in the form alone; the leak check passes and still finds the rest."""

from __future__ import annotations

import re
from pathlib import Path

from generator.protection import mk1

from ..conftest import member_view, run_memberkit, tier_keys
from ..protection.test_attacks import every_text

#: A writing hint of the daily status report: members-only, in its form.
DAILY_HINT = "List finished work only. Add numbers where you can, such as tickets closed"
#: The daily status report's own text, shown by its sample.
DAILY_TEXT = "I will keep working on anything else I can do in the meantime"
#: An example of the weekly report (no sample in the bundled site).
WEEKLY_EXAMPLE = "A busy week in support because of the spring sale"
WEEKLY_HINT = "For each problem: what happened, what you did about it"


def visitor_page(site: Path, slug: str) -> str:
    return (site / "templates" / slug / "index.html").read_text("utf-8")


def public_part(page: str) -> str:
    """What a visitor reads of a template page: its title down to the members' part."""
    return page[page.index("<h1") : page.index('<div class="mk1-locked"')]


def test_visitors_see_a_sample_where_the_owner_chose_one(bundled_project: Path) -> None:
    site = bundled_project / "site"
    for slug, example in (
        ("daily-status-report", "Answered 34 support tickets, including 5 refund requests."),
        ("timesheet", "30 minutes learning the new returns process"),
    ):
        page = visitor_page(site, slug)
        teaser = public_part(page)
        assert 'class="mk-sample mk1-for-visitors"' in teaser, slug
        assert example in teaser, slug
        # The offer beside it: the join page (resolved), and the sign-in form below.
        sample = teaser[teaser.index('<section class="mk-sample') :]
        assert 'href="../../join/"' in sample and 'href="#mk1-members"' in sample
        assert 'name="worker_name"' not in page and "mk-doc__hint" not in page  # form: sealed
    assert DAILY_TEXT in public_part(visitor_page(site, "daily-status-report"))
    # Without the owner's choice: no sample, and the template's text stays sealed.
    weekly = visitor_page(site, "weekly-report")
    assert "mk-sample" not in weekly
    everything = every_text(site)
    for text in (WEEKLY_EXAMPLE, WEEKLY_HINT, DAILY_HINT):
        assert text not in everything, text
    index = (site / "templates" / "index.html").read_text("utf-8")
    assert index.count(">See a sample</a>") == 2
    assert 'class="mk-sample-link mk1-for-visitors" href="daily-status-report/"' in index


def test_members_get_the_form_with_its_hints_and_files_without_them(
    bundled_project: Path,
) -> None:
    page = member_view(bundled_project, "templates/daily-status-report/")
    ident = "mk-daily-status-report-done_today"
    assert re.search(rf'<textarea id="{ident}" [^>]*aria-describedby="{ident}-hint"', page)
    assert f'<p class="mk-doc__hint" id="{ident}-hint">{DAILY_HINT}' in page
    preview = page[page.index('<section class="mk-doc__preview"') :]
    preview = preview[: preview.index("</section>")]
    assert "Done today" in preview and DAILY_HINT not in preview
    site, keys = tier_keys(bundled_project)
    opened = []
    for sealed in sorted((bundled_project / "site" / "downloads").glob("*.mk1")):
        path = sealed.relative_to(bundled_project / "site").as_posix().removesuffix(".mk1")
        _, plain = mk1.open_envelope(sealed.read_bytes(), keys, site=site, path=path)
        opened.append(path)
        folder = bundled_project / "opened"
        folder.mkdir(exist_ok=True)
        (folder / Path(path).name).write_bytes(plain)
    assert "downloads/daily-status-report.docx" in opened
    assert "downloads/all-templates-members.zip" in opened
    everything = every_text(bundled_project / "opened")
    assert "Answered" not in everything  # the files hold blanks, not the examples
    for hint in (DAILY_HINT, WEEKLY_HINT):
        assert hint not in everything


def test_a_site_wide_sample_setting_and_the_leak_check(project: Path) -> None:
    """Every members' template shows a sample but one that says no. The check passes;
    the members' parts (hints) and a template without a sample are still protected."""
    config = project / "mkdocs.yml"
    text = config.read_text()
    assert "      tiers: [members]\n" in text
    config.write_text(
        text.replace(
            "      tiers: [members]\n", "      tiers: [members]\n      templates_sample: true\n"
        )
    )
    daily = project / "templates" / "daily-status-report.md"
    daily.write_text(daily.read_text().replace("sample: true", "sample: false"))
    report = run_memberkit("report", cwd=project)
    assert report.returncode == 0, report.stderr
    lines = report.stdout.splitlines()
    assert any(re.match(r"templates/weekly-report\.md  members  .*  sample$", x) for x in lines)
    assert any(re.match(r"templates/daily-status-report\.md  members  .*\.txt$", x) for x in lines)

    built = run_memberkit("build", cwd=project)
    assert built.returncode == 0, built.stderr
    site = project / "site"
    assert WEEKLY_EXAMPLE in public_part(visitor_page(site, "weekly-report"))
    assert "mk-sample" not in visitor_page(site, "daily-status-report")
    assert DAILY_TEXT not in every_text(site)
    clean = run_memberkit("check", cwd=project)
    assert clean.returncode == 0, clean.stderr

    about = site / "about" / "index.html"
    original = about.read_text()
    # A sample is public: the text it shows is no leak wherever it stands.
    about.write_text(original + f"<p>{WEEKLY_EXAMPLE}, and the queue stayed short.</p>")
    assert run_memberkit("check", cwd=project).returncode == 0
    for leaked in (
        "For each problem: what happened, what you did about it, and whether it is fully solved.",
        "If the status is At risk or Blocked, I will keep working on anything else I can do.",
    ):
        about.write_text(original + f"<p>{leaked}</p>")
        caught = run_memberkit("check", cwd=project)
        assert caught.returncode != 0, leaked
        assert "site/about/index.html" in caught.stderr and "protected text" in caught.stderr
