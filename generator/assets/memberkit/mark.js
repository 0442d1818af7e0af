/* memberkit, inline at the top of every page (it holds nothing to fetch): before the
 * first paint, the page is marked as one whose members' parts are still to be opened
 * (main.js lifts the mark: what follows them is not shown jumping down; at the latest
 * after 5 s), and as a member's when their last visit left the hint (audience.js), so
 * that the join box meant for visitors never flashes. The site's root comes from the
 * keystore's link, which is written before this script.
 *
 * For a member, it also has the modules fetched at once (named by the keystore's link),
 * and starts reading their session from IndexedDB (`mk1early`, taken up by
 * session.js): both are there by the time the page asks for the modules. */
(() => {
  const page = document.documentElement;
  page.classList.add("mk1-pending");
  setTimeout(() => page.classList.remove("mk1-pending"), 5000);
  let root;
  let modules;
  try {
    const meta = document.querySelector('meta[name="mk1-keystore"]');
    root = new URL(meta.content.replace(/mk1\/keystore\.json$/, ""), location.href);
    modules = meta.dataset.modules;
    if (!localStorage.getItem(`mk1-signed-in:${root.pathname}`)) return;
    page.classList.add("mk1-signed-in");
  } catch (error) {
    return; // No storage: audience.js marks the page once the session is known.
  }
  if (modules) {
    const preload = document.createElement("link");
    preload.rel = "modulepreload";
    preload.href = modules;
    document.head.append(preload);
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
