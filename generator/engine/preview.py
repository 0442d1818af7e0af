"""The live preview (`memberkit serve`, `mkdocs serve`): let its reload script run.

MkDocs' preview server adds an inline script to every page it serves (before
`</body>`, see `mkdocs/livereload/__init__.py`) that reloads the page after a rebuild.
The page's Content-Security-Policy allows no inline script but Material's, by hash,
so the browser blocks it: the page never reloads and logs an error. The script differs
on every request (it holds the build's number and a timestamp), so its hash is added
to that one response's policy, as it is served, and to nothing else: the policy stays
exactly as strict otherwise, and a built site never allows it.

No MkDocs import: the server is handed in by the plugin's `on_serve`.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from typing import Any

_POLICY = re.compile(rb'(<meta http-equiv="Content-Security-Policy" content="[^"]*?script-src )')
_OPEN, _CLOSE = b"<script>", b"</script>"


def script_hash(body: bytes) -> bytes:
    """The CSP source that allows exactly this inline script."""
    return b"'sha256-" + base64.b64encode(hashlib.sha256(body).digest()) + b"'"


def allow_injected_script(before: bytes, after: bytes) -> bytes:
    """`after` (the page as the server injected its script into `before`) with the
    injected script's hash in the page's policy.

    The script is found where MkDocs puts it: before the last `</body>`. A page that
    carries no policy, or an injection of another shape, is returned as it is.
    """
    end = before.rfind(b"</body>")
    at = len(before) if end == -1 else end
    injected = after[at : at + len(after) - len(before)]
    if not (injected.startswith(_OPEN) and injected.endswith(_CLOSE)):
        return after
    source = script_hash(injected[len(_OPEN) : -len(_CLOSE)])
    return _POLICY.sub(lambda found: found.group(1) + source + b" ", after, count=1)


def let_live_reload_run(server: Any) -> None:
    """Make the preview server add its reload script's hash to each page it serves."""
    inject: Callable[[bytes, int], bytes] = server._inject_js_into_html

    def inject_allowed(content: bytes, epoch: int) -> bytes:
        return allow_injected_script(content, inject(content, epoch))

    server._inject_js_into_html = inject_allowed
