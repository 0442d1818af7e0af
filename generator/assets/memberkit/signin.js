/* Signing in: the form, the one-click login link, and who is signed in (header). */

import { asciiEmail, signInAnySpelling } from "./addresses.js";
import { MK1Error, b64, normalizeEmail, text } from "./mk1.js";
import {
  loadSession, longDate, prefetchKeystore, prefetchShard, sessionSaved, signIn, signOut,
} from "./session.js";
import { siteRoot } from "./site.js";

let formCount = 0;

/* What the form says while it works: in live regions that are always there (empty
 * until needed), so that screen readers announce each change: progress politely
 * (role "status"), a failure at once (role "alert"). */
const CHECKING = "Checking your password…";
const OPENING = "Signed in. Opening the page…";
const SIGN_IN = "Sign in";
const SIGNING_IN = "Signing in…";
/** A login link that opens nothing (any more): said as such, whatever the reason. */
const LINK_DEAD = "This login link no longer works: it has expired, or a newer one " +
  "replaced it. Sign in with your email and password, or ask for a new link.";

/** Where joining is: the join box's button on this page (`join_url`), or nothing. */
function joinHref() {
  const button = document.querySelector(".mk1-join .md-button[href]");
  return button ? button.href : "";
}

/**
 * "Your membership ended on 7 December 2026. Renew it to read on.", "Renew it" linked
 * to where joining is (the join box's address): a member whose entry says it ended.
 */
export function endedNotice(day) {
  const notice = document.createDocumentFragment();
  notice.append(`Your membership ended on ${longDate(day)}. `);
  const href = joinHref();
  if (href) {
    const renew = document.createElement("a");
    renew.href = href;
    renew.className = "mk1-renew";
    renew.textContent = "Renew it";
    notice.append(renew, " to read on.");
  } else {
    notice.append("Renew it to read on.");
  }
  return notice;
}

/** What to say for a failure: a membership that ended with the way to renew, else its text. */
const said = (failure) =>
  failure instanceof MK1Error && failure.code === "expired" && failure.ended
    ? endedNotice(failure.ended) : failure.message;

export function signInForm(heading, note) {
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
    <p class="mk1-signin__error" role="alert" id="${id}-error"></p>
    <label for="${id}-email">Email</label>
    <input id="${id}-email" name="email" type="text" inputmode="email" autocomplete="username"
      autocapitalize="off" spellcheck="false" required
      aria-describedby="${id}-error">
    <label for="${id}-password">Password</label>
    <input id="${id}-password" name="password" type="password" autocomplete="current-password"
      required aria-describedby="${id}-error">
    <label class="mk1-signin__remember"><input name="remember" type="checkbox"> Remember me on this device</label>
    <button type="submit" class="md-button md-button--primary">${SIGN_IN}</button>
    <p class="mk1-signin__progress" role="status"></p>`;
  if (note) form.querySelector(".mk1-signin__note").append(note);
  const error = form.querySelector(".mk1-signin__error");
  const status = form.querySelector(".mk1-signin__progress");
  const button = form.querySelector("button");
  const inputs = [form.elements.email, form.elements.password];
  // The email typed (or filled in): its keystore shard is fetched before "Sign in".
  const early = () => prefetchShard(asciiEmail(form.elements.email.value));
  form.elements.email.addEventListener("change", early);
  form.elements.password.addEventListener("focus", early);
  // Busy: the button says so but keeps the focus (a disabled button would drop it).
  const busy = (on) => {
    button.setAttribute("aria-disabled", String(on));
    button.textContent = on ? SIGNING_IN : SIGN_IN;
    form.setAttribute("aria-busy", String(on));
    if (on) {
      const bar = document.createElement("progress");
      bar.setAttribute("aria-hidden", "true");
      status.replaceChildren(bar, ` ${CHECKING}`);
    } else {
      status.replaceChildren();
    }
  };
  // `invalid`: the fields at fault (none when the site could not be reached). `message`:
  // text, or a node (with a link in it).
  const fail = (message, invalid = []) => {
    busy(false);
    error.replaceChildren(message);
    for (const input of invalid) input.setAttribute("aria-invalid", "true");
    // Where the eye is: above the fields, brought into view on a short screen.
    error.scrollIntoView({ block: "nearest" });
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.getAttribute("aria-disabled") === "true") return;
    const email = form.elements.email.value;
    const password = form.elements.password.value;
    error.textContent = "";
    for (const input of inputs) input.removeAttribute("aria-invalid");
    const empty = inputs.filter((input) => !input.value.trim());
    if (empty.length) {
      fail("Enter your email and your password.", empty);
      empty[0].focus();
      return;
    }
    busy(true);
    try {
      const session = await signInAnySpelling(email, password, form.elements.remember.checked);
      status.textContent = OPENING;
      await afterSignIn(session);
    } catch (failure) {
      const refused = failure instanceof MK1Error;
      fail(refused ? said(failure) : "Signing in failed: the site could not be reached. Try again.",
        refused && failure.code === "credentials" ? inputs : []);
    }
  });
  return form;
}

let openInPlace = null; // (session) => Promise<boolean>: main.js opens the page signed in

/** What opens the page in place once a member signed in on it (main.js). */
export const whenSignedIn = (handler) => { openInPlace = handler; };

/**
 * Signed in: from the sign-in page, go on to the page asked for; on any other page,
 * open it in place (or, if it cannot be, load it again). `started`: the page has been
 * shown already (a login link opened first is followed by the page's own opening).
 * True when the browser leaves the page.
 */
async function afterSignIn(session, started = true) {
  const next = new URLSearchParams(location.search).get("next");
  if (document.querySelector("[data-mk1-signin]")) {
    await sessionSaved(); // the next page reads it
    const target = next ? new URL(next, siteRoot()) : siteRoot();
    location.assign(target.origin === location.origin ? target.href : siteRoot().href);
    return true;
  }
  if (!started) return false;
  if (openInPlace && (await openInPlace(session).catch(() => false))) return false;
  await sessionSaved();
  location.reload();
  return true;
}

/** The sign-in page's slot: the form, or who is signed in. */
export async function signInPage() {
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
  // Sent here by a members' download: say so.
  const download = new URLSearchParams(location.search).get("download");
  const why = download ? `“${download}” is for members: sign in to download it.` : "";
  slot.replaceChildren(signInForm("Members, welcome back.", why));
  // The page is for signing in: the cursor waits in the email field.
  const email = slot.querySelector("input[name=email]");
  if (email) email.focus();
}

/** The sign-in page, with the way back to the page the visitor is on (`?next=`). */
function loginHref() {
  const root = siteRoot();
  const login = new URL("login/", root);
  const here = location.pathname.startsWith(root.pathname)
    ? location.pathname.slice(root.pathname.length) + location.hash : "";
  if (here && !here.startsWith("login/")) login.searchParams.set("next", here);
  return login.href;
}

/** A head and shoulders: the compact account button's picture. */
const PERSON = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">' +
  '<circle cx="12" cy="8" r="4"/><path d="M4 20a8 6.5 0 0 1 16 0z"/></svg>';

/**
 * The header: the member's name and "Sign out", or a "Sign in" link. On a narrow
 * screen (see memberkit.css) the name and "Sign out" fold into a menu behind a round
 * account button, so the site's title keeps its room.
 */
export async function showAccount() {
  const header = document.querySelector(".md-header__inner");
  if (!header) return;
  // The header outlives instant navigation: its link follows the page.
  const signInLink = header.querySelector(".mk1-account__button");
  if (signInLink) signInLink.href = loginHref();
  if (header.querySelector(".mk1-account")) return;
  const session = await loadSession();
  if (header.querySelector(".mk1-account")) return;
  const account = document.createElement("div");
  account.className = "mk1-account";
  if (session) {
    account.append(accountMenu(session));
  } else {
    const link = document.createElement("a");
    link.className = "mk1-account__button";
    link.href = loginHref();
    link.textContent = "Sign in";
    account.append(link);
  }
  // Right after the site's title, which gives it room: nothing to its right moves.
  const title = header.querySelector(".md-header__title");
  header.insertBefore(account, title ? title.nextSibling : header.querySelector(".md-search"));
}

let menuCount = 0;

/** The member's name and "Sign out" (not in a preview), behind a toggle on a phone. */
function accountMenu(session) {
  menuCount += 1;
  const id = `mk1-account-${menuCount}`;
  const fragment = document.createDocumentFragment();
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "mk1-account__toggle";
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", id);
  toggle.setAttribute("aria-label", `Account: ${session.name}`);
  toggle.title = session.name;
  toggle.innerHTML = PERSON;
  const panel = document.createElement("div");
  panel.className = "mk1-account__panel";
  panel.id = id;
  const name = document.createElement("span");
  name.className = "mk1-account__name";
  name.textContent = session.name;
  panel.append(name);
  if (!session.preview) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "mk1-account__button";
    button.textContent = "Sign out";
    button.addEventListener("click", () => signOut());
    panel.append(button);
  }
  const open = (on) => {
    toggle.setAttribute("aria-expanded", String(on));
    panel.classList.toggle("mk1-account__panel--open", on);
  };
  toggle.addEventListener("click", () => open(toggle.getAttribute("aria-expanded") !== "true"));
  panel.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    open(false);
    toggle.focus();
  });
  toggle.addEventListener("keydown", (event) => {
    if (event.key === "Escape") open(false);
  });
  document.addEventListener("click", (event) => {
    if (!toggle.parentNode.contains(event.target)) open(false);
  });
  fragment.append(toggle, panel);
  return fragment;
}

/**
 * `#login=…`: sign in from the link in the welcome email, then forget it. True when
 * the browser leaves the page (for the page the sign-in page was asked to go on to),
 * and nothing more should happen on it. `started`: the page has been shown already
 * (the link was opened on the page it points to): it is opened in place.
 * The link carries the email and a secret of its own that lasts a few days (links
 * sent before carried the password: they still work).
 */
export async function loginFromLink(started = false) {
  const match = location.hash.match(/^#login=([A-Za-z0-9_-]+)$/);
  if (!match) return false;
  history.replaceState(null, "", location.pathname + location.search);
  try {
    const { e, l, p } = JSON.parse(text(b64(match[1])));
    if (!(await switchingAgreed(e))) return false;
    return await afterSignIn(await signIn(e, l || p, false), started);
  } catch (error) {
    const slot = document.querySelector("[data-mk1-signin]") || document.querySelector("[data-mk1]");
    if (slot) {
      slot.setAttribute("data-mk1-done", "");
      const why = error instanceof MK1Error && error.code === "credentials" ? LINK_DEAD
        : error instanceof MK1Error ? said(error) : "";
      slot.replaceChildren(signInForm("That login link did not work: sign in below.", why));
    }
    return false;
  }
}

/** Signed in as someone else: ask before a link signs them out. */
async function switchingAgreed(email) {
  const session = await loadSession();
  if (!session || session.preview || session.email === normalizeEmail(email)) return true;
  return window.confirm(
    `You are signed in as ${session.name}. Sign out, and sign in as ${email} instead?`);
}

/** "Sign in" links inside a page move the focus to the form on the page. */
export function focusSignIn(event) {
  const closest = (selector) => event.target.closest && event.target.closest(selector);
  // The header's "Sign in" comes back to the page shown now: set as it is followed,
  // for a click may come before the page that instant navigation brought is set up.
  const header = closest(".mk1-account__button");
  if (header) header.href = loginHref();
  const link = closest("[data-mk1-signin-link]");
  if (!link) return;
  event.preventDefault();
  const input = document.querySelector(".mk1-signin input[name=email]");
  if (input) input.focus();
}
