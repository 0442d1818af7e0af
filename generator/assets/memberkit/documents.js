/* Document templates: a form whose values fill the live preview, the three copies and
 * every download (Word, Excel and CSV are filled here, in the browser: fill.js for the
 * text, docx.js, xlsx.js and csv.js for the files). */

import { formatDate, parseDate } from "./dates.js";
import { fill, valueLines } from "./fill.js";
import { fetchDownload, saveBlob } from "./files.js";

export { fill };

const valuesOf = (form) => {
  const values = {};
  for (const element of form.elements) {
    if (element.name) values[element.name] = element.value;
  }
  return values;
};

/** A short message in the template's status line (read out by screen readers). */
export const say = (root, message) => {
  const status = root.querySelector(".mk-doc__status");
  if (!status) return;
  status.textContent = message;
  clearTimeout(status.mkTimer);
  status.mkTimer = setTimeout(() => { status.textContent = ""; }, 4000);
};

/** A value's lines as text and line breaks (for the preview, and so the copy). */
function showLines(element, lines) {
  element.replaceChildren(...lines.flatMap((line, i) => (
    i ? [document.createElement("br"), line] : [line])));
}

async function copy(kind, root, data, values) {
  const plain = fill(data.text, values, data.labels);
  if (kind === "markdown") {
    await navigator.clipboard.writeText(fill(data.markdown, values, data.labels, { markdown: true }));
    return "Copied as Markdown.";
  }
  if (kind === "rich" && window.ClipboardItem) {
    const preview = root.querySelector(".mk-doc__preview").cloneNode(true);
    preview.querySelectorAll(".mk-blank").forEach((blank) => blank.replaceWith(...blank.childNodes));
    const html = `<meta charset="utf-8">${preview.innerHTML}`;
    await navigator.clipboard.write([
      new ClipboardItem({
        "text/html": new Blob([html], { type: "text/html" }),
        "text/plain": new Blob([plain], { type: "text/plain" }),
      }),
    ]);
    return "Copied with formatting: paste it into a document or an email.";
  }
  await navigator.clipboard.writeText(plain);
  return "Copied as plain text.";
}

const TEXT_TYPES = { md: "text/markdown", txt: "text/plain" };

/** The file of one format with the member's values in it: {data, name, type}, or null
 * when the page went to sign-in. */
async function filledFile(link, format, data, values) {
  const name = `${data.slug}.${format}`;
  if (TEXT_TYPES[format]) {
    const text = fill(format === "md" ? data.markdown : data.text, values, data.labels,
      { markdown: format === "md" });
    return { data: text, name, type: `${TEXT_TYPES[format]};charset=utf-8` };
  }
  const file = await fetchDownload(link);
  if (!file || !Object.values(values).some((v) => valueLines(v).length)) return file;
  if (format === "docx") {
    const { fillDocx } = await import("./docx.js");
    return { ...file, data: await fillDocx(file.data, values) };
  }
  if (format === "xlsx") {
    const { fillXlsx } = await import("./xlsx.js");
    return { ...file, data: await fillXlsx(file.data, values, data.fields, data.dates.pattern) };
  }
  if (format === "csv") {
    const { fillCsv } = await import("./csv.js");
    return { ...file, data: fillCsv(file.data, data.title, values, data.fields) };
  }
  return file;
}

/** A date field in the site's date style: a date typed another way (`7.12.2026`, a
 * YYYY-MM-DD date) is written in the style when the member leaves the field; one that
 * is not a date is marked, and its hint says how to write it. */
function checkDate(input, dates, { leaving }) {
  const hint = document.getElementById(`${input.id}-format`);
  const found = parseDate(input.value, dates.pattern);
  const wrong = Boolean(input.value.trim()) && !found;
  if (found && leaving) input.value = formatDate(found, dates.pattern);
  if (!wrong && !input.hasAttribute("aria-invalid")) return;
  if (wrong && !leaving) return; // not while typing: only once the field is left
  if (wrong) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  hint.classList.toggle("mk-doc__format--wrong", wrong);
  const now = new Date();
  const today = { year: now.getFullYear(), month: now.getMonth() + 1, day: now.getDate() };
  hint.textContent = wrong
    ? `Not a date: write it as ${dates.hint}, for example ${formatDate(today, dates.pattern)}.`
    : `Format: ${dates.hint}`;
}

/** Wire up one template widget (once). */
function setupDocument(root) {
  if (root.dataset.mkReady) return;
  root.dataset.mkReady = "1";
  const form = root.querySelector(".mk-doc__form");
  const source = root.querySelector(".mk-doc__data");
  if (!form || !source) return;
  const data = JSON.parse(source.content.textContent);

  const render = () => {
    const values = valuesOf(form);
    root.querySelectorAll(".mk-doc__preview .mk-blank").forEach((blank) => {
      const lines = valueLines(values[blank.dataset.field]);
      if (lines.length) showLines(blank, lines);
      else blank.textContent = `[${data.labels[blank.dataset.field]}]`;
      blank.classList.toggle("mk-blank--filled", lines.length > 0);
    });
  };
  const dateFields = form.querySelectorAll("input[data-mk-date]");
  dateFields.forEach((input) => {
    input.addEventListener("input", () => checkDate(input, data.dates, { leaving: false }));
    input.addEventListener("change", () => checkDate(input, data.dates, { leaving: true }));
  });
  form.addEventListener("input", render);
  form.addEventListener("change", render);
  form.addEventListener("reset", () => setTimeout(() => {
    dateFields.forEach((input) => checkDate(input, data.dates, { leaving: true }));
    render();
  }));

  root.querySelectorAll("[data-mk-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      try {
        say(root, await copy(button.dataset.mkCopy, root, data, valuesOf(form)));
      } catch (error) {
        say(root, "Copying was blocked by the browser: select the preview and copy it by hand.");
      }
    });
  });

  // Every download carries what the member typed, made here in the browser.
  root.querySelectorAll("a[data-mk-fill]").forEach((link) => {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      filledFile(link, link.dataset.mkFormat, data, valuesOf(form))
        .then((file) => {
          if (file) saveBlob(new Blob([file.data], { type: file.type }), file.name);
        })
        .catch(() => say(root, "This download could not be made. Reload the page and try again."));
    });
  });
  render();
}

export function setupDocuments() {
  document.querySelectorAll("[data-mk-doc]").forEach(setupDocument);
}
