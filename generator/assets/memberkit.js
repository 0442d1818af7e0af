/* memberkit: the browser side of a members-only site. No dependencies.
 *
 * Members-only pages (MK1: PROTOCOL.md), sign-in, protected downloads and search;
 * document templates: a form whose values fill the live preview, the copied text
 * and the Markdown and text downloads. Runs on every page load and on Material's
 * instant navigation (document$).
 */
(() => {
  "use strict";

  const BLANK = /\{\{([a-z][a-z0-9_]*)\}\}/g;

  /** Put the form's values (or [Label]) into a skeleton's {{blanks}}. */
  const fill = (skeleton, values, labels) =>
    skeleton.replace(BLANK, (_, name) => (values[name] || "").trim() || `[${labels[name] || name}]`);

  const valuesOf = (form) => {
    const values = {};
    for (const element of form.elements) {
      if (element.name) values[element.name] = element.value;
    }
    return values;
  };

  const fileName = (slug, format) => `${slug}.${format}`;

  const say = (root, message) => {
    const status = root.querySelector(".mk-doc__status");
    if (!status) return;
    status.textContent = message;
    clearTimeout(status._mkTimer);
    status._mkTimer = setTimeout(() => { status.textContent = ""; }, 4000);
  };

  async function copy(kind, root, data, values) {
    const text = fill(data.text, values, data.labels);
    if (kind === "markdown") {
      await navigator.clipboard.writeText(fill(data.markdown, values, data.labels));
      return "Copied as Markdown.";
    }
    if (kind === "rich" && window.ClipboardItem) {
      const preview = root.querySelector(".mk-doc__preview").cloneNode(true);
      preview.querySelectorAll(".mk-blank").forEach((blank) => blank.replaceWith(blank.textContent));
      const html = `<meta charset="utf-8">${preview.innerHTML}`;
      await navigator.clipboard.write([
        new ClipboardItem({
          "text/html": new Blob([html], { type: "text/html" }),
          "text/plain": new Blob([text], { type: "text/plain" }),
        }),
      ]);
      return "Copied with formatting: paste it into a document or an email.";
    }
    await navigator.clipboard.writeText(text);
    return "Copied as plain text.";
  }

  function setupDocument(root) {
    if (root.dataset.mkReady) return;
    root.dataset.mkReady = "1";
    const form = root.querySelector(".mk-doc__form");
    const source = root.querySelector(".mk-doc__data");
    if (!form || !source) return;
    const data = JSON.parse(source.textContent);

    const render = () => {
      const values = valuesOf(form);
      root.querySelectorAll(".mk-doc__preview .mk-blank").forEach((blank) => {
        const value = (values[blank.dataset.field] || "").trim();
        blank.textContent = value || `[${data.labels[blank.dataset.field]}]`;
        blank.classList.toggle("mk-blank--filled", Boolean(value));
      });
    };
    form.addEventListener("input", render);
    form.addEventListener("change", render);
    form.addEventListener("reset", () => setTimeout(render));

    root.querySelectorAll("[data-mk-copy]").forEach((button) => {
      button.addEventListener("click", async () => {
        try {
          say(root, await copy(button.dataset.mkCopy, root, data, valuesOf(form)));
        } catch (error) {
          say(root, "Copying was blocked by the browser: select the preview and copy it by hand.");
        }
      });
    });

    // Markdown and text downloads carry what the member typed, made here in the browser.
    root.querySelectorAll("a[data-mk-fill]").forEach((link) => {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        const format = link.dataset.mkFormat;
        const skeleton = format === "md" ? data.markdown : data.text;
        const type = format === "md" ? "text/markdown" : "text/plain";
        saveBlob(new Blob([fill(skeleton, valuesOf(form), data.labels)], { type: `${type};charset=utf-8` }),
          fileName(data.slug, format));
      });
    });
    render();
  }

  function saveBlob(blob, name) {
    const url = URL.createObjectURL(blob);
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  /* ---------------------------------------------------------------------
   * Members: MK1 (PROTOCOL.md) with WebCrypto and DecompressionStream only.
   * ------------------------------------------------------------------- */

  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const subtle = window.crypto && window.crypto.subtle;
  const MAGIC = "MK1\n";
  const GENERIC = "That email and password do not match a membership. Check both and try again.";

  const b64 = (text) => {
    const base = text.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(base + "=".repeat((4 - (base.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  };
  const b64encode = (bytes) =>
    btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  // NFKC, trim (the same characters Python strips), lowercase A-Z only.
  const normalizeEmail = (email) =>
    email.normalize("NFKC").trim().replace(/[A-Z]/g, (c) => c.toLowerCase());
  const normalizePassword = (password) => password.normalize("NFKC").trim();

  class MK1Error extends Error {
    constructor(code, message) {
      super(message);
      this.code = code;
    }
  }

  async function hmac(key, text) {
    return new Uint8Array(await subtle.sign("HMAC", key, encoder.encode(text)));
  }

  /** PBKDF2, then the lookup id and the key-wrapping key (PROTOCOL.md). */
  async function deriveMember(site, email, password, iterations) {
    const secret = await subtle.importKey(
      "raw", encoder.encode(normalizePassword(password)), "PBKDF2", false, ["deriveBits"]);
    const salt = encoder.encode(`mk1|${site}|${normalizeEmail(email)}`);
    const master = await subtle.deriveBits(
      { name: "PBKDF2", hash: "SHA-256", salt, iterations }, secret, 256);
    const macKey = await subtle.importKey(
      "raw", master, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const lookup = hex((await hmac(macKey, "mk1 lookup")).slice(0, 16));
    const kekBytes = await hmac(macKey, "mk1 wrap");
    const kek = await subtle.importKey("raw", kekBytes, "AES-GCM", false, ["decrypt"]);
    return { lookup, kek, kekBytes };
  }

  async function decrypt(key, blob, aad) {
    try {
      return new Uint8Array(await subtle.decrypt(
        { name: "AES-GCM", iv: blob.slice(0, 12), additionalData: aad, tagLength: 128 },
        key, blob.slice(12)));
    } catch (error) {
      throw new MK1Error("tampered", "authentication failed");
    }
  }

  async function inflate(bytes) {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  }

  async function openKeystoreEntry(site, member, value) {
    const aad = encoder.encode(`mk1|keys|${site}|${member.lookup}`);
    const plain = await decrypt(member.kek, b64(value), aad);
    return JSON.parse(decoder.decode(plain).trimEnd());
  }

  function readHeader(bytes) {
    if (decoder.decode(bytes.slice(0, 4)) !== MAGIC) throw new MK1Error("tampered", "not MK1");
    const end = bytes.indexOf(10, 4);
    if (end < 0) throw new MK1Error("tampered", "no header end");
    let header;
    try {
      header = JSON.parse(decoder.decode(bytes.slice(4, end)));
    } catch (error) {
      throw new MK1Error("tampered", "header is not JSON");
    }
    return { header, end };
  }

  /** Check site and path, decrypt with the tier key held, inflate. */
  async function openEnvelope(bytes, path, session) {
    const { header, end } = readHeader(bytes);
    if (header.site !== session.site) throw new MK1Error("moved", "envelope of another site");
    if (header.path !== path) throw new MK1Error("moved", `envelope for ${header.path}`);
    const held = session.keys[header.tier];
    if (!held) throw new MK1Error("tier", `no key for ${header.tier}`);
    if (held.v !== header.v) throw new MK1Error("stale", "keys were rotated");
    let data = await decrypt(held.key, bytes.slice(end + 1), bytes.slice(0, end));
    if (header.z === "deflate-raw") data = await inflate(data);
    return { header, data };
  }

  /* --- where things are ------------------------------------------------- */

  // This file is assets/memberkit/memberkit.js under the site root. (Material's
  // #__config is not: its relative base stays that of the first page loaded, while
  // instant navigation moves location on.)
  const ownURL = document.currentScript && document.currentScript.src;

  function siteRoot() {
    if (ownURL) return new URL("../../", ownURL);
    const config = document.getElementById("__config");
    const base = config ? JSON.parse(config.textContent).base || "." : ".";
    return new URL(base.endsWith("/") ? base : `${base}/`, location.href);
  }

  function pagePath() {
    const root = siteRoot().pathname;
    let path = decodeURIComponent(location.pathname);
    path = path.startsWith(root) ? path.slice(root.length) : path.replace(/^\//, "");
    return path.replace(/(^|\/)index\.html$/, "$1");
  }

  function keystoreURL() {
    const meta = document.querySelector('meta[name="mk1-keystore"]');
    return meta ? new URL(meta.content, location.href) : null;
  }

  let keystorePromise = null;

  /** Fetched once a sign-in form shows, so that signing in waits only for PBKDF2. */
  function prefetchKeystore() {
    if (!keystorePromise) keystorePromise = fetchKeystore().catch(() => null);
    if (window.indexedDB) database().catch(() => null);
    return keystorePromise;
  }

  async function fetchKeystore() {
    const url = keystoreURL();
    if (!url) throw new Error("this page has no keystore link");
    const response = await fetch(url, { cache: "no-cache", credentials: "same-origin" });
    if (!response.ok) throw new Error(`keystore: HTTP ${response.status}`);
    const keystore = await response.json();
    if (keystore.format !== "mk1") throw new Error("keystore: unknown format");
    return keystore;
  }

  /* --- the session: non-extractable keys in IndexedDB -------------------- */

  const DB_NAME = "memberkit";
  const COOKIE = "mk1session";

  let databasePromise = null;

  /** One connection per page, opened early (with the keystore) so signing in is quick. */
  function database() {
    if (!databasePromise) {
      databasePromise = new Promise((resolve, reject) => {
        const request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = () => request.result.createObjectStore("sessions");
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      databasePromise.catch(() => { databasePromise = null; });
    }
    return databasePromise;
  }

  async function store(mode, action) {
    const db = await database();
    return new Promise((resolve, reject) => {
      const request = action(db.transaction("sessions", mode).objectStore("sessions"));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  const sessionKey = () => siteRoot().href;
  const cookieValue = () =>
    (document.cookie.split("; ").find((c) => c.startsWith(`${COOKIE}=`)) || "").split("=")[1] || "";

  let sessionPromise = null;

  /** The signed-in member of this site, or null. */
  /** `memberkit serve --as TIER|public`: the owner previews one audience's view. */
  async function previewSession() {
    const meta = document.querySelector('meta[name="mk1-preview"]');
    if (!meta) return undefined;
    const preview = JSON.parse(meta.content);
    if (!preview.tier) return null;
    const key = await subtle.importKey("raw", b64(preview.k), "AES-GCM", false, ["decrypt"]);
    return {
      site: preview.site, name: `Preview: ${preview.tier}`, preview: true,
      keys: { [preview.tier]: { v: preview.v, key } },
    };
  }

  function loadSession() {
    if (!sessionPromise) {
      sessionPromise = (async () => {
        if (!subtle) return null;
        const preview = await previewSession();
        if (preview !== undefined) return preview;
        if (!window.indexedDB) return null;
        const record = await store("readonly", (s) => s.get(sessionKey())).catch(() => null);
        if (!record) return null;
        // "Remember me" off: the keys live as long as this browser session.
        if (!record.remember && record.browserSession !== cookieValue()) {
          await signOut(false);
          return null;
        }
        return record;
      })();
    }
    return sessionPromise;
  }

  async function signOut(reload = true) {
    sessionPromise = Promise.resolve(null);
    document.cookie = `${COOKIE}=; path=/; max-age=0; SameSite=Strict`;
    await store("readwrite", (s) => s.delete(sessionKey())).catch(() => null);
    if (reload) location.reload();
  }

  async function signIn(email, password, remember) {
    const keystore = (await prefetchKeystore()) || (await fetchKeystore());
    keystorePromise = null;
    const member = await deriveMember(
      keystore.site, email, password, keystore.kdf.iterations);
    const value = keystore.members[member.lookup];
    if (!value) throw new MK1Error("credentials", GENERIC);
    let entry;
    try {
      entry = await openKeystoreEntry(keystore.site, member, value);
    } catch (error) {
      throw new MK1Error("credentials", GENERIC);
    }
    if (entry.exp && entry.exp < new Date().toISOString().slice(0, 10)) {
      throw new MK1Error("expired", `Your membership ended on ${entry.exp}.`);
    }
    const keys = {};
    for (const [tier, held] of Object.entries(entry.keys)) {
      keys[tier] = {
        v: held.v,
        key: await subtle.importKey("raw", b64(held.k), "AES-GCM", false, ["decrypt"]),
      };
    }
    const browserSession = remember ? "" : hex(crypto.getRandomValues(new Uint8Array(16)));
    if (!remember) document.cookie = `${COOKIE}=${browserSession}; path=/; SameSite=Strict`;
    const record = { site: keystore.site, name: entry.name, exp: entry.exp, remember, browserSession, keys };
    await store("readwrite", (s) => s.put(record, sessionKey()));
    sessionPromise = Promise.resolve(record);
    return record;
  }

  /* --- the sign-in form --------------------------------------------------- */

  let formCount = 0;

  function signInForm(heading, note) {
    prefetchKeystore();
    formCount += 1;
    const id = `mk1-signin-${formCount}`;
    const form = document.createElement("form");
    form.className = "mk1-signin";
    form.noValidate = true;
    form.setAttribute("aria-labelledby", `${id}-title`);
    form.innerHTML = `
      <p class="mk1-signin__title" id="${id}-title">${heading}</p>
      ${note ? `<p class="mk1-signin__note"></p>` : ""}
      <label for="${id}-email">Email</label>
      <input id="${id}-email" name="email" type="email" autocomplete="username" required>
      <label for="${id}-password">Password</label>
      <input id="${id}-password" name="password" type="password" autocomplete="current-password" required>
      <label class="mk1-signin__remember"><input name="remember" type="checkbox"> Remember me on this device</label>
      <button type="submit" class="md-button md-button--primary">Sign in</button>
      <p class="mk1-signin__progress" role="status" aria-live="polite" hidden>
        <progress aria-label="Checking your password"></progress> Checking your password…</p>
      <p class="mk1-signin__error" role="alert"></p>`;
    if (note) form.querySelector(".mk1-signin__note").textContent = note;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = form.querySelector(".mk1-signin__error");
      const progress = form.querySelector(".mk1-signin__progress");
      const button = form.querySelector("button");
      const email = form.elements.email.value;
      const password = form.elements.password.value;
      error.textContent = "";
      if (!email.trim() || !password) {
        error.textContent = "Enter your email and your password.";
        return;
      }
      button.disabled = true;
      progress.hidden = false;
      form.setAttribute("aria-busy", "true");
      try {
        await signIn(email, password, form.elements.remember.checked);
        afterSignIn();
      } catch (failure) {
        error.textContent = failure instanceof MK1Error ? failure.message
          : "Signing in failed: the site could not be reached. Try again.";
        button.disabled = false;
        progress.hidden = true;
        form.removeAttribute("aria-busy");
      }
    });
    return form;
  }

  function afterSignIn() {
    const next = new URLSearchParams(location.search).get("next");
    if (document.querySelector("[data-mk1-signin]")) {
      const target = next ? new URL(next, siteRoot()) : siteRoot();
      location.assign(target.origin === location.origin ? target.href : siteRoot().href);
    } else {
      location.reload();
    }
  }

  /* --- opening protected parts ------------------------------------------ */

  const MESSAGES = {
    tier: "Your membership does not include this page.",
    stale: "The site was updated since you signed in. Please sign in again.",
  };

  function showLocked(element, reason) {
    const heading = "This part is for members: sign in to read it.";
    element.replaceChildren(signInForm(heading, MESSAGES[reason] || ""));
  }

  function showBroken(element) {
    const box = document.createElement("div");
    box.className = "admonition failure mk1-error";
    box.setAttribute("role", "alert");
    box.innerHTML = `<p class="admonition-title">This page could not be opened</p>
      <p>Its protected part was changed or does not belong to this address. Reload the page;
      if this stays, tell the site owner.</p>`;
    element.replaceChildren(box);
  }

  function insertToc(html) {
    let list = document.querySelector('[data-md-component="toc"]');
    if (!list) {
      const sidebar = document.querySelector(".md-sidebar--secondary .md-sidebar__inner");
      if (!sidebar) return;
      const nav = document.createElement("nav");
      nav.className = "md-nav md-nav--secondary mk1-toc";
      nav.setAttribute("aria-label", "Table of contents");
      nav.innerHTML = '<label class="md-nav__title">Table of contents</label>' +
        '<ul class="md-nav__list" data-md-component="toc"></ul>';
      sidebar.appendChild(nav);
      list = nav.querySelector("ul");
    }
    list.insertAdjacentHTML("beforeend", html);
  }

  async function openPage() {
    const locked = Array.from(document.querySelectorAll("[data-mk1]:not([data-mk1-done])"));
    if (!locked.length) return;
    const session = await loadSession();
    for (const element of locked) {
      element.setAttribute("data-mk1-done", "");
      if (!session) {
        showLocked(element);
        continue;
      }
      try {
        const { data } = await openEnvelope(b64(element.dataset.mk1), pagePath(), session);
        const fragments = JSON.parse(decoder.decode(data));
        const opened = document.createElement("div");
        opened.className = "mk1-opened";
        opened.innerHTML = fragments.content;
        element.replaceWith(opened);
        if (fragments.toc) insertToc(fragments.toc);
      } catch (error) {
        if (error instanceof MK1Error && error.code === "stale") await signOut(false);
        if (error instanceof MK1Error && (error.code === "tier" || error.code === "stale")) {
          showLocked(element, error.code);
        } else {
          showBroken(element);
        }
      }
    }
    if (location.hash) {
      const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
      if (target) target.scrollIntoView();
    }
  }

  /** Protected downloads: fetch the .mk1, open it here, save it with its own name. */
  async function download(link) {
    const session = await loadSession();
    const url = new URL(link.getAttribute("href"), location.href);
    const path = decodeURIComponent(url.pathname.slice(siteRoot().pathname.length)).replace(/\.mk1$/, "");
    if (!session) {
      location.assign(`${new URL("login/", siteRoot()).href}?next=${encodeURIComponent(pagePath())}`);
      return;
    }
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const { header, data } = await openEnvelope(new Uint8Array(await response.arrayBuffer()), path, session);
    saveBlob(new Blob([data], { type: header.type }), header.name);
  }

  // Capture phase: before Material's instant navigation sees the click.
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest('a[href$=".mk1"]:not([data-mk-fill])');
    if (link) {
      event.preventDefault();
      event.stopPropagation();
      download(link).catch(() => {
        const root = link.closest(".mk-doc") || document.body;
        say(root, "This download could not be opened. Sign in again or reload the page.");
      });
      return;
    }
    const signInLink = event.target.closest && event.target.closest("[data-mk1-signin-link]");
    if (signInLink) {
      event.preventDefault();
      const input = document.querySelector(".mk1-signin input[type=email]");
      if (input) input.focus();
    }
  }, true);

  /* --- the header: who is signed in ------------------------------------- */

  async function showAccount() {
    const header = document.querySelector(".md-header__inner");
    if (!header || header.querySelector(".mk1-account")) return;
    const session = await loadSession();
    const account = document.createElement("div");
    account.className = "mk1-account";
    if (session && session.preview) {
      const name = document.createElement("span");
      name.className = "mk1-account__name";
      name.textContent = session.name;
      account.append(name);
    } else if (session) {
      const name = document.createElement("span");
      name.className = "mk1-account__name";
      name.textContent = session.name;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "mk1-account__button";
      button.textContent = "Sign out";
      button.addEventListener("click", () => signOut());
      account.append(name, button);
    } else {
      const link = document.createElement("a");
      link.className = "mk1-account__button";
      link.href = new URL("login/", siteRoot()).href;
      link.textContent = "Sign in";
      account.append(link);
    }
    const search = header.querySelector(".md-search");
    header.insertBefore(account, search || null);
  }

  async function signInPage() {
    const slot = document.querySelector("[data-mk1-signin]:not([data-mk1-done])");
    if (!slot) return;
    slot.setAttribute("data-mk1-done", "");
    const session = await loadSession();
    if (session) {
      const note = document.createElement("p");
      note.textContent = `You are signed in as ${session.name}.`;
      slot.replaceChildren(note);
      return;
    }
    slot.replaceChildren(signInForm("Members, welcome back.", ""));
  }

  /** `#login=…`: sign in from the link in the welcome email, then forget it. */
  async function loginFromLink() {
    const match = location.hash.match(/^#login=([A-Za-z0-9_-]+)$/);
    if (!match) return false;
    history.replaceState(null, "", location.pathname + location.search);
    try {
      const { e, p } = JSON.parse(decoder.decode(b64(match[1])));
      await signIn(e, p, false);
      afterSignIn();
      return true; // the page is being loaded again: nothing more to show on this one
    } catch (error) {
      const slot = document.querySelector("[data-mk1-signin]") || document.querySelector("[data-mk1]");
      if (slot) {
        slot.setAttribute("data-mk1-done", "");
        slot.replaceChildren(signInForm("That login link did not work: sign in below.",
          error instanceof MK1Error ? error.message : ""));
      }
      return false;
    }
  }

  /* --- search: Material's own search, fed the shards the member may read - */

  let mergedIndex = null;

  async function mergedSearchIndex(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    const index = await response.json();
    const session = await loadSession();
    if (session) {
      for (const tier of Object.keys(session.keys)) {
        const path = `search/${tier}.json`;
        const shard = await fetch(new URL(`${path}.mk1`, siteRoot()), { credentials: "same-origin" });
        if (!shard.ok) continue;
        try {
          const { data } = await openEnvelope(new Uint8Array(await shard.arrayBuffer()), path, session);
          index.docs.push(...JSON.parse(decoder.decode(data)).docs);
        } catch (error) {
          if (error instanceof MK1Error && error.code === "stale") await signOut(false);
        }
      }
    }
    return URL.createObjectURL(new Blob([JSON.stringify(index)], { type: "application/json" }));
  }

  // Material requests search/search_index.json with XMLHttpRequest when it starts:
  // hold that request until the protected entries are merged in.
  const nativeOpen = XMLHttpRequest.prototype.open;
  const nativeSend = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function open(method, url, ...rest) {
    this._mk1Index = /(^|\/)search\/search_index\.json$/.test(new URL(url, location.href).pathname)
      ? new URL(url, location.href).href : null;
    return nativeOpen.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function send(body) {
    if (!this._mk1Index) return nativeSend.call(this, body);
    const source = this._mk1Index;
    this._mk1Index = null;
    mergedIndex = mergedIndex || mergedSearchIndex(source).catch(() => source);
    mergedIndex.then((url) => {
      const type = this.responseType;
      nativeOpen.call(this, "GET", url);
      this.responseType = type;
      nativeSend.call(this, body);
    });
    return undefined;
  };

  function init() {
    showAccount();
    signInPage();
    openPage().then(() => document.querySelectorAll("[data-mk-doc]").forEach(setupDocument));
  }

  window.memberkit = Object.assign(window.memberkit || {}, {
    fill, init, saveBlob, deriveMember, openEnvelope, openKeystoreEntry, signIn, signOut,
    normalizeEmail, normalizePassword, b64, b64encode, hex, inflate,
  });

  const start = async () => {
    // Signed in from a link: the page reloads (or moves on); showing the member here
    // first would only race that load.
    if (await loginFromLink()) return;
    if (window.document$ && typeof window.document$.subscribe === "function") {
      window.document$.subscribe(init);
    } else {
      init();
    }
  };
  // A login link opened on the page it points to changes only the fragment: no reload.
  window.addEventListener("hashchange", () => {
    if (location.hash.startsWith("#login=")) loginFromLink();
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
