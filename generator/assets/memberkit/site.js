/* Where things are: the site root, a page's path, the keystore; and the boot script. */

// This module is assets/memberkit/site.js under the site root. (Material's #__config
// is not a guide: its relative base stays that of the first page loaded, while
// instant navigation moves location on.)
const ROOT = new URL("../../", import.meta.url);

export const siteRoot = () => new URL(ROOT);

/** A page's path as MK1 envelopes name it: `guides/hiring/`, relative to the root. */
export function pathOf(url) {
  const root = ROOT.pathname;
  let path = decodeURIComponent(new URL(url, location.href).pathname);
  path = path.startsWith(root) ? path.slice(root.length) : path.replace(/^\//, "");
  return path.replace(/(^|\/)index\.html$/, "$1");
}

export const pagePath = () => pathOf(location.href);

export function keystoreURL() {
  const meta = document.querySelector('meta[name="mk1-keystore"]');
  return meta ? new URL(meta.content, location.href) : null;
}

const NO_BOOT = { answer() {}, release() {}, searchWorkers: [] };

/**
 * boot.js, loaded before Material: it holds requests and the load event for us. It
 * runs where the page ends, so it is there once the page is parsed (`parsed`), not
 * necessarily when our modules start.
 */
export const boot = () => window.mk1boot || NO_BOOT;

/** The page parsed to its end (as DOMContentLoaded, which boot.js may hold back). */
export const parsed = new Promise((resolve) => {
  if (document.readyState !== "loading") resolve();
  else document.addEventListener("readystatechange", resolve, { once: true });
});

/** Material's settings for the page (its features, the search's), or nothing. */
export function materialConfig() {
  try {
    return JSON.parse(document.getElementById("__config").textContent) || {};
  } catch (error) {
    return {};
  }
}
