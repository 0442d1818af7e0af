/* A spreadsheet's CSV with what the member typed: its first rows are the title and one
 * row per field (`Label,value`, as in the Excel sheet), then the table
 * (generator/documents/spreadsheet.py, `csv_head`). Text that a spreadsheet would run
 * as a formula gets a `'` in front (OWASP's advice on CSV injection, as in the
 * roster's exports); a number field's value is a number. */

import { valueLines } from "./fill.js";

const BOM = "\uFEFF";

/** One CSV field, quoted when it must be (as Python's csv module does). */
const quote = (text) => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);

const head = (title, fields, values) =>
  [[title], [], ...Object.entries(fields).map(([name, f]) => [f.label, values[name] || ""]), []]
    .map((row) => `${row.map(quote).join(",")}\r\n`)
    .join("");

/** The CSV `bytes` with `values` in its field rows; `fields` is {name: {label, type}}. */
export function fillCsv(bytes, title, values, fields) {
  let text = new TextDecoder().decode(bytes); // drops the BOM
  const empty = head(title, fields, {});
  if (!text.startsWith(empty)) throw new Error("the CSV does not start with the template's fields");
  const typed = {};
  for (const [name, field] of Object.entries(fields)) {
    const value = valueLines(values[name]).join("\n");
    typed[name] = field.type !== "number" && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  }
  text = head(title, fields, typed) + text.slice(empty.length);
  return new TextEncoder().encode(BOM + text);
}
