/* What a member typed, put into a template's Markdown and text skeletons.
 *
 * The same rules as `fill` in generator/documents/render.py (see there): `{{name}}`
 * keeps the lines of a paragraph (indented under a list item; hard line breaks in
 * Markdown), `{{name:line}}` joins them (headings, table rows), and a line `{{=}}` or
 * `{{-}}` underlines the line above it, exactly as wide as it is shown. */

const BLANK = /\{\{([a-z][a-z0-9_]*)(?::(line))?\}\}/g;
const UNDERLINES = { "{{=}}": "=", "{{-}}": "-" };
const LEAD = /^((?:[ \t]*>)*[ \t]*)((?:[-*+]|\d+[.)]|\[[ xX]\])[ \t]+)?/;

// What Unicode calls wide or fullwidth (East_Asian_Width W or F): emoji shown as
// pictures, CJK, Hangul, fullwidth forms. Zero width: marks, joiners, selectors.
const WIDE = /[\p{Emoji_Presentation}\u1100-\u115F\u231A\u231B\u2329\u232A\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uA960-\uA97F\uAC00-\uD7A3\uF900-\uFAFF\uFE10-\uFE19\uFE30-\uFE6F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F200}-\u{1F2FF}\u{20000}-\u{3FFFD}]/u;
const ZERO = /[\p{Mn}\p{Me}\p{Cf}]/u;

/** Columns a line takes in a monospaced font. */
export function displayWidth(text) {
  let width = 0;
  let joined = false;
  for (const char of text) {
    if (ZERO.test(char)) {
      joined = char === "\u200d";
      continue;
    }
    if (!joined) width += WIDE.test(char) ? 2 : 1;
    joined = false;
  }
  return width;
}

/** What the member typed, as lines: outer blank lines and spaces dropped. */
export function valueLines(value) {
  const lines = String(value || "").replace(/\r\n?/g, "\n").split("\n").map((l) => l.trimEnd());
  while (lines.length && !lines[lines.length - 1]) lines.pop();
  while (lines.length && !lines[0].trim()) lines.shift();
  if (lines.length) lines[0] = lines[0].trimStart();
  return lines;
}

function join(lines, { single, markdown, indent }) {
  if (single) {
    return lines.map((l) => l.trim()).filter(Boolean).join(markdown ? "<br>" : " / ");
  }
  let out = lines[0];
  for (let i = 1; i < lines.length; i += 1) {
    const [before, line] = [lines[i - 1], lines[i]];
    const hard = markdown && before.trim() && line.trim() ? "  " : "";
    out += `${hard}\n${line.trim() ? indent + line : ""}`;
  }
  return out;
}

/** Put the values (or [Label] where there is none) into a skeleton's blanks. */
export function fill(skeleton, values, labels, { markdown = false } = {}) {
  const out = [];
  for (const line of skeleton.split("\n")) {
    const mark = UNDERLINES[line.trim()];
    if (mark) {
      const above = out.length ? out[out.length - 1].split("\n").pop() : "";
      out.push(mark.repeat(Math.max(1, displayWidth(above))));
      continue;
    }
    const lead = LEAD.exec(line);
    const indent = lead ? lead[1] + " ".repeat((lead[2] || "").length) : "";
    out.push(line.replace(BLANK, (_, name, single) => {
      const lines = valueLines(values[name]);
      if (!lines.length) return `[${labels[name] || name}]`;
      return join(lines, { single: Boolean(single), markdown, indent });
    }));
  }
  return out.join("\n");
}
