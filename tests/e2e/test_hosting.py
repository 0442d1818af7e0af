"""The headers a real server sends with the configuration memberkit generates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from playwright.sync_api import Page, expect

from ..conftest import MEMBER, copy_project, run_memberkit
from .conftest import Nginx, PageWatch, serve_from, sign_in, watched_tab


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urlopen(Request(url), timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize("path", ["", "guides/task-briefs/", "mk1/keystore.json", "nope/"])
def test_every_response_carries_the_security_headers(served_site: str, path: str) -> None:
    _, headers, _ = fetch(served_site + path)
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self' 'sha256-" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["mk1/keystore.json", "mk1/keys/0.json", "mk1/keys/f.json"])
def test_keystore_is_never_cached_stale(served_site: str, path: str) -> None:
    status, headers, body = fetch(served_site + path)
    assert status == 200 and body.startswith(b'{"format":"mk1"')
    assert headers["Cache-Control"] == "no-cache"
    assert headers["X-Robots-Tag"] == "noindex"


@pytest.mark.parametrize(
    "path", ["", "guides/task-briefs/", "assets/memberkit/main.js", "search/search_index.json"]
)
def test_text_is_sent_compressed(served_site: str, path: str) -> None:
    request = Request(served_site + path, headers={"Accept-Encoding": "gzip"})
    with urlopen(request, timeout=10) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]


def test_files_named_by_their_content_are_cached_for_a_year(
    served_site: str, bundled_site: Path
) -> None:
    bundle = next((bundled_site / "assets/javascripts").glob("bundle.*.min.js")).name
    worker = next((bundled_site / "assets/javascripts/workers").glob("search.*.min.js")).name
    code = next((bundled_site / "assets/memberkit").glob("main.*.js")).name
    paths = [f"assets/javascripts/{bundle}", f"assets/javascripts/workers/{worker}"]
    for path in [*paths, f"assets/memberkit/{code}"]:
        status, headers, _ = fetch(served_site + path)
        assert status == 200
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path
    for path in ("", "assets/memberkit/main.js", "assets/javascripts/lunr/min/lunr.de.min.js"):
        _, headers, _ = fetch(served_site + path)
        assert "immutable" not in headers.get("Cache-Control", ""), path


def test_teasers_are_indexable_encrypted_files_are_not(served_site: str) -> None:
    _, teaser, _ = fetch(served_site + "guides/task-briefs/")
    assert "X-Robots-Tag" not in teaser
    _, public, _ = fetch(served_site + "three-mistakes/")
    assert "X-Robots-Tag" not in public
    for private in ("downloads/task-brief.docx.mk1", "search/members.json.mk1"):
        _, envelope, _ = fetch(served_site + private)
        assert envelope["X-Robots-Tag"] == "noindex"


def test_robots_404_and_sitemap(served_site: str) -> None:
    status, _, robots = fetch(served_site + "robots.txt")
    assert status == 200 and b"Disallow: /mk1/" in robots
    status, _, body = fetch(served_site + "no/such/page/")
    assert status == 404 and b'<h1 id="page-not-found">Page not found</h1>' in body
    status, _, sitemap = fetch(served_site + "sitemap.xml")
    # Members' pages are listed (instant navigation needs them), by URL only.
    assert status == 200 and b"guides/task-briefs/</loc>" in sitemap
    assert b"Estimating time" not in sitemap


def test_pages_run_under_the_policy_without_violations(
    member_page: tuple[Page, PageWatch], served_site: str
) -> None:
    tab, watch = member_page
    for path in ("", "three-mistakes/", "guides/task-briefs/", "templates/weekly-report/"):
        tab.goto(served_site + path)
        expect(tab.locator(".mk1-account")).to_be_visible()
    tab.goto(served_site + "guides/task-briefs/")
    tab.get_by_role("textbox", name="Search").click()
    tab.keyboard.type("estimating")
    expect(tab.locator(".md-search-result__item").first).to_be_visible()
    assert not [e for e in watch.errors if "Content Security Policy" in e]


# -- a site served under a path ----------------------------------------------------------


@pytest.fixture(scope="module")
def site_under_path(tmp_path_factory: pytest.TempPathFactory, nginx_bin: str) -> Iterator[str]:
    """The bundled site with `site_url: http://127.0.0.1:PORT/docs/`, served by the
    block `memberkit nginx` prints for it."""
    server = Nginx(tmp_path_factory.mktemp("path-nginx"))
    project = copy_project(tmp_path_factory.mktemp("under-path"))
    serve_from(project, server.url + "docs/")
    built = run_memberkit("build", cwd=project)
    assert built.returncode == 0, built.stderr
    block = run_memberkit("nginx", "--listen", f"127.0.0.1:{server.port}", cwd=project)
    assert block.returncode == 0, block.stderr
    assert "location ^~ /docs/ {" in block.stdout
    yield server.serve(project / "site", "/docs/")
    server.stop()


def test_under_a_path_the_host_files_and_nginx_follow_site_url(site_under_path: str) -> None:
    root = site_under_path.removesuffix("docs/")
    status, headers, body = fetch(site_under_path + "mk1/keystore.json")
    assert status == 200 and body.startswith(b'{"format":"mk1"')
    assert headers["Cache-Control"] == "no-cache" and headers["X-Robots-Tag"] == "noindex"
    _, envelope, _ = fetch(site_under_path + "downloads/task-brief.docx.mk1")
    assert envelope["X-Robots-Tag"] == "noindex"
    status, headers, _ = fetch(site_under_path + "guides/task-briefs/")
    assert status == 200 and "Content-Security-Policy" in headers
    assert fetch(root + "guides/task-briefs/")[0] == 404  # outside the site's path
    status, _, missing = fetch(site_under_path + "no/such/page/")
    assert status == 404 and b"Page not found" in missing
    _, _, robots = fetch(site_under_path + "robots.txt")
    assert b"Disallow: /docs/mk1/" in robots and b"Disallow: /mk1/" not in robots


def test_under_a_path_a_member_signs_in_and_reads(browser: Any, site_under_path: str) -> None:
    with watched_tab(browser, site_under_path) as (tab, _):
        sign_in(tab, site_under_path, MEMBER)
        tab.goto(site_under_path + "guides/task-briefs/")
        expect(tab.get_by_role("heading", name="Estimating time")).to_be_visible()
        assert re.search(r"/docs/guides/task-briefs/$", tab.url)
