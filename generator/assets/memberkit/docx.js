/* A Word file with what the member typed in its blanks.
 *
 * The build puts each blank's run in a hidden bookmark `_mk<n>_<field>`
 * (generator/documents/word.py). A typed value replaces that run's text, its lines
 * kept as line breaks, and loses the yellow highlight; a blank left empty stays a
 * highlighted [Label]. */

import { valueLines } from "./fill.js";
import { Package, elements, textElement } from "./office.js";

const W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
const BOOKMARK = /^_mk\d+_([a-z][a-z0-9_]*)$/;
const DOCUMENT = "word/document.xml";

/** The run that shows a value: the blank's own formatting, without the highlight. */
function valueRun(doc, template, lines) {
  const run = doc.createElementNS(W, "w:r");
  const props = elements(template, W, "rPr")[0];
  if (props) {
    const kept = props.cloneNode(true);
    elements(kept, W, "highlight").forEach((h) => h.remove());
    run.appendChild(kept);
  }
  lines.forEach((line, i) => {
    if (i) run.appendChild(doc.createElementNS(W, "w:br"));
    line.split("\t").forEach((part, j) => {
      if (j) run.appendChild(doc.createElementNS(W, "w:tab"));
      if (part) run.appendChild(textElement(doc, W, "w:t", part));
    });
  });
  return run;
}

/** Replace what lies between a blank's bookmark start and end with the value. */
function fillBlank(doc, start, lines) {
  const id = start.getAttributeNS(W, "id");
  const between = [];
  for (let node = start.nextSibling; node; node = node.nextSibling) {
    if (node.namespaceURI === W && node.localName === "bookmarkEnd" && node.getAttributeNS(W, "id") === id) {
      break;
    }
    between.push(node);
  }
  const template = between.find((n) => n.namespaceURI === W && n.localName === "r");
  if (!template) return false;
  start.parentNode.insertBefore(valueRun(doc, template, lines), start.nextSibling);
  between.forEach((node) => node.remove());
  return true;
}

/** The Word file `bytes` with `values` ({field: text}) in its blanks. */
export async function fillDocx(bytes, values) {
  const file = Package.open(bytes);
  const doc = await file.xml(DOCUMENT);
  let filled = 0;
  for (const start of elements(doc, W, "bookmarkStart")) {
    const found = BOOKMARK.exec(start.getAttributeNS(W, "name") || "");
    const lines = found ? valueLines(values[found[1]]) : [];
    if (lines.length && fillBlank(doc, start, lines)) filled += 1;
  }
  if (filled) file.changed(DOCUMENT);
  return file.bytes();
}
