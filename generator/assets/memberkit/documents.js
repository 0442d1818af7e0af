/* Document templates: a form whose values fill the live preview, the copied text
 * and the Markdown and text downloads. */

import { saveBlob } from "./files.js";

const BLANK = /\{\{([a-z][a-z0-9_]*)\}\}/g;

/** Put the form's values (or [Label]) into a skeleton's {{blanks}}. */
export const fill = (skeleton, values, labels) =>
  skeleton.replace(BLANK, (_, name) => (values[name] || "").trim() || `[${labels[name] || name}]`);

const valuesOf = (form) => {
  const values = {};
  for (const element of form.elements) {
    if (element.name) values[element.name] = element.value;
  }
  return values;
};

const fileName = (slug, format) => `${slug}.${format}`;

/** A short message in the template's status line (read out by screen readers). */
export const say = (root, message) => {
  const status = root.querySelector(".mk-doc__status");
  if (!status) return;
  status.textContent = message;
  clearTimeout(status.mkTimer);
  status.mkTimer = setTimeout(() => { status.textContent = ""; }, 4000);
};

async function copy(kind, root, data, values) {
  const plain = fill(data.text, values, data.labels);
  if (kind === "markdown") {
    await navigator.clipboard.writeText(fill(data.markdown, values, data.labels));
    return "Copied as Markdown.";
  }
  if (kind === "rich" && window.ClipboardItem) {
    const preview = root.querySelector(".mk-doc__preview").cloneNode(true);
    preview.querySelectorAll(".mk-blank").forEach((blank) => blank.replaceWith(blank.textContent));
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
      const value = (values[blank.dataset.field] || "").trim();
      blank.textContent = value || `[${data.labels[blank.dataset.field]}]`;
      blank.classList.toggle("mk-blank--filled", Boolean(value));
    });
  };
  form.addEventListener("input", render);
  form.addEventListener("change", render);
  form.addEventListener("reset", () => setTimeout(render));

  root.querySelectorAll("[data-mk-copy]").forEach((button) => {
    button.addEventListener("click", async () => {
      try {
        say(root, await copy(button.dataset.mkCopy, root, data, valuesOf(form)));
      } catch (error) {
        say(root, "Copying was blocked by the browser: select the preview and copy it by hand.");
      }
    });
  });

  // Markdown and text downloads carry what the member typed, made here in the browser.
  root.querySelectorAll("a[data-mk-fill]").forEach((link) => {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const format = link.dataset.mkFormat;
      const skeleton = format === "md" ? data.markdown : data.text;
      const type = format === "md" ? "text/markdown" : "text/plain";
      saveBlob(
        new Blob([fill(skeleton, valuesOf(form), data.labels)], { type: `${type};charset=utf-8` }),
        fileName(data.slug, format));
    });
  });
  render();
}

export function setupDocuments() {
  document.querySelectorAll("[data-mk-doc]").forEach(setupDocument);
}
