/* Signing in: the form, the one-click login link, and who is signed in (header). */

import { MK1Error, b64, normalizeEmail, text } from "./mk1.js";
import { loadSession, prefetchKeystore, signIn, signOut } from "./session.js";
import { siteRoot } from "./site.js";

let formCount = 0;

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

/** Signed in: load the page again (or go on from the sign-in page), now opened. */
function afterSignIn() {
  const next = new URLSearchParams(location.search).get("next");
  if (document.querySelector("[data-mk1-signin]")) {
    const target = next ? new URL(next, siteRoot()) : siteRoot();
    location.assign(target.origin === location.origin ? target.href : siteRoot().href);
  } else {
    location.reload();
  }
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
  slot.replaceChildren(signInForm("Members, welcome back.", ""));
}

/** The header: the member's name and "Sign out", or a "Sign in" link. */
export async function showAccount() {
  const header = document.querySelector(".md-header__inner");
  if (!header || header.querySelector(".mk1-account")) return;
  const session = await loadSession();
  const account = document.createElement("div");
  account.className = "mk1-account";
  if (session) {
    const name = document.createElement("span");
    name.className = "mk1-account__name";
    name.textContent = session.name;
    account.append(name);
  }
  if (session && !session.preview) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "mk1-account__button";
    button.textContent = "Sign out";
    button.addEventListener("click", () => signOut());
    account.append(button);
  } else if (!session) {
    const link = document.createElement("a");
    link.className = "mk1-account__button";
    link.href = new URL("login/", siteRoot()).href;
    link.textContent = "Sign in";
    account.append(link);
  }
  const search = header.querySelector(".md-search");
  header.insertBefore(account, search || null);
}

/**
 * `#login=…`: sign in from the link in the welcome email, then forget it. True when
 * signed in: the page is being loaded again, and nothing more should happen on it.
 * The link carries the email and a secret of its own that lasts a few days (links
 * sent before carried the password: they still work).
 */
export async function loginFromLink() {
  const match = location.hash.match(/^#login=([A-Za-z0-9_-]+)$/);
  if (!match) return false;
  history.replaceState(null, "", location.pathname + location.search);
  try {
    const { e, l, p } = JSON.parse(text(b64(match[1])));
    if (!(await switchingAgreed(e))) return false;
    await signIn(e, l || p, false);
    afterSignIn();
    return true;
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

/** Signed in as someone else: ask before a link signs them out. */
async function switchingAgreed(email) {
  const session = await loadSession();
  if (!session || session.preview || session.email === normalizeEmail(email)) return true;
  return window.confirm(
    `You are signed in as ${session.name}. Sign out, and sign in as ${email} instead?`);
}

/** "Sign in" links inside a page move the focus to the form on the page. */
export function focusSignIn(event) {
  const link = event.target.closest && event.target.closest("[data-mk1-signin-link]");
  if (!link) return;
  event.preventDefault();
  const input = document.querySelector(".mk1-signin input[type=email]");
  if (input) input.focus();
}
