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
from playwright.sync_api import Browser, Locator, Page, expect

from generator.documents.dates import DateStyle
from generator.documents.model import DocumentTemplate, load_template
from generator.documents.spreadsheet import BLANK_FILL
from generator.members import store
from generator.protection import mk1

from ..conftest import ROOT
from ..documents.examples import assert_no_example_in_downloads
from .conftest import (
    ARTIFACTS,
    IN_CI,
    PageWatch,
    instant_navigation_ready,
    screenshot,
    sign_in,
    watched_tab,
)

NAME = 'Zoë O\'Brien <&> "QA"'
DONE = ['Closed 41 tickets <&> "refunds"', "Wrote the café's FAQ: ça marche"]
MONTH = "Décembre 2026 — Q4"
NOTES = ["Move the blog to January.", 'Ask Maria for <10> fewer hours & "no" overtime.']
#: LibreOffice's CSV export: commas, quotes, UTF-8, from the first row.
AS_CSV = "csv:Text - txt - csv (StarCalc):44,34,76,1"
DAY = "12/01/2026"  # the bundled site is in English: MM/DD/YYYY


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
    tab.get_by_label("Date").fill(DAY)
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
    instant_navigation_ready(tab)
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
    expect(preview).to_contain_text(f"Daily status report: {DAY}")
    expect(preview).not_to_contain_text("[Your name]")
    # The two-line answer is two lines in the preview.
    done = preview.locator('.mk-blank[data-field="done_today"]')
    assert done.inner_text().split("\n") == DONE
    screenshot(tab, "template-filled")
    screenshot(tab, "template-filled-full", full_page=True)

    tab.get_by_role("button", name="Copy as plain text").click()
    expect(tab.get_by_role("status")).to_contain_text("Copied")
    text = tab.evaluate("navigator.clipboard.readText()")
    title = f"DAILY STATUS REPORT: {DAY}"
    assert text.startswith(f"{title}\n{'=' * len(title)}\n")
    assert f"- From: {NAME}\n" in text and "\n".join(DONE) + "\n" in text
    assert "**" not in text and "[Client or manager name]" in text

    tab.get_by_role("button", name="Copy as Markdown").click()
    expect(tab.get_by_role("status")).to_contain_text("Markdown")
    markdown = tab.evaluate("navigator.clipboard.readText()")
    assert markdown.startswith(f"# Daily status report: {DAY}")
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
    assert paragraphs[0].text == f"Daily status report: {DAY}"
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
    # The member's answers, the rows to fill and the totals: never the example's rows.
    made = {"downloads/budget-planner.xlsx": xlsx.read_bytes(), "downloads/budget-planner.csv": raw}
    assert_no_example_in_downloads(bundled_template("budget-planner"), made)

    # Typed text that looks like a formula stays text: a `'` in front in the CSV (as
    # OWASP advises), a text cell in Excel.
    tab.get_by_label("Month", exact=True).fill("=1+1")
    rows = list(csv.reader(download(tab, "CSV", tmp_path).open(encoding="utf-8-sig")))
    assert rows[3] == ["Month", "'=1+1"]
    month = load_workbook(download(tab, "Excel (.xlsx)", tmp_path))["Budget"]["B4"]
    assert month.value == "=1+1" and month.data_type == "s"


def bundled_template(slug: str) -> DocumentTemplate:
    folder = ROOT / "templates"
    return load_template(folder / f"{slug}.md", root=folder, tiers=["members"])[0]


def fill_timesheet(tab: Page, site: str, week: str) -> Locator:
    """The timesheet filled in; its date typed as `week` (in any way) and the field left."""
    tab.goto(site + "templates/timesheet/")
    tab.get_by_label("Worker name").fill(NAME)
    tab.get_by_label("Client or business").fill("Bright Pantry Goods")
    tab.get_by_label("Week starting").fill(week)
    tab.get_by_label("Hourly rate in USD").fill("9")  # leaves the date field
    return tab.get_by_label("Week starting")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_timesheet_shows_its_sheet_and_downloads_it_to_fill(
    browser: Browser, served_site: str, tmp_path: Path, scheme: str
) -> None:
    """The preview shows the sheet the downloads hold (header, rows to fill, totals); the
    example's rows are an example on the page, never in a download. The site is in
    English: its dates are MM/DD/YYYY, in a browser set to German as in any other."""
    with watched_tab(
        browser, served_site, accept_downloads=True, locale="de-DE", color_scheme=scheme
    ) as (tab, _):
        sign_in(tab, served_site)
        week = fill_timesheet(tab, served_site, "3/9/2026")
        expect(week).to_have_value("03/09/2026")  # written in the site's style
        preview = tab.get_by_role("region", name="Preview")
        sheet = preview.locator("table.mk-sheet")
        expect(sheet.locator("thead th")).to_have_text(
            [
                "Date",
                "Task or project",
                "Start",
                "End",
                "Hours",
                "Billable hours",
                "Rate (USD)",
                "Amount (USD)",
                "Notes",
            ]
        )
        expect(sheet.locator("tbody tr")).to_have_count(10)
        expect(sheet.locator("tbody td").filter(has_text=re.compile(r"\S"))).to_have_count(0)
        expect(sheet.locator("tfoot")).to_contain_text("Total")
        expect(preview).to_contain_text("Week starting: 03/09/2026")
        expect(preview).not_to_contain_text("Support inbox")
        # The example, labelled as one, closed until opened; its dates in the site's style.
        example = tab.locator(".mk-doc__example")
        expect(example.locator("summary")).to_contain_text("Example")
        example.locator("summary").click()
        expect(example).to_contain_text("Support inbox and live chat")
        expect(example).to_contain_text("03/09/2026")
        example.evaluate("e => e.scrollIntoView({block: 'end'})")
        screenshot(tab, f"timesheet-example-{scheme}")
        example.locator("summary").click()
        screenshot(tab, f"timesheet-filled-{scheme}")
        preview.evaluate("e => e.scrollIntoView()")  # the sheet at the top of the window
        tab.evaluate("window.scrollBy(0, -72)")  # below the header
        screenshot(tab, f"timesheet-preview-{scheme}")
        if scheme == "dark":
            return

        xlsx = download(tab, "Excel (.xlsx)", tmp_path)
        ws = load_workbook(xlsx)["Timesheet"]
        assert ws["B5"].value == datetime.datetime(2026, 3, 9)  # a real date
        assert ws["B5"].number_format == "mm/dd/yyyy"  # shown as the site writes dates
        assert ws["B6"].value == 9
        assert ws["A9"].number_format == "mm/dd/yyyy"  # the Date column's rows too
        comma = download(tab, "CSV", tmp_path)
        rows = list(csv.reader(comma.open(encoding="utf-8-sig")))
        assert rows[4] == ["Week starting", "03/09/2026"]
        markdown = download(tab, "Markdown (.md)", tmp_path).read_text("utf-8")
        assert "**Week starting:** 03/09/2026" in markdown
        words = [p.text for p in Document(str(download(tab, "Word (.docx)", tmp_path))).paragraphs]
        assert "Week starting: 03/09/2026" in words
        made = {f"downloads/timesheet.{p.suffix[1:]}": p.read_bytes() for p in tmp_path.iterdir()}
        assert_no_example_in_downloads(bundled_template("timesheet"), made)


def test_a_date_not_written_in_the_sites_style_is_marked(
    member_page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, _ = member_page
    week = fill_timesheet(tab, served_site, "31/12/2026")  # day first: not an English date
    hint = tab.locator("#mk-timesheet-week_starting-format")
    expect(week).to_have_attribute("aria-invalid", "true")
    expect(week).to_have_accessible_description(
        re.compile(r"^Not a date: write it as MM/DD/YYYY, for example \d\d/\d\d/\d{4}\.$")
    )
    screenshot(tab, "timesheet-date-wrong")
    week.fill("2026-12-31")  # a YYYY-MM-DD date is read too, and written the site's way
    expect(week).not_to_have_attribute("aria-invalid", "true")  # right as it is typed
    expect(hint).to_have_text("Format: MM/DD/YYYY")
    week.press("Tab")
    expect(week).to_have_value("12/31/2026")
    week.fill("")
    week.press("Tab")
    expect(week).not_to_have_attribute("aria-invalid", "true")  # empty: a blank left


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


@pytest.mark.parametrize(
    ("pattern", "typed", "day"),
    [
        ("dd.MM.yyyy", "7.12.2026", datetime.date(2026, 12, 7)),
        ("dd.MM.yyyy", "07/12/2026", datetime.date(2026, 12, 7)),  # any separators
        ("dd.MM.yyyy", "07122026", datetime.date(2026, 12, 7)),  # digits alone, in order
        ("dd.MM.yyyy", "2026-12-07", datetime.date(2026, 12, 7)),  # YYYY-MM-DD is read too
        ("MM/dd/yyyy", "12/7/2026", datetime.date(2026, 12, 7)),
        ("yyyy. MM. dd.", "2026. 12. 7.", datetime.date(2026, 12, 7)),
        ("MM/dd/yyyy", "2/29/2028", datetime.date(2028, 2, 29)),  # a leap year
        ("MM/dd/yyyy", "2/29/2026", None),  # not one
        ("dd.MM.yyyy", "12/31/2026", None),  # no 31st month
        ("dd.MM.yyyy", "7.12.26", None),  # a year of two digits: which century?
        ("dd.MM.yyyy", "7 Dec 2026", None),
        ("dd.MM.yyyy", "7.12", None),
    ],
)
def test_dates_module_reads_and_writes_the_sites_style(
    page: tuple[Page, PageWatch],
    served_site: str,
    pattern: str,
    typed: str,
    day: datetime.date | None,
) -> None:
    """dates.js, on its own: what the form's date field reads, written as the build
    writes dates (generator/documents/dates.py), and Excel's day number of it."""
    tab, _ = page
    tab.goto(served_site + "templates/")
    found = tab.evaluate(
        """async ([pattern, typed]) => {
            const dates = await import(new URL("../assets/memberkit/dates.js", location.href).href);
            const date = dates.parseDate(typed, pattern);
            return date && [dates.formatDate(date, pattern), dates.excelDay(date)];
        }""",
        [pattern, typed],
    )
    if day is None:
        assert found is None
        return
    assert found == [
        DateStyle("any", pattern).format(day),
        (day - datetime.date(1899, 12, 30)).days,
    ]


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
    assert f"Daily status report: {DAY}" in text
    assert f"From: {NAME}" in text and "\n".join(DONE) in text
    assert "[Client or manager name]" in text

    # A member types a row into the sheet they downloaded: LibreOffice works it out.
    workbook = load_workbook(xlsx)
    first = workbook["Budget"]["A10"].row  # the first row to fill (the header is row 9)
    for column, value in zip("ABCDEG", ["Ana", "Design", "Per task", 10, 5, 0.1], strict=True):
        workbook["Budget"][f"{column}{first}"] = value
    workbook.save(xlsx)
    rows = list(csv.reader(convert(soffice, xlsx, AS_CSV, tmp_path).open(encoding="utf-8")))
    assert rows[2][:2] == ["Business name", NAME]
    assert rows[4][:2] == ["Monthly ceiling in USD", "2500.5"]
    assert rows[6][:2] == ["Decisions for this month", "\n".join(NOTES)]
    assert rows[9][:9] == [
        "Ana",
        "Design",
        "Per task",
        "10.00",
        "5",
        "50.00",
        "10%",
        "5.00",
        "55.00",
    ]
    assert rows[-1][0] == "Total" and rows[-1][8] == "55.00"  # formulas computed
    # So does the CSV: the member's row and the totals, computed on opening.
    comma = download(tab, "CSV", tmp_path)
    table = list(csv.reader(comma.open(encoding="utf-8-sig", newline="")))
    table[9][:7] = ["Ana", "Design", "Per task", "10", "5", table[9][5], "0.1"]
    with comma.open("w", encoding="utf-8-sig", newline="") as out:
        csv.writer(out).writerows(table)
    opened_csv = convert(soffice, comma, AS_CSV, tmp_path / "c")
    computed = list(csv.reader(opened_csv.open(encoding="utf-8")))
    assert computed[9][5] == "50" and computed[9][8] == "55"
    assert computed[-1][0] == "Total" and computed[-1][8] == "55"
    # A date field's cell shows in the site's style.
    fill_timesheet(tab, served_site, "03/09/2026")
    sheet = convert(
        soffice,
        download(tab, "Excel (.xlsx)", tmp_path),
        AS_CSV,
        tmp_path / "t",
    )
    assert list(csv.reader(sheet.open(encoding="utf-8")))[4][:2] == ["Week starting", "03/09/2026"]

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
