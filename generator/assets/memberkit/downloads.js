/* Members' downloads: a click on a `.mk1` link fetches it, opens it here and saves it
 * with its own name. (A template's downloads are the template widget's: documents.js.) */

import { say } from "./documents.js";
import { fetchDownload, saveBlob } from "./files.js";

async function download(link) {
  const file = await fetchDownload(link);
  if (file) saveBlob(new Blob([file.data], { type: file.type }), file.name);
}

/** A click on a link to a `.mk1` file (capture phase: before instant navigation). */
export function onDownloadClick(event) {
  const link = event.target.closest && event.target.closest('a[href$=".mk1"]:not([data-mk-fill])');
  if (!link) return false;
  event.preventDefault();
  event.stopPropagation();
  download(link).catch(() => {
    const root = link.closest(".mk-doc") || document.body;
    say(root, "This download could not be opened. Sign in again or reload the page.");
  });
  return true;
}
