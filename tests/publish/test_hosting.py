"""Host configuration: headers, nginx block, robots.txt, sitemap, CSP hashes, comments."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest

from generator.publish import hosting

from ..conftest import nginx_check, run_memberkit

PAGE = """<html><head><script>var a=1;</script><script src="x.js"></script>
<script id="__config" type="application/json">{"base": "."}</script></head></html>"""


def script_hash(body: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"


def test_inline_script_hashes_skip_external_and_json_scripts() -> None:
    assert hosting.inline_script_hashes(PAGE) == {script_hash("var a=1;")}
    # Multi-line bodies, attributes, an empty script; a script never closed is no script.
    page = (
        '<script async src="a.js"></script><script type="module">\nb()\n</script>'
        "<script></script><p>text</p><script>var c = '<b>';</script><script>never closed"
    )
    assert hosting.inline_script_hashes(page) == {
        script_hash("\nb()\n"),
        script_hash(""),
        script_hash("var c = '<b>';"),
    }
    # A script with a source that is never closed (in a comment, say) hides nothing.
    page = '<!-- <script src="x.js"> --><script>f()</script>'
    assert hosting.inline_script_hashes(page) == {script_hash("f()")}


def test_headers_file_round_trips_into_nginx() -> None:
    policy = hosting.HostPolicy(script_hashes={"'sha256-abc='"}, noindex={"guides/x/"})
    text = policy.netlify_headers()
    rules = dict(hosting.parse_headers(text))
    assert dict(rules["/*"])["X-Content-Type-Options"] == "nosniff"
    assert dict(rules["/mk1/keystore.json"])["Cache-Control"] == "no-cache"
    assert dict(rules["/guides/x/"])["X-Robots-Tag"] == "noindex"
    block = hosting.nginx_server(text, "/srv/site", "127.0.0.1:8080")
    assert "location = /mk1/keystore.json {" in block
    assert "location ^~ /downloads/ {" in block
    assert block.count('add_header X-Content-Type-Options "nosniff" always;') == len(rules)


def test_under_a_path_every_host_file_names_the_path() -> None:
    policy = hosting.HostPolicy(noindex={"guides/x/"}, base=hosting.base_path("https://e.org/docs"))
    text = policy.netlify_headers()
    rules = dict(hosting.parse_headers(text))
    paths = list(rules)
    assert paths[0] == "/docs/*" and all(p.startswith("/docs/") for p in paths)
    assert dict(rules["/docs/mk1/keystore.json"])["Cache-Control"] == "no-cache"
    block = hosting.nginx_server(text, "/srv/site/", "8080")
    assert "location ^~ /docs/ {\n        alias /srv/site/;" in block
    assert (
        "location = /docs/mk1/keystore.json {\n        alias /srv/site/mk1/keystore.json;" in block
    )
    assert "error_page 404 /docs/404.html;" in block and "try_files" not in block
    robots = hosting.robots_txt("https://e.org/docs/")
    assert (
        "Disallow: /docs/search/" in robots and "Sitemap: https://e.org/docs/sitemap.xml" in robots
    )
    assert hosting.base_path(None) == hosting.base_path("https://e.org") == "/"


@pytest.mark.skipif(
    shutil.which("nginx") is None and os.environ.get("CI") != "true",
    reason="nginx is not installed (CI installs it; sudo apt-get install nginx)",
)
def test_generated_nginx_block_is_valid_nginx(tmp_path: Path) -> None:
    text = hosting.HostPolicy(noindex={"guides/x/"}).netlify_headers()
    block = hosting.nginx_server(text, str(tmp_path), "127.0.0.1:8080")
    result = nginx_check(block, tmp_path)
    assert result.returncode == 0, result.stderr


def test_bad_headers_file_is_reported_with_its_line() -> None:
    with pytest.raises(ValueError, match="line 2"):
        hosting.parse_headers("/*\n  no colon here\n")


def test_robots_txt_names_the_sitemap_when_the_site_url_is_known() -> None:
    assert "Sitemap: https://m.example/sitemap.xml" in hosting.robots_txt("https://m.example/")
    assert "Sitemap" not in hosting.robots_txt(None)


def _csp_meta(page: str) -> str | None:
    found = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    return found.group(1) if found else None


def test_every_page_carries_the_policy_unless_the_host_sends_headers(project: Path) -> None:
    assert run_memberkit("build", cwd=project).returncode == 0
    headers = (project / "site/_headers").read_text()
    header_hashes = set(re.findall(r"'sha256-[^']+'", headers))
    pages = sorted((project / "site").rglob("*.html"))
    for page in pages:
        text = page.read_text()
        meta = _csp_meta(text)
        assert meta is not None, page
        # The page's own inline scripts are allowed, and only what the site allows.
        assert set(re.findall(r"'sha256-[^']+'", meta)) == hosting.inline_script_hashes(text)
        assert hosting.inline_script_hashes(text) <= header_hashes
    config = project / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "      join_url: join.md\n", "      join_url: join.md\n      csp_meta: false\n"
        )
    )
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    assert not [page for page in pages if _csp_meta(page.read_text()) is not None]
    # The host still gets the whole policy.
    assert (project / "site/_headers").read_text() == headers


def test_comments_only_where_asked_and_only_when_configured(project: Path) -> None:
    assert run_memberkit("build", cwd=project).returncode == 0
    article = (project / "site/three-mistakes/index.html").read_text()
    assert "giscus" not in article  # off by default
    config = project / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "      join_url: join.md\n",
            "      join_url: join.md\n      comments:\n        repo: owner/site\n"
            "        repo_id: R_1\n        category: Comments\n        category_id: DIC_1\n",
        )
    )
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    article = (project / "site/three-mistakes/index.html").read_text()
    assert 'src="https://giscus.app/client.js"' in article and 'data-repo="owner/site"' in article
    assert "giscus" not in (project / "site/about/index.html").read_text()  # not asked for
    assert "frame-src https://giscus.app" in article
    guide = (project / "site/guides/task-briefs/index.html").read_text()
    assert "giscus.app/client.js" not in guide
    headers = (project / "site/_headers").read_text()
    assert re.search(r"script-src [^;]*https://giscus\.app", headers)


def test_incomplete_comments_settings_fail_clearly(project: Path) -> None:
    config = project / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "      join_url: join.md\n",
            "      join_url: join.md\n      comments:\n        repo: a/b\n",
        )
    )
    result = run_memberkit("build", cwd=project)
    assert result.returncode != 0 and "repo_id, category, category_id" in result.stderr


def test_github_pages_workflow_builds_with_the_sealed_state_and_its_key() -> None:
    """The state comes from memberkit.state in the repository, opened with the key in
    the MEMBERKIT_STATE_KEY secret; no copy of it is written on the runner."""
    import yaml

    from ..conftest import ROOT

    workflow = yaml.safe_load((ROOT / ".github/workflows/publish.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    commands = "\n".join(step.get("run", "") for step in steps)
    assert "MEMBERKIT_STATE_JSON" not in str(workflow) and "MEMBERKIT_STATE=" not in commands
    for command in ("memberkit build", "memberkit check"):
        [step] = [s for s in steps if s.get("run") == command]
        assert step["env"] == {"MEMBERKIT_STATE_KEY": "${{ secrets.MEMBERKIT_STATE_KEY }}"}
    assert commands.index("memberkit build") < commands.index("memberkit check")
    [upload] = [s for s in steps if "upload-pages-artifact" in s.get("uses", "")]
    assert upload["with"]["path"] == "site"
    assert workflow["jobs"]["deploy"]["needs"] == "build"
    # The sitemap's dates come from git: the whole history is checked out.
    checkout = next(s for s in steps if "actions/checkout" in s.get("uses", ""))
    assert checkout["with"]["fetch-depth"] == 0


def test_what_a_page_loads_from_other_hosts_by_directive() -> None:
    page = (
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">'
        '<link rel="icon" href="/favicon.png"><link rel="preconnect" href="https://x.example">'
        '<script src="https://cdn.example.com/lib.js"></script><script src="local.js"></script>'
        '<img src="//images.example.net/a.png" srcset="https://cdn2.example.net/b.png 2x">'
        "<iframe src='https://www.youtube.com/embed/x'></iframe>"
        '<video src="https://media.example.org/v.mp4" poster="https://img.example.org/p.jpg">'
    )
    found = hosting.loaded_sources(page)
    assert found == {
        "style-src": {"https://fonts.googleapis.com"},
        "script-src": {"https://cdn.example.com"},
        "img-src": {
            "https://images.example.net",
            "https://cdn2.example.net",
            "https://img.example.org",
        },
        "frame-src": {"https://www.youtube.com"},
        "media-src": {"https://media.example.org"},
    }
    sources: dict[str, set[str]] = {}
    hosting.widen(sources, found)
    assert sources["font-src"] == {"https://fonts.gstatic.com", "https://cdn.example.com"}
    policy = hosting.HostPolicy(sources=sources).csp()
    assert "img-src 'self' data: blob: https://cdn2.example.net" in policy
    assert "frame-src https://www.youtube.com" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]


def test_the_owners_sources_are_checked() -> None:
    assert hosting.check_source("img-src", "https://images.example.com") is None
    assert hosting.check_source("img-src", "cdn.example.com") is None
    assert "script-src" in (hosting.check_source("script-src", "'unsafe-inline'") or "")
    assert "not a directive" in (hosting.check_source("fonts", "x.example") or "")
    assert "not a source" in (hosting.check_source("img-src", "https://a b") or "")
