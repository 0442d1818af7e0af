"""A member fills in a template, copies it three ways and downloads it, in Chromium.

What the member types (a two-line answer, `<&>"'`, letters beyond ASCII) must be in
every copy and every download, Word, Excel and CSV included; a blank left empty stays
a placeholder. LibreOffice opens the filled Word and Excel files.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from generator.documents.spreadsheet import BLANK_FILL
from generator.members import store
from generator.protection import mk1

from .conftest import ARTIFACTS, IN_CI, PageWatch, screenshot

NAME = 'Zoë O\'Brien <&> "QA"'
DONE = ['Closed 41 tickets <&> "refunds"', "Wrote the café's FAQ: ça marche"]
MONTH = "Décembre 2026 — Q4"
NOTES = ["Move the blog to January.", 'Ask Maria for <10> fewer hours & "no" overtime.']


def opened(bundled_project: Path, path: str) -> bytes:
    """What the build sealed into `site/<path>.mk1`, opened with the tier key."""
    state = store.load(bundled_project / store.STATE_DIR)
    keys = {t: (k.v, mk1.unb64url(k.k)) for t, k in state.tier_keys().items()}
    envelope = (bundled_project / "site" / f"{path}.mk1").read_bytes()
    return mk1.open_envelope(envelope, keys, site=state.site, path=path)[1]


def download(tab: Page, name: str, to: Path) -> Path:
    """Click a download button; the file as the browser saved it."""
    with tab.expect_download() as info:
        tab.get_by_role("link", name=name).click()
    target = to / info.value.suggested_filename
    info.value.save_as(target)
    return target


def fill_daily_report(tab: Page, site: str) -> None:
    tab.goto(site + "templates/daily-status-report/")
    tab.get_by_label("Your name").fill(NAME)
    tab.get_by_label("Date").fill("2026-12-01")
    tab.get_by_label("Overall status").select_option("At risk")
    tab.get_by_label("Hours worked today", exact=True).fill("7.5")
    tab.get_by_label("What you finished today").fill("\n".join(DONE) + "\n")
    # "Client or manager name" is left empty: it stays a placeholder everywhere.


def fill_budget(tab: Page, site: str) -> None:
    tab.goto(site + "templates/budget-planner/")
    tab.get_by_label("Business name").fill(NAME)
    tab.get_by_label("Month", exact=True).fill(MONTH)
    tab.get_by_label("Monthly ceiling in USD").fill("2500.5")
    tab.get_by_label("Decisions for this month").fill("\n".join(NOTES))
    # "Prepared by" is left empty.


def test_fill_copy_and_download_a_template(
    member_page: tuple[Page, PageWatch], served_site: str, tmp_path: Path
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
    # An example reads as a hint: "e.g. …", in italics, lighter than a typed value.
    hours = tab.get_by_label("Hours worked today", exact=True)
    expect(hours).to_have_attribute("placeholder", "e.g. 6.5")
    hint = hours.evaluate(
        "input => { const s = getComputedStyle(input, '::placeholder');"
        " return [s.fontStyle, s.color, getComputedStyle(input).color]; }"
    )
    assert hint[0] == "italic" and hint[1] != hint[2], hint
    screenshot(tab, "template-empty")

    fill_daily_report(tab, served_site)
    expect(preview).to_contain_text(NAME)
    expect(preview).to_contain_text("Daily status report: 2026-12-01")
    expect(preview).not_to_contain_text("[Your name]")
    # The two-line answer is two lines in the preview.
    done = preview.locator('.mk-blank[data-field="done_today"]')
    assert done.inner_text().split("\n") == DONE
    screenshot(tab, "template-filled")
    screenshot(tab, "template-filled-full", full_page=True)

    tab.get_by_role("button", name="Copy as plain text").click()
    expect(tab.get_by_role("status")).to_contain_text("Copied")
    text = tab.evaluate("navigator.clipboard.readText()")
    title = "DAILY STATUS REPORT: 2026-12-01"
    assert text.startswith(f"{title}\n{'=' * len(title)}\n")
    assert f"- From: {NAME}\n" in text and "\n".join(DONE) + "\n" in text
    assert "**" not in text and "[Client or manager name]" in text

    tab.get_by_role("button", name="Copy as Markdown").click()
    expect(tab.get_by_role("status")).to_contain_text("Markdown")
    markdown = tab.evaluate("navigator.clipboard.readText()")
    assert markdown.startswith("# Daily status report: 2026-12-01")
    assert f"**From:** {NAME}" in markdown
    assert f"{DONE[0]}  \n{DONE[1]}\n" in markdown  # a hard line break

    tab.get_by_role("button", name="Copy formatted").click()
    expect(tab.get_by_role("status")).to_contain_text("formatting")
    rich = tab.evaluate(
        """async () => {
            const [item] = await navigator.clipboard.read();
            return await (await item.getType("text/html")).text();
        }"""
    )
    assert '<strong>From:</strong> Zoë O\'Brien &lt;&amp;&gt; "QA"' in rich
    assert 'Closed 41 tickets &lt;&amp;&gt; "refunds"<br>Wrote the café\'s FAQ' in rich
    assert "mk-blank" not in rich

    md = download(tab, "Markdown (.md)", tmp_path)
    assert md.name == "daily-status-report.md"
    assert md.read_text("utf-8") == markdown
    txt = download(tab, "Text (.txt)", tmp_path)
    assert txt.read_text("utf-8") == text

    docx = download(tab, "Word (.docx)", tmp_path)
    assert docx.name == "daily-status-report.docx"
    document = Document(str(docx))
    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    assert paragraphs[0].style.name == "Title"
    assert paragraphs[0].text == "Daily status report: 2026-12-01"
    assert f"From: {NAME}" in [p.text for p in paragraphs]
    assert "Hours worked today: 7.5" in [p.text for p in paragraphs]
    assert "\n".join(DONE) in [p.text for p in paragraphs]  # one paragraph, a line break
    runs = {r.text: r for p in document.paragraphs for r in p.runs}
    assert runs[NAME].font.highlight_color is None
    assert runs["[Client or manager name]"].font.highlight_color == WD_COLOR_INDEX.YELLOW
    assert "[Your name]" not in runs and "[Date]" not in runs


def test_spreadsheet_downloads_hold_the_typed_values(
    member_page: tuple[Page, PageWatch], served_site: str, bundled_project: Path, tmp_path: Path
) -> None:
    tab, _ = member_page
    fill_budget(tab, served_site)
    preview = tab.get_by_role("region", name="Preview")
    expect(preview).to_contain_text(MONTH)
    screenshot(tab, "template-spreadsheet")

    xlsx = download(tab, "Excel (.xlsx)", tmp_path)
    assert xlsx.name == "budget-planner.xlsx"
    workbook = load_workbook(xlsx)
    sheet = workbook["Budget"]
    cells = {name: workbook.defined_names[name].attr_text for name in workbook.defined_names}
    assert cells["business_name"] == "'Budget'!$B$3"
    assert sheet["A3"].value == "Business name" and sheet["B3"].value == NAME
    assert sheet["B4"].value == MONTH
    assert sheet["B5"].value == 2500.5  # a number field is a number cell
    assert sheet["B6"].value is None and sheet["B6"].fill == BLANK_FILL  # left empty
    assert sheet["B7"].value == "\n".join(NOTES)
    assert sheet["B7"].alignment.wrap_text and sheet.row_dimensions[7].height >= 30
    notes = [c.value for c in workbook["How to use"]["A"] if c.value]
    assert f"\u2022 Business: {NAME}" in notes
    assert "\u2022 Decisions for this month: " + "\n".join(NOTES) in notes
    assert "\u2022 Prepared by: [Prepared by]" in notes
    # The sheet's formulas are the build's.
    built = load_workbook(io.BytesIO(opened(bundled_project, "downloads/budget-planner.xlsx")))
    for row in sheet.iter_rows(min_row=9):
        for cell in row:
            assert cell.value == built["Budget"][cell.coordinate].value

    comma = download(tab, "CSV", tmp_path)
    assert comma.name == "budget-planner.csv"
    raw = comma.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[2:7] == [
        ["Business name", NAME],
        ["Month", MONTH],
        ["Monthly ceiling in USD", "2500.5"],
        ["Prepared by", ""],
        ["Decisions for this month", "\n".join(NOTES)],
    ]
    expected = opened(bundled_project, "downloads/budget-planner.csv").decode("utf-8-sig")
    assert raw.decode("utf-8-sig").split("\r\n")[8:] == expected.split("\r\n")[8:]

    # Typed text that looks like a formula stays text: a `'` in front in the CSV (as
    # OWASP advises), a text cell in Excel.
    tab.get_by_label("Month", exact=True).fill("=1+1")
    rows = list(csv.reader(download(tab, "CSV", tmp_path).open(encoding="utf-8-sig")))
    assert rows[3] == ["Month", "'=1+1"]
    month = load_workbook(download(tab, "Excel (.xlsx)", tmp_path))["Budget"]["B4"]
    assert month.value == "=1+1" and month.data_type == "s"


def test_a_date_field_is_a_real_date_in_excel(
    member_page: tuple[Page, PageWatch], served_site: str, tmp_path: Path
) -> None:
    tab, _ = member_page
    tab.goto(served_site + "templates/timesheet/")
    tab.get_by_label("Week starting").fill("2026-03-09")
    tab.get_by_label("Hourly rate in USD").fill("9")
    sheet = load_workbook(download(tab, "Excel (.xlsx)", tmp_path))["Timesheet"]
    assert sheet["B5"].value == datetime.datetime(2026, 3, 9)
    assert sheet["B5"].number_format == "yyyy-mm-dd"
    assert sheet["B6"].value == 9


def test_an_untouched_form_downloads_the_built_files(
    member_page: tuple[Page, PageWatch], served_site: str, bundled_project: Path, tmp_path: Path
) -> None:
    tab, _ = member_page
    tab.goto(served_site + "templates/budget-planner/")
    for name, fmt in (("Excel (.xlsx)", "xlsx"), ("CSV", "csv")):
        saved = download(tab, name, tmp_path)
        assert saved.read_bytes() == opened(bundled_project, f"downloads/budget-planner.{fmt}")


def test_the_zip_module_writes_what_python_reads(
    member_page: tuple[Page, PageWatch], served_site: str
) -> None:
    """zip.js, on its own: CRC-32 and a rewritten archive that Python's zipfile checks."""
    import base64
    import zipfile

    tab, _ = member_page
    tab.goto(served_site + "templates/")
    source = io.BytesIO()
    with zipfile.ZipFile(source, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("keep.txt", "unchanged " * 50)
        archive.writestr("stored.bin", bytes(range(256)), compress_type=zipfile.ZIP_STORED)
        archive.writestr("dir/é.xml", "<a>old</a>")
    result = tab.evaluate(
        """async (data) => {
            const zip = await import(new URL("../assets/memberkit/zip.js", location.href).href);
            const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
            const entries = zip.readZip(bytes);
            const target = entries.find((e) => e.name === "dir/é.xml");
            await target.set(`<a>${"new ".repeat(100)}&lt;é&gt;</a>`);
            const out = zip.writeZip(entries);
            return {
                crc: zip.crc32(new TextEncoder().encode("123456789")),
                names: entries.map((e) => e.name),
                kept: await entries[0].text(),
                out: btoa(String.fromCharCode(...out)),
            };
        }""",
        base64.b64encode(source.getvalue()).decode(),
    )
    assert result["crc"] == 0xCBF43926
    assert result["names"] == ["keep.txt", "stored.bin", "dir/é.xml"]
    assert result["kept"] == "unchanged " * 50
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode(result["out"])))
    assert archive.testzip() is None  # every CRC-32 checks
    assert archive.read("stored.bin") == bytes(range(256))
    assert archive.read("dir/é.xml").decode() == f"<a>{'new ' * 100}&lt;é&gt;</a>"


# -- LibreOffice opens the filled files ---------------------------------------------


@pytest.fixture(scope="module")
def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        why = "LibreOffice (soffice) is not installed"
        if IN_CI:
            pytest.fail(f"{why} (CI must install it: see .ci/run)")
        pytest.skip(
            f"{why}; install it to check the filled files in a real office program "
            "(sudo apt-get install libreoffice-writer-nogui libreoffice-calc-nogui)"
        )
    return found


def convert(soffice: str, source: Path, to: str, work: Path) -> Path:
    """`soffice --headless --convert-to`, with a profile of its own."""
    out = work / "out"
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            to,
            "--outdir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "HOME": str(work)},
    )
    converted = out / f"{source.stem}.{to.split(':')[0]}"
    assert converted.is_file(), f"LibreOffice could not open {source.name}: {result.stderr}"
    return converted


def test_libreoffice_opens_the_filled_files(
    member_page: tuple[Page, PageWatch], served_site: str, tmp_path: Path, soffice: str
) -> None:
    tab, _ = member_page
    fill_daily_report(tab, served_site)
    docx = download(tab, "Word (.docx)", tmp_path)
    fill_budget(tab, served_site)
    xlsx = download(tab, "Excel (.xlsx)", tmp_path)

    text = convert(soffice, docx, "txt:Text (encoded):UTF8", tmp_path).read_text("utf-8-sig")
    assert "Daily status report: 2026-12-01" in text
    assert f"From: {NAME}" in text and "\n".join(DONE) in text
    assert "[Client or manager name]" in text

    rows = list(
        csv.reader(
            convert(soffice, xlsx, "csv:Text - txt - csv (StarCalc):44,34,76,1", tmp_path).open(
                encoding="utf-8"
            )
        )
    )
    assert rows[2][:2] == ["Business name", NAME]
    assert rows[4][:2] == ["Monthly ceiling in USD", "2500.5"]
    assert rows[6][:2] == ["Decisions for this month", "\n".join(NOTES)]
    assert rows[-1][0] == "Total" and rows[-1][8] == "1,938.00"  # formulas computed

    # The first page of each filled file as LibreOffice lays it out, to look at.
    for source in (docx, xlsx):
        pdf = convert(soffice, source, "pdf", tmp_path)
        if shutil.which("pdftoppm"):
            ARTIFACTS.mkdir(exist_ok=True)
            picture = ARTIFACTS / f"template-filled-{source.suffix[1:]}"
            pages = ["-f", "1", "-l", "1", "-singlefile"]
            command = ["pdftoppm", "-png", "-r", "60", *pages, str(pdf), str(picture)]
            subprocess.run(command, check=True, timeout=60)


def test_back_to_top_waits_while_a_form_is_filled_in_on_a_phone(
    member_page: tuple[Page, PageWatch], served_site: str
) -> None:
    """Material's "Back to top" shows as the page scrolls up: over a template's form on a
    phone it would cover the labels being read. It waits while a field has the focus."""
    tab, _ = member_page
    tab.set_viewport_size({"width": 390, "height": 844})
    tab.goto(served_site + "templates/daily-status-report/")
    top = tab.locator(".md-top")

    def scroll_up_from(field: str) -> None:
        tab.get_by_label(field, exact=True).scroll_into_view_if_needed()
        tab.mouse.wheel(0, 600)
        tab.wait_for_timeout(300)
        tab.mouse.wheel(0, -250)  # scrolling up: Material shows the button

    tab.get_by_label("What you finished today").focus()
    scroll_up_from("What you finished today")
    tab.wait_for_timeout(500)
    expect(top).to_be_hidden()
    screenshot(tab, "template-phone-filling")
    # Out of the form, the button comes back as Material shows it.
    tab.evaluate("document.activeElement.blur()")
    scroll_up_from("What you finished today")
    expect(top).to_be_visible()
