/* memberkit, inline at the top of every page (it holds nothing to fetch): before the
 * first paint, the page is marked as one whose members' parts are still to be opened
 * (main.js lifts the mark: what follows them is not shown jumping down; at the latest
 * after 5 s), and as a member's when their last visit left the hint (audience.js), so
 * that the join box meant for visitors never flashes. The site's root comes from the
 * keystore's link, which is written before this script.
 *
 * For a member, it also starts reading their session from IndexedDB (`mk1early`,
 * taken up by session.js): the read is done by the time the modules are there. */
(() => {
  const page = document.documentElement;
  page.classList.add("mk1-pending");
  setTimeout(() => page.classList.remove("mk1-pending"), 5000);
  let root;
  try {
    const link = document.querySelector('meta[name="mk1-keystore"]').content;
    root = new URL(link.replace(/mk1\/keystore\.json$/, ""), location.href);
    if (!localStorage.getItem(`mk1-signed-in:${root.pathname}`)) return;
    page.classList.add("mk1-signed-in");
  } catch (error) {
    return; // No storage: audience.js marks the page once the session is known.
  }
  try {
    const db = new Promise((resolve, reject) => {
      const request = indexedDB.open("memberkit", 1);
      request.onupgradeneeded = () => request.result.createObjectStore("sessions");
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const record = db.then((opened) => new Promise((resolve, reject) => {
      const request = opened.transaction("sessions").objectStore("sessions").get(root.href);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    }));
    db.catch(() => null);
    record.catch(() => null);
    window.mk1early = { key: root.href, db, record };
  } catch (error) {
    // No IndexedDB here: session.js finds none either.
  }
})();
