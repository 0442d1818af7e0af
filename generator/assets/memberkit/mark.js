/* memberkit, inline at the top of every page (it holds nothing to fetch): before the
 * first paint, the page is marked as one whose members' parts are still to be opened
 * (main.js lifts the mark: what follows them is not shown jumping down; at the latest
 * after 5 s), and as a member's when their last visit left the hint (audience.js), so
 * that the join box meant for visitors never flashes. The site's root comes from the
 * keystore's link, which is written before this script. */
(() => {
  const page = document.documentElement;
  page.classList.add("mk1-pending");
  setTimeout(() => page.classList.remove("mk1-pending"), 5000);
  try {
    const link = document.querySelector('meta[name="mk1-keystore"]').content;
    const root = new URL(link.replace(/mk1\/keystore\.json$/, ""), location.href).pathname;
    if (localStorage.getItem(`mk1-signed-in:${root}`)) page.classList.add("mk1-signed-in");
  } catch (error) {
    // No storage: audience.js marks the page once the session is known.
  }
})();
