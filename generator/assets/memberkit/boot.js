/* memberkit: a classic script, run right before Material's bundle (at the end of the
 * page: the page is painted meanwhile; mark.js, inline in <head>, marks it first).
 *
 * The browser modules (main.js and what it imports, loaded `async`) open the members'
 * text they can as soon as they run, and answer what follows once the page is parsed,
 * after Material's bundle has started. Two things must be in place before that:
 *
 * - Material asks for search/search_index.json, and on instant navigation for the
 *   next page, with XMLHttpRequest. Those requests wait here for the modules, which
 *   answer with the index merged with the member's own entries, or the page with its
 *   members' part opened: Material then injects and mounts it as it does any page.
 * - Material mounts its components when the document has loaded (DOMContentLoaded).
 *   On a page with a members' part that event waits until the part is opened, so
 *   the opened content is mounted exactly as Material mounts a page.
 *
 * Neither waits more than a few seconds if the modules never answer.
 */
(() => {
  "use strict";

  const WAIT_MS = 5000;
  const ANSWERED = /(\/|\.html|\/search\/search_index\.json)$/;
  const nativeOpen = XMLHttpRequest.prototype.open;
  const nativeSend = XMLHttpRequest.prototype.send;
  let answer = null; // (URL) => Promise<string | null>: a URL to read instead, or null
  const waiting = [];

  XMLHttpRequest.prototype.open = function open(method, url, ...rest) {
    this.mk1Url = String(method).toUpperCase() === "GET" ? new URL(url, location.href) : null;
    return nativeOpen.call(this, method, url, ...rest);
  };

  XMLHttpRequest.prototype.send = function send(body) {
    const url = this.mk1Url;
    this.mk1Url = null;
    if (!url || url.origin !== location.origin || !ANSWERED.test(url.pathname)) {
      return nativeSend.call(this, body);
    }
    const proceed = (handler) => {
      Promise.resolve()
        .then(() => handler(url))
        .catch(() => null)
        .then((replacement) => {
          if (replacement) {
            const type = this.responseType;
            nativeOpen.call(this, "GET", replacement);
            this.responseType = type;
          }
          nativeSend.call(this, body);
        });
    };
    if (answer) proceed(answer);
    else waiting.push(proceed);
    return undefined;
  };

  function answerWith(handler) {
    answer = handler;
    for (const proceed of waiting.splice(0)) proceed(handler);
  }

  let released = false;
  let held = false;

  window.addEventListener("DOMContentLoaded", (event) => {
    if (released || !document.querySelector("[data-mk1]")) return;
    // First of all listeners (capture, on window): no one else sees it yet.
    event.stopImmediatePropagation();
    held = true;
    setTimeout(release, WAIT_MS);
  }, { capture: true, once: true });

  /** Let Material (and every other listener) see the loaded document. */
  function release() {
    if (released) return;
    released = true;
    if (held) document.dispatchEvent(new Event("DOMContentLoaded", { bubbles: true }));
  }

  // Material's search worker, kept so that a sign-in on the page can give it the
  // member's entries (search.js) without loading the page again.
  const searchWorkers = [];
  const NativeWorker = window.Worker;
  if (NativeWorker) {
    window.Worker = class extends NativeWorker {
      constructor(url, options) {
        super(url, options);
        if (/\/workers\/search\.[^/]*js$/.test(String(url))) searchWorkers.push(this);
      }
    };
  }

  setTimeout(() => answer || answerWith(() => null), WAIT_MS);
  window.mk1boot = { answer: answerWith, release, searchWorkers };
})();
