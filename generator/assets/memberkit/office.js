/* Word and Excel files (Office Open XML): a zip of XML parts. Open one, read and change
 * its parts as DOM documents, and get the file's bytes back. */

import { readZip, writeZip } from "./zip.js";

export const XML_NS = "http://www.w3.org/XML/1998/namespace";
const DECLARATION = /^\s*<\?xml[^>]*\?>\s*/;

// Characters XML 1.0 cannot hold, whatever the escaping (a form pasted from elsewhere
// may carry some: a vertical tab, a stray surrogate half).
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text as XML may hold it. */
export const xmlText = (text) => text.replace(NOT_XML, "");

/** Text in an element that keeps its spaces (`xml:space="preserve"`). */
export function textElement(doc, ns, name, text) {
  const element = doc.createElementNS(ns, name);
  element.setAttributeNS(XML_NS, "xml:space", "preserve");
  element.textContent = xmlText(text);
  return element;
}

/** Elements of one namespace and local name, as an array (safe to change the tree). */
export const elements = (root, ns, name) => Array.from(root.getElementsByTagNameNS(ns, name));

export class Package {
  constructor(entries) {
    this.entries = entries;
    this.parts = new Map(); // name: {doc, declaration}
  }

  static open(bytes) {
    return new Package(readZip(bytes));
  }

  has(name) {
    return this.entries.some((entry) => entry.name === name);
  }

  /** A part as a DOM document (parsed once; changes are kept until `bytes`). */
  async xml(name) {
    if (this.parts.has(name)) return this.parts.get(name).doc;
    const entry = this.entries.find((e) => e.name === name);
    if (!entry) throw new Error(`the file has no part ${name}`);
    const text = await entry.text();
    const doc = new DOMParser().parseFromString(text, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) throw new Error(`${name} is not XML`);
    const found = text.match(DECLARATION);
    this.parts.set(name, { doc, declaration: found ? found[0].trim() : "", changed: false });
    return doc;
  }

  /** Mark a part as changed: it is written back by `bytes`. */
  changed(name) {
    this.parts.get(name).changed = true;
  }

  /** The file, with every changed part serialised and deflated again. */
  async bytes() {
    for (const [name, part] of this.parts) {
      if (!part.changed) continue;
      // The part's own declaration (standalone="yes" and all), whatever the browser writes.
      const body = new XMLSerializer().serializeToString(part.doc).replace(DECLARATION, "");
      const text = part.declaration ? `${part.declaration}\n${body}` : body;
      await this.entries.find((e) => e.name === name).set(text);
    }
    return writeZip(this.entries);
  }
}
