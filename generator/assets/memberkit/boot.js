/* memberkit: a classic script, run right before Material's bundle (at the end of the
 * page: the page is painted meanwhile; mark.js, inline in <head>, marks it first).
 *
 * The browser modules (main.js and what it imports, loaded `async`) open the members'
 * text they can as soon as they run, and answer what follows once the page is parsed,
 * after Material's bundle has started. Two things must be in place before that:
 *
 * - Material asks for search/search_index.json, and on instant navigation for the
 *   next page, with XMLHttpRequest. Those requests wait here for the modules, which
 *   answer with the index merged with the member's own entries (a URL to read
 *   instead), or the page with its members' part opened (its HTML, given to the
 *   request as its response): Material then injects and mounts it as it does any page.
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
  const XHR = XMLHttpRequest.prototype;
  const nativeOpen = XHR.open;
  const nativeSend = XHR.send;
  const nativeAbort = XHR.abort;
  // (URL) => Promise<string | {html: string} | null>: a URL to read instead, the
  // response itself, or null (the request goes as it was)
  let answer = null;
  const waiting = [];
  // What `respond` sets on a request, taken off again if it is opened once more.
  const RESPONSE = [
    "readyState", "status", "statusText", "response", "responseText", "responseURL",
    "responseXML", "getResponseHeader", "getAllResponseHeaders",
  ];

  XHR.open = function open(method, url, ...rest) {
    for (const name of RESPONSE) delete this[name];
    this.mk1Url = String(method).toUpperCase() === "GET" ? new URL(url, location.href) : null;
    this.mk1Aborted = false;
    return nativeOpen.call(this, method, url, ...rest);
  };

  XHR.abort = function abort() {
    this.mk1Aborted = true; // a request still waiting here is then never sent
    return nativeAbort.call(this);
  };

  /**
   * Complete `request` with `html` as its response, as a server's answer completes it
   * (status 200, text/html; then progress, readystatechange, load and loadend): the page
   * is not asked for a second time. False when the request wants a response type other
   * than a Blob or text.
   */
  function respond(request, html, url) {
    const type = request.responseType;
    if (!["", "text", "blob"].includes(type)) return false;
    let response = html;
    if (type === "blob") {
      response = new Blob([html], { type: "text/html" });
      // Its text is at hand: read back at once, not from the Blob's bytes.
      const read = Promise.resolve(html);
      Object.defineProperty(response, "text", { value: () => read, configurable: true });
    }
    const size = type === "blob" ? response.size : html.length;
    const header = (name) => (String(name).toLowerCase() === "content-type" ? "text/html" : null);
    const fixed = {
      readyState: 4, status: 200, statusText: "OK", response, responseURL: url.href,
      responseXML: null, getResponseHeader: header,
      getAllResponseHeaders: () => "content-type: text/html\r\n",
    };
    if (type !== "blob") fixed.responseText = html;
    for (const [name, value] of Object.entries(fixed)) {
      Object.defineProperty(request, name, { value, configurable: true });
    }
    const progress = { lengthComputable: true, loaded: size, total: size };
    request.dispatchEvent(new ProgressEvent("progress", progress));
    request.dispatchEvent(new Event("readystatechange"));
    request.dispatchEvent(new ProgressEvent("load", progress));
    request.dispatchEvent(new ProgressEvent("loadend", progress));
    return true;
  }

  XHR.send = function send(body) {
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
          if (this.mk1Aborted) return;
          let target = replacement;
          if (replacement && typeof replacement === "object") {
            if (respond(this, replacement.html, url)) return;
            target = URL.createObjectURL(new Blob([replacement.html], { type: "text/html" }));
            setTimeout(() => URL.revokeObjectURL(target), 60000);
          }
          if (target) {
            const type = this.responseType;
            nativeOpen.call(this, "GET", target);
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
