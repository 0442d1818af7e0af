"""The live preview's reload script is allowed by each page's policy, and only there."""

from __future__ import annotations

import base64
import hashlib
import re

from mkdocs.livereload import LiveReloadServer

from generator.engine import preview
from generator.publish.hosting import HostPolicy

PAGE = (
    "<!doctype html><html><head>"
    + HostPolicy(script_hashes={"'sha256-material'"}).meta_tag()
    + "</head><body><p>Hello</p></body></html>"
).encode()


def inject(page: bytes) -> bytes:
    """What MkDocs' preview server sends for `page` (its own method; it uses no state)."""
    return bytes(LiveReloadServer._inject_js_into_html(None, page, 7))  # type: ignore[arg-type]


def policy(page: bytes) -> str:
    found = re.search(rb'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
    assert found is not None
    return found.group(1).decode()


def test_the_injected_script_hash_joins_the_page_policy() -> None:
    served = inject(PAGE)
    body = re.findall(rb"<script>(.*?)</script>", served, re.DOTALL)[-1]
    assert b"livereload" in body  # what MkDocs injects
    allowed = preview.allow_injected_script(PAGE, served)
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    script_src = re.search(r"script-src ([^;]*)", policy(allowed))
    assert script_src is not None
    assert script_src.group(1).split() == [f"'sha256-{digest}'", "'self'", "'sha256-material'"]
    # Nothing else of the policy changes, nor of the page.
    assert policy(allowed).replace(f"'sha256-{digest}' ", "") == policy(PAGE)
    assert allowed.replace(f"'sha256-{digest}' ".encode(), b"") == served


def test_each_request_gets_the_hash_of_its_own_script() -> None:
    server = type("Server", (), {"_inject_js_into_html": lambda self, c, e: inject(c)})()
    preview.let_live_reload_run(server)
    first, second = (server._inject_js_into_html(PAGE, 7) for _ in range(2))
    for page in (first, second):
        body = re.findall(rb"<script>(.*?)</script>", page, re.DOTALL)[-1]
        assert preview.script_hash(body).decode() in policy(page)


def test_a_page_without_a_policy_or_an_unknown_injection_is_left_alone() -> None:
    bare = b"<html><body><p>Hi</p></body></html>"
    injected = inject(bare)  # once: the script holds the time it was made
    assert preview.allow_injected_script(bare, injected) == injected
    other = PAGE.replace(b"</body>", b"<script defer>x()</script></body>")
    assert preview.allow_injected_script(PAGE, other) == other
