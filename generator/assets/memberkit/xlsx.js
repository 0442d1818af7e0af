/* An Excel workbook with what the member typed.
 *
 * The build names each field's cell after the field (a defined name, `month` for
 * Budget!$B$4) and writes each blank of the "How to use" sheet as a rich-text run of
 * its own, `[Label]` in BLANK_TEXT (generator/documents/spreadsheet.py). A number
 * field becomes a number cell, a date field a real date (the cell shows it in the
 * site's date style, as the build set its format), anything else text, its lines
 * kept in the wrapped cell. */

import { excelDay, parseDate } from "./dates.js";
import { valueLines } from "./fill.js";
import { Package, elements, textElement, xmlText } from "./office.js";

const S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const PR = "http://schemas.openxmlformats.org/package/2006/relationships";
const WORKBOOK = "xl/workbook.xml";
const BLANK_TEXT = /9C5700$/i;
const REFERENCE = /^(?:'((?:[^']|'')+)'|([^!']+))!\$?([A-Z]{1,3})\$?(\d+)$/;
const LINE_HEIGHT = 15.4; // points: one line of 11 pt text (as spreadsheet.py counts)

/** Sheet name: part name ("xl/worksheets/sheet1.xml"). */
async function sheetParts(file) {
  const workbook = await file.xml(WORKBOOK);
  const rels = await file.xml("xl/_rels/workbook.xml.rels");
  const targets = new Map(elements(rels, PR, "Relationship").map((r) => {
    const target = r.getAttribute("Target");
    return [r.getAttribute("Id"), target.startsWith("/") ? target.slice(1) : `xl/${target}`];
  }));
  return new Map(elements(workbook, S, "sheet").map((s) => [
    s.getAttribute("name"), targets.get(s.getAttributeNS(R, "id")),
  ]));
}

/** Field name: {sheet, column, row} for the workbook's defined names. */
async function namedCells(file) {
  const workbook = await file.xml(WORKBOOK);
  const cells = new Map();
  for (const name of elements(workbook, S, "definedName")) {
    const found = REFERENCE.exec(name.textContent.trim());
    if (!found || name.hasAttribute("localSheetId")) continue;
    const sheet = found[1] ? found[1].replace(/''/g, "'") : found[2];
    cells.set(name.getAttribute("name"), { sheet, column: found[3], row: Number(found[4]) });
  }
  return cells;
}

const columnNumber = (letters) => [...letters].reduce((n, c) => n * 26 + c.charCodeAt(0) - 64, 0);

/** A sheet's `<c r="B4">`, made (in order) if the sheet has no such cell yet. */
function cellAt(doc, column, row) {
  const data = elements(doc, S, "sheetData")[0];
  let rowElement = elements(data, S, "row").find((r) => Number(r.getAttribute("r")) === row);
  if (!rowElement) {
    rowElement = doc.createElementNS(S, "row");
    rowElement.setAttribute("r", String(row));
    const after = elements(data, S, "row").find((r) => Number(r.getAttribute("r")) > row);
    data.insertBefore(rowElement, after || null);
  }
  const ref = `${column}${row}`;
  let cell = elements(rowElement, S, "c").find((c) => c.getAttribute("r") === ref);
  if (!cell) {
    cell = doc.createElementNS(S, "c");
    cell.setAttribute("r", ref);
    const after = elements(rowElement, S, "c").find(
      (c) => columnNumber(c.getAttribute("r").replace(/\d+$/, "")) > columnNumber(column));
    rowElement.insertBefore(cell, after || null);
  }
  return { cell, row: rowElement };
}

/** A number as typed in a number input, or null when it is not one. */
function numberOf(text) {
  const trimmed = text.trim();
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed)) return null;
  const number = Number(trimmed);
  return Number.isFinite(number) ? number : null;
}

function columnWidth(doc, column) {
  const number = columnNumber(column);
  const col = elements(doc, S, "col").find(
    (c) => Number(c.getAttribute("min")) <= number && number <= Number(c.getAttribute("max")));
  return col ? Number(col.getAttribute("width")) || 10 : 10;
}

/** Make a row tall enough for a wrapped cell's text (office programs do not always
 * grow a row to fit when they open a file). */
function fitRow(doc, row, cell, text) {
  const width = columnWidth(doc, cell.getAttribute("r").replace(/\d+$/, ""));
  const lines = text.split("\n").reduce((n, line) => n + Math.max(1, Math.ceil(line.length / width)), 0);
  if (lines > 1 && lines * LINE_HEIGHT > Number(row.getAttribute("ht") || 0)) {
    row.setAttribute("ht", String(lines * LINE_HEIGHT));
    row.setAttribute("customHeight", "1");
  }
}

/** Put one value in a cell: a number, a date (day number) or text. */
function setCell(doc, place, type, value, datePattern) {
  const { cell, row } = cellAt(doc, place.column, place.row);
  for (const child of Array.from(cell.childNodes)) child.remove();
  const lines = valueLines(value);
  const text = lines.join("\n");
  const date = type === "date" ? parseDate(text, datePattern) : null;
  const number = type === "number" ? numberOf(text) : date ? excelDay(date) : null;
  if (number !== null) {
    cell.removeAttribute("t");
    const v = doc.createElementNS(S, "v");
    v.textContent = String(number);
    cell.appendChild(v);
    return;
  }
  cell.setAttribute("t", "inlineStr");
  const inline = doc.createElementNS(S, "is");
  inline.appendChild(textElement(doc, S, "t", text));
  cell.appendChild(inline);
  fitRow(doc, row, cell, text);
}

/** The blanks of the instructions: runs `[Label]` in BLANK_TEXT, given the value. */
function fillRuns(doc, byLabel, values) {
  let filled = 0;
  for (const run of elements(doc, S, "r")) {
    const props = elements(run, S, "rPr")[0];
    const color = props && elements(props, S, "color")[0];
    const text = elements(run, S, "t")[0];
    if (!color || !BLANK_TEXT.test(color.getAttribute("rgb") || "") || !text) continue;
    const name = byLabel.get(text.textContent);
    const lines = name ? valueLines(values[name]) : [];
    if (!lines.length) continue;
    color.remove();
    elements(props, S, "u").forEach((u) => u.remove());
    text.setAttributeNS("http://www.w3.org/XML/1998/namespace", "xml:space", "preserve");
    text.textContent = xmlText(lines.join("\n"));
    const cell = run.parentNode.parentNode;
    fitRow(doc, cell.parentNode, cell, elements(cell, S, "t").map((t) => t.textContent).join(""));
    filled += 1;
  }
  return filled;
}

/** The workbook `bytes` with `values` ({field: text}) in the cells the fields name and
 * in the instructions; `fields` is {name: {label, type}}, `datePattern` the site's. */
export async function fillXlsx(bytes, values, fields, datePattern) {
  const file = Package.open(bytes);
  const parts = await sheetParts(file);
  const named = await namedCells(file);
  for (const [name, field] of Object.entries(fields)) {
    const place = named.get(name);
    if (!place || !valueLines(values[name]).length || !parts.get(place.sheet)) continue;
    const part = parts.get(place.sheet);
    setCell(await file.xml(part), place, field.type, values[name], datePattern);
    file.changed(part);
  }
  const byLabel = new Map(Object.entries(fields).map(([name, f]) => [`[${f.label}]`, name]));
  for (const part of parts.values()) {
    if (part && file.has(part) && fillRuns(await file.xml(part), byLabel, values)) file.changed(part);
  }
  return file.bytes();
}
