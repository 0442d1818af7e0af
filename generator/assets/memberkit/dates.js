/* Dates as the site's language writes them: a pattern of dd, MM, yyyy and separators
 * (`dd.MM.yyyy`), made at build time from the site's `theme.language`
 * (generator/documents/dates.py), so the page and the files made there agree.
 *
 * A date is read with any separators (`7.12.2026`, `7/12/2026`, `07122026`) in the
 * pattern's order; one that starts with a four-digit year is read as YYYY-MM-DD. */

const FIELDS = /yyyy|MM|dd/g;

/** {year, month, day} in the pattern: `07.12.2026`. */
export function formatDate({ year, month, day }, pattern) {
  const parts = { yyyy: String(year).padStart(4, "0"), MM: String(month).padStart(2, "0"),
    dd: String(day).padStart(2, "0") };
  return pattern.replace(FIELDS, (field) => parts[field]);
}

/** A typed date as {year, month, day}, or null when it is not a day of the calendar. */
export function parseDate(text, pattern) {
  const trimmed = String(text || "").trim();
  if (!trimmed || /\p{L}/u.test(trimmed)) return null;
  let order = pattern.match(FIELDS);
  let groups = trimmed.match(/\d+/g) || [];
  if (groups.length === 1 && groups[0].length === 8) {
    const digits = groups[0];
    let at = 0;
    groups = order.map((field) => {
      const part = digits.slice(at, at + field.length);
      at += field.length;
      return part;
    });
  }
  if (groups.length !== 3) return null;
  if (groups[0].length === 4 && order[0] !== "yyyy") order = ["yyyy", "MM", "dd"];
  const found = {};
  for (const [i, field] of order.entries()) {
    const wide = field === "yyyy" ? groups[i].length === 4 : groups[i].length <= 2;
    if (!wide) return null;
    found[field] = Number(groups[i]);
  }
  const time = Date.UTC(found.yyyy, found.MM - 1, found.dd);
  const back = new Date(time);
  if (back.getUTCFullYear() !== found.yyyy || back.getUTCMonth() !== found.MM - 1
    || back.getUTCDate() !== found.dd) return null;
  return { year: found.yyyy, month: found.MM, day: found.dd };
}

/** Excel's day number of a date (days since 1899-12-30). */
export const excelDay = ({ year, month, day }) =>
  Math.round((Date.UTC(year, month - 1, day) - Date.UTC(1899, 11, 30)) / 86400000);
