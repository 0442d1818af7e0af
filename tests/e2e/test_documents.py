"""A member fills in a template, copies it three ways and downloads it, in Chromium."""

from __future__ import annotations

import io
import re
from pathlib import Path

from docx import Document
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from generator import mk1
from generator import state as private

from .conftest import PageWatch, screenshot


def opened(bundled_project: Path, path: str) -> bytes:
    """What the build sealed into `site/<path>.mk1`, opened with the tier key."""
    state = private.load(bundled_project / private.STATE_DIR)
    keys = {t: (k.v, mk1.unb64url(k.k)) for t, k in state.tiers.items()}
    envelope = (bundled_project / "site" / f"{path}.mk1").read_bytes()
    return mk1.open_envelope(envelope, keys, site=state.site, path=path)[1]


def test_fill_copy_and_download_a_template(
    member_page: tuple[Page, PageWatch], served_site: str, bundled_project: Path
) -> None:
    tab, _ = member_page
    tab.goto(served_site + "templates/")
    tab.evaluate("window.mkSamePage = true")
    tab.get_by_role("link", name="Daily status report").first.click()
    expect(tab).to_have_url(re.compile(r"/templates/daily-status-report/$"))
    preview = tab.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("[Your name]")
    # Reached by instant navigation (a full load would have lost the mark), and it works.
    assert tab.evaluate("window.mkSamePage === true")

    tab.get_by_label("Your name").fill("Rosa Lima")
    tab.get_by_label("Date").fill("2026-12-01")
    tab.get_by_label("Overall status").select_option("At risk")
    tab.get_by_label("What you finished today").fill("Closed 41 tickets.")
    expect(preview).to_contain_text("Rosa Lima")
    expect(preview).to_contain_text("Daily status report: 2026-12-01")
    expect(preview).not_to_contain_text("[Your name]")
    screenshot(tab, "template-filled")

    tab.get_by_role("button", name="Copy as plain text").click()
    expect(tab.get_by_role("status")).to_contain_text("Copied")
    text = tab.evaluate("navigator.clipboard.readText()")
    assert "DAILY STATUS REPORT: 2026-12-01" in text
    assert "- From: Rosa Lima" in text and "Closed 41 tickets." in text
    assert "**" not in text and "[Client or manager name]" in text

    tab.get_by_role("button", name="Copy as Markdown").click()
    expect(tab.get_by_role("status")).to_contain_text("Markdown")
    markdown = tab.evaluate("navigator.clipboard.readText()")
    assert markdown.startswith("# Daily status report: 2026-12-01")
    assert "**From:** Rosa Lima" in markdown

    tab.get_by_role("button", name="Copy formatted").click()
    expect(tab.get_by_role("status")).to_contain_text("formatting")
    rich = tab.evaluate(
        """async () => {
            const [item] = await navigator.clipboard.read();
            return await (await item.getType("text/html")).text();
        }"""
    )
    assert "<strong>From:</strong> Rosa Lima" in rich and "mk-blank" not in rich

    with tab.expect_download() as info:
        tab.get_by_role("link", name="Markdown (.md)").click()
    download = info.value
    assert download.suggested_filename == "daily-status-report.md"
    assert "**From:** Rosa Lima" in Path(download.path()).read_text()

    with tab.expect_download() as info:
        tab.get_by_role("link", name="Text (.txt)").click()
    assert "Closed 41 tickets." in Path(info.value.path()).read_text()

    with tab.expect_download() as info:
        tab.get_by_role("link", name="Word (.docx)").click()
    assert info.value.suggested_filename == "daily-status-report.docx"
    expected = opened(bundled_project, "downloads/daily-status-report.docx")
    assert Path(info.value.path()).read_bytes() == expected
    assert Document(info.value.path()).paragraphs  # a real Word file


def test_spreadsheet_template_downloads_xlsx_and_csv(
    member_page: tuple[Page, PageWatch], served_site: str, bundled_project: Path
) -> None:
    tab, _ = member_page
    tab.goto(served_site + "templates/budget-planner/")
    for name, fmt in (("Excel (.xlsx)", "xlsx"), ("CSV", "csv")):
        with tab.expect_download() as info:
            tab.get_by_role("link", name=name).click()
        assert info.value.suggested_filename == f"budget-planner.{fmt}"
        expected = opened(bundled_project, f"downloads/budget-planner.{fmt}")
        assert Path(info.value.path()).read_bytes() == expected
    load_workbook(io.BytesIO(opened(bundled_project, "downloads/budget-planner.xlsx")))
    screenshot(tab, "template-spreadsheet")
