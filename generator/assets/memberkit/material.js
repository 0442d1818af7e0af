/* Material's own controls, named for assistive technology where Material leaves
 * them unnamed. Its partials hold nothing else of ours, so rather than copies of
 * Material's templates to keep in step, they are named here:
 *
 * - the search is a dialog (`role="dialog"`) and the loading bar a progress bar
 *   (`role="progressbar"`), both without a name, the bar outside every landmark;
 * - a section of the navigation whose title is a link to its index page is labelled
 *   by its toggle, which holds only an icon: the section's title names it instead;
 * - each code block's copy button sits in a `<nav>`: many landmarks without a name
 *   that navigate nowhere. They are made plain containers; the button stays.
 *
 * And one correction to instant navigation: a link to a heading on another page
 * lands on that heading (`landOnAnchor`).
 */

const CODE_NAVS = "nav.md-code__nav:not([role])";

/** Name the search dialog and the loading bar, and put the bar in the header. Once:
 * instant navigation replaces the page's content, not these. */
function nameOnce(doc) {
  const search = doc.querySelector('.md-search[role="dialog"]');
  if (search && !search.hasAttribute("aria-label")) search.setAttribute("aria-label", "Search");
  const progress = doc.querySelector('.md-progress[role="progressbar"]');
  if (progress && !progress.hasAttribute("aria-label")) {
    progress.setAttribute("aria-label", "Loading the page");
    // Fixed at the top of the window wherever it is: in the header (a landmark) it
    // looks the same and is found where a screen reader user looks for it.
    const header = doc.querySelector("header.md-header");
    if (header) header.prepend(progress);
  }
}

/** The navigation's sections named by their titles where their label is an icon. */
function nameSections(doc) {
  for (const nav of doc.querySelectorAll("nav.md-nav[aria-labelledby]")) {
    const label = doc.getElementById(nav.getAttribute("aria-labelledby"));
    const title = nav.querySelector(":scope > .md-nav__title");
    if (label && !label.textContent.trim() && title && title.textContent.trim()) {
      nav.removeAttribute("aria-labelledby");
      nav.setAttribute("aria-label", title.textContent.trim());
    }
  }
}

function unmarkCodeNavs(doc) {
  for (const nav of doc.querySelectorAll(CODE_NAVS)) nav.setAttribute("role", "none");
}

/** The first page: name what is there, and the copy buttons' navs as Material adds
 * them (when it mounts a page's code blocks, on a load and on instant navigation). */
export function nameMaterialControls(doc = document) {
  nameOnce(doc);
  nameSections(doc);
  unmarkCodeNavs(doc);
  new MutationObserver(() => {
    if (doc.querySelector(CODE_NAVS)) unmarkCodeNavs(doc);
  }).observe(doc.body, { childList: true, subtree: true });
}

/** Each page instant navigation brings: its navigation is new. */
export const nameNavigation = (doc = document) => nameSections(doc);

/* Material saves the scroll offset in the history entry 100 ms after the last scroll.
 * A link followed within 100 ms of a scroll, to a page that takes longer than that
 * to arrive, gets the offset of the page it left saved into its own new entry, and
 * Material, finding an offset there, restores it instead of going to the link's
 * heading. Going back or forward (popstate) restores an offset on purpose. */
let restoring = false;
window.addEventListener("popstate", () => { restoring = true; });

/** After instant navigation brought a page: a link's heading in view. */
export function landOnAnchor(doc = document) {
  const wanted = !restoring && location.hash.length > 1;
  restoring = false;
  if (!wanted) return;
  let target = null;
  try {
    target = doc.getElementById(decodeURIComponent(location.hash.slice(1)));
  } catch (error) {
    return; // not an encoded name: no heading of this page
  }
  if (!target || !target.getClientRects().length) return;
  const { top } = target.getBoundingClientRect();
  if (top < 0 || top >= window.innerHeight) target.scrollIntoView();
}
