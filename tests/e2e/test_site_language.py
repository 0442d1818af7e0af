"""A site in German writes every date the German way, whatever the browser's language.

The form's date field, the preview, the copies, the Word, Markdown and text files and
the spreadsheet's date cells all show `07.12.2026`, in a browser set to American
English; a spreadsheet template written for this site downloads without its example's
rows. In Chromium behind nginx."""

from __future__ import annotations

import csv
import datetime
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from generator.documents.model import load_template

from ..conftest import ROOT, run_memberkit, write_state
from ..documents.examples import assert_no_example_in_downloads
from ..documents.test_documents import MILEAGE
from .conftest import Nginx, screenshot, sign_in, watched_tab
from .test_documents import AS_CSV, convert, download, fill_timesheet, soffice

__all__ = ["soffice"]  # a fixture of the tests here too


@pytest.fixture(scope="module")
def german_project(tmp_path_factory: pytest.TempPathFactory, nginx_bin: str) -> Iterator[Path]:
    tmp = tmp_path_factory.mktemp("german")
    server = Nginx(tmp / "nginx")
    project = tmp / "project"
    (project / "docs").mkdir(parents=True)
    (project / "templates").mkdir()
    (project / "mkdocs.yml").write_text(
        f"site_name: Vorlagen\nsite_url: http://127.0.0.1:{server.port}/\n"
        "theme:\n  name: material\n  language: de\n  font: false\n"
        "nav:\n  - index.md\n  - Templates: templates/index.md\n"
        "plugins:\n  - search\n  - memberkit\n"
    )
    (project / "docs/index.md").write_text("# Vorlagen\n\nFür Mitglieder.\n")
    for name in ("timesheet.md", "daily-status-report.md"):
        shutil.copy(ROOT / "templates" / name, project / "templates" / name)
    (project / "templates/mileage.md").write_text(MILEAGE, encoding="utf-8")
    write_state(project)
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    server.serve(project / "site")
    project.joinpath(".url").write_text(server.url)
    yield project
    server.stop()


@pytest.fixture
def german_tab(browser: Browser, german_project: Path) -> Iterator[tuple[Page, str]]:
    """A member's tab on the German site, in a browser set to American English."""
    site = german_project.joinpath(".url").read_text()
    with watched_tab(browser, site, accept_downloads=True, locale="en-US") as (tab, _):
        sign_in(tab, site)
        yield tab, site


def test_the_daily_report_writes_its_date_the_german_way(
    german_tab: tuple[Page, str], tmp_path: Path
) -> None:
    tab, site = german_tab
    tab.goto(site + "templates/daily-status-report/")
    expect(tab.locator("input[type=date]")).to_have_count(0)  # not the browser's own
    date = tab.get_by_label("Date")
    expect(date).to_have_attribute("placeholder", "e.g. 12.03.2026")
    expect(date).to_have_accessible_description("Format: DD.MM.YYYY")
    date.fill("7.12.2026")
    date.press("Tab")
    expect(date).to_have_value("07.12.2026")
    preview = tab.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("Daily status report: 07.12.2026")
    screenshot(tab, "template-german-date")
    markdown = download(tab, "Markdown (.md)", tmp_path).read_text("utf-8")
    assert markdown.startswith("# Daily status report: 07.12.2026\n")
    text = download(tab, "Text (.txt)", tmp_path).read_text("utf-8")
    assert text.startswith("DAILY STATUS REPORT: 07.12.2026\n")
    word = Document(str(download(tab, "Word (.docx)", tmp_path)))
    assert word.paragraphs[0].text == "Daily status report: 07.12.2026"
    # An American date is no German one: 12/31 has no 31st month.
    date.fill("12/31/2026")
    date.press("Tab")
    expect(date).to_have_attribute("aria-invalid", "true")
    expect(date).to_have_accessible_description(
        "Not a date: write it as DD.MM.YYYY, for example "
        + datetime.date.today().strftime("%d.%m.%Y")
        + "."
    )


def test_the_sheets_date_cells_are_german_and_hold_no_example(
    german_tab: tuple[Page, str], german_project: Path, tmp_path: Path, soffice: str
) -> None:
    tab, site = german_tab
    week = fill_timesheet(tab, site, "9.3.2026")
    expect(week).to_have_value("09.03.2026")
    expect(tab.get_by_role("region", name="Preview")).to_contain_text("Week starting: 09.03.2026")
    example = tab.locator(".mk-doc__example")
    example.locator("summary").click()
    expect(example).to_contain_text("09.03.2026")  # the example's dates, the German way
    xlsx = download(tab, "Excel (.xlsx)", tmp_path)
    sheet = load_workbook(xlsx)["Timesheet"]
    assert sheet["B5"].value == datetime.datetime(2026, 3, 9)
    assert sheet["B5"].number_format == "dd.mm.yyyy" == sheet["A9"].number_format
    rows = list(csv.reader(download(tab, "CSV", tmp_path).open(encoding="utf-8-sig")))
    assert rows[4] == ["Week starting", "09.03.2026"]
    # LibreOffice shows the date cell as the site writes dates.
    shown = list(csv.reader(convert(soffice, xlsx, AS_CSV, tmp_path / "lo").open("r")))
    assert shown[4][:2] == ["Week starting", "09.03.2026"]
    folder = german_project / "templates"
    template = load_template(folder / "timesheet.md", root=folder, tiers=["members"])[0]
    made = {f"downloads/timesheet.{p.suffix[1:]}": p.read_bytes() for p in tmp_path.glob("*.*")}
    assert_no_example_in_downloads(template, made, "de")

    # A template written for this site: its example is on its page, not in its files.
    tab.goto(site + "templates/mileage/")
    tab.get_by_label("Driver").fill("Sam Okoro")
    tab.get_by_label("First day").fill("2027-01-04")
    tab.get_by_label("Driver").focus()
    expect(tab.get_by_role("region", name="Preview")).to_contain_text(
        "Mileage log of Sam Okoro from 04.01.2027"
    )
    expect(tab.get_by_role("region", name="Preview")).not_to_contain_text("Leeds")
    tab.locator(".mk-doc__example summary").click()
    expect(tab.locator(".mk-doc__example")).to_contain_text("23.01.2027")
    screenshot(tab, "template-german-new-sheet")
    mileage = load_template(folder / "mileage.md", root=folder, tiers=["members"])[0]
    (tmp_path / "m").mkdir()
    files = {
        f"downloads/mileage.{fmt}": download(tab, name, tmp_path / "m").read_bytes()
        for name, fmt in (("Excel (.xlsx)", "xlsx"), ("CSV", "csv"), ("Word (.docx)", "docx"))
    }
    assert_no_example_in_downloads(mileage, files, "de")
    assert load_workbook(tmp_path / "m/mileage.xlsx")["Trips"]["B4"].value == datetime.datetime(
        2027, 1, 4
    )
