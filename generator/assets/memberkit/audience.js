/* Who is looking: a member or a visitor. A class on <html> lets the stylesheet show
 * each their own calls to action: the join box and join buttons to visitors, the way
 * into the guides to members.
 *
 * boot.js sets the class before the first paint from a hint kept here, so a member
 * never sees the join box flash; this module confirms or corrects it once the
 * session is known. The hint holds no secret: only that someone signed in here.
 */

import { siteRoot } from "./site.js";

export const SIGNED_IN = "mk1-signed-in";
/** The hint's name in localStorage; boot.js reads the same name. */
const hintName = () => `${SIGNED_IN}:${siteRoot().pathname}`;

/** Mark the page (and remember for the next one) as a member's or a visitor's. */
export function showAudience(session) {
  const member = Boolean(session);
  document.documentElement.classList.toggle(SIGNED_IN, member);
  try {
    if (member) localStorage.setItem(hintName(), "1");
    else localStorage.removeItem(hintName());
  } catch (error) {
    // Storage turned off: the class still follows the session, a moment later.
  }
}
