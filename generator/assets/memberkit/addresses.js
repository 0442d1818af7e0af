/* Email addresses with an international domain, as the roster keeps them.
 *
 * `user@bücher.example` and `user@xn--bcher-kva.example` are one address: the roster
 * keeps the domain's ASCII form, as the browser makes a URL's host of it (UTS #46, not
 * transitional), so a member signs in with either spelling. A member added before the
 * roster kept that form has keys made from the address as it was typed then, most
 * often its Unicode form: those spellings are tried next. (Chromium's email field hands
 * over a Unicode domain in ASCII already: its Unicode form is decoded here.)
 */

import { MK1Error, normalizeEmail } from "./mk1.js";
import { signIn } from "./session.js";

/** The address with its domain in ASCII; as it is when the browser makes no host of it. */
export function asciiEmail(email) {
  const text = email.normalize("NFKC").trim();
  const at = text.lastIndexOf("@");
  const domain = text.slice(at + 1);
  if (at < 1 || !domain || /^[\x00-\x7f]*$/.test(domain) || /[/?#:@\\\s]/.test(domain)) {
    return text;
  }
  try {
    return `${text.slice(0, at + 1)}${new URL(`http://${domain}`).hostname}`;
  } catch (error) {
    return text; // no valid domain: the sign-in says the email and password do not match
  }
}

// Punycode (RFC 3492), the encoding of an A-label after its "xn--".
const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;

function adapt(delta, points, first) {
  let scaled = first ? Math.floor(delta / 700) : Math.floor(delta / 2);
  scaled += Math.floor(scaled / points);
  let k = 0;
  for (; scaled > ((BASE - T_MIN) * T_MAX) >> 1; k += BASE) {
    scaled = Math.floor(scaled / (BASE - T_MIN));
  }
  return k + Math.floor(((BASE - T_MIN + 1) * scaled) / (scaled + 38));
}

function digitOf(code) {
  if (code >= 48 && code <= 57) return code - 22; // 0-9: 26-35
  if (code >= 65 && code <= 90) return code - 65; // A-Z
  if (code >= 97 && code <= 122) return code - 97; // a-z
  throw new Error("not punycode");
}

/** The Unicode text a label's punycode stands for. Throws on what is not punycode. */
export function decodePunycode(text) {
  const delimiter = Math.max(text.lastIndexOf("-"), 0);
  const output = Array.from(text.slice(0, delimiter), (c) => c.codePointAt(0));
  let [n, i, bias] = [128, 0, 72];
  for (let at = delimiter ? delimiter + 1 : 0; at < text.length;) {
    const before = i;
    for (let weight = 1, k = BASE; ; k += BASE) {
      if (at >= text.length) throw new Error("not punycode");
      const digit = digitOf(text.charCodeAt(at++));
      i += digit * weight;
      const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
      if (digit < t) break;
      weight *= BASE - t;
    }
    bias = adapt(i - before, output.length + 1, before === 0);
    n += Math.floor(i / (output.length + 1));
    i %= output.length + 1;
    if (n > 0x10ffff) throw new Error("not punycode");
    output.splice(i++, 0, n);
  }
  return String.fromCodePoint(...output);
}

/** The address with its domain's A-labels in Unicode; as it is where one is not valid. */
export function unicodeEmail(email) {
  const at = email.lastIndexOf("@");
  const labels = email.slice(at + 1).split(".");
  try {
    const domain = labels.map((label) =>
      (label.toLowerCase().startsWith("xn--") ? decodePunycode(label.slice(4)) : label));
    return `${email.slice(0, at + 1)}${domain.join(".")}`;
  } catch (error) {
    return email;
  }
}

/**
 * Sign in with the address's ASCII form; if no entry matches, with the spellings a
 * member added before the roster kept that form may have: as typed, then in Unicode.
 */
export async function signInAnySpelling(email, password, remember) {
  const ascii = asciiEmail(email);
  const spellings = [...new Set([ascii, email, unicodeEmail(ascii)].map(normalizeEmail))];
  for (const [index, spelling] of spellings.entries()) {
    try {
      return await signIn(spelling, password, remember);
    } catch (error) {
      const last = index === spellings.length - 1;
      if (last || !(error instanceof MK1Error && error.code === "credentials")) throw error;
    }
  }
}
