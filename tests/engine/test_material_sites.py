"""A real, rich Material site (tests/sites/rich) made members-only but for its home page.

Every kind of component, a blog whose post shows the divider in code, a custom_dir,
static files, and `minify` before or after memberkit: the site builds with no false
alarm and no leak, whatever the plugin order.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from generator.members import store
from generator.protection import mk1

from ..conftest import ROOT, run_memberkit, tier_keys, write_state
from ..protection.test_attacks import every_text

RICH = ROOT / "tests" / "sites" / "rich"
MEMBERS_PAGES = {
    "components/": "Code with annotations",
    "second/": "The team rota",
    "third/": "Escalation ladder",
    "blog/2026/11/20/how-we-write-teasers/": "What members read in this post",
}
#: Written only below a divider, in code, tables, footnotes, tabs: never in the site.
PROTECTED_ONLY = [
    "Monday: Ana",
    "A footnote only members read",
    "Ana leads",
    "Worker, then lead, then owner",
    "inline script ran",
    # Definitions only the members' part uses (the teaser's own are public: it shows them).
    "rota.example.com",
    "Staff rota for members",
    "Objectives Known Reservedly",
]


def rich_project(tmp_path: Path, *, minify: str = "before") -> Path:
    project = tmp_path / "rich"
    shutil.copytree(RICH, project)
    write_state(project)
    if minify == "after":
        config = project / "mkdocs.yml"
        text = config.read_text()
        block = "  - minify:\n      minify_html: true\n"
        assert block in text
        text = text.replace(block, "").replace(
            "        /: members\n", "        /: members\n" + block
        )
        config.write_text(text)
    return project


def opened(project: Path, url: str) -> dict[str, str]:
    """The sealed part of a built page, opened with the tier key."""
    site, keys = tier_keys(project)
    page = (project / "site" / url / "index.html").read_text()
    found = re.findall(r'data-mk1="?([A-Za-z0-9_-]{40,})', page)
    assert len(found) == 1, f"{url}: {len(found)} envelopes"
    _, plain = mk1.open_envelope(mk1.unb64url(found[0]), keys, site=site, path=url)
    return dict(json.loads(plain))


@pytest.mark.parametrize("minify", ["before", "after"])
def test_every_page_but_home_is_sealed_whatever_the_plugin_order(
    tmp_path: Path, minify: str
) -> None:
    project = rich_project(tmp_path, minify=minify)
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "warning" not in result.stderr.lower()
    site = project / "site"
    assert not re.search(r"data-mk1=\"?[A-Za-z0-9_-]{40}", (site / "index.html").read_text())
    for url, heading in MEMBERS_PAGES.items():
        assert heading in opened(project, url)["content"], url
    everything = every_text(site)
    for text in PROTECTED_ONLY:
        assert text not in everything, text
    # The minifier did its work on the pages, the envelopes included.
    assert re.search(r"data-mk1=[A-Za-z0-9]", (site / "second/index.html").read_text())


def test_a_plugin_that_drops_the_envelope_stops_the_build(tmp_path: Path) -> None:
    project = rich_project(tmp_path)
    (project / "hooks.py").write_text(
        "import re\n\n"
        "def on_post_page(output, page, config):\n"
        "    return re.sub(r'data-mk1=\"?[A-Za-z0-9_-]+\"?', '', output)\n"
    )
    config = project / "mkdocs.yml"
    config.write_text(config.read_text() + "hooks:\n  - hooks.py\n")
    result = run_memberkit("build", cwd=project)
    assert result.returncode != 0
    assert "did not reach the written page" in result.stderr
    assert re.search(r"(components|second|third)\.md", result.stderr), result.stderr


def test_a_teaser_shows_what_it_uses_from_below_its_divider_and_says_so(tmp_path: Path) -> None:
    """A reference link, an abbreviation and a footnote in the teaser, defined below the
    divider: the teaser shows them whole (what it displays is public, the link's
    address too) and the build names each definition it took; [TOC] lists no heading
    from below."""
    project = rich_project(tmp_path)
    result = run_memberkit("build", "-v", cwd=project)
    assert result.returncode == 0, result.stderr
    note = next(line for line in result.stderr.splitlines() if "components.md: the teaser" in line)
    assert "3 definition(s) from below the divider" in note
    assert "[pricing]: https://pricing.example.com/secret-rates" in note
    assert "*[HTML]: Hidden Teammate Markup Language" in note
    assert "[^rule]: The handbook's rule, cited by the teaser. Its second paragraph" in note
    page = (project / "site/components/index.html").read_text()
    teaser = page[page.index("<article") : page.index("mk1-locked", page.index("<article"))]
    assert re.search(r'<a href="?https://pricing\.example\.com/secret-rates', teaser)  # minified
    assert "[pricing sheet][pricing]" not in teaser
    assert '<abbr title="Hidden Teammate Markup Language">HTML</abbr>' in teaser
    assert "A footnote only members read." not in teaser
    assert "[^rule]" not in teaser and "Its second paragraph, shown with it." in teaser
    assert 'href="#code-with-annotations"' not in teaser and "#tabs" not in teaser
    index = (project / "site/search/search_index.json").read_text()
    assert "Code with annotations" not in index and "code-with-annotations" not in index
    # The members' part has everything, as the plain build shows it.
    content = opened(project, "components/")["content"]
    assert "https://pricing.example.com/secret-rates" in content
    assert "A footnote only members read." in content


def test_a_divider_shown_in_code_is_content_not_a_divider(tmp_path: Path) -> None:
    project = rich_project(tmp_path)
    assert run_memberkit("build", cwd=project).returncode == 0
    url = "blog/2026/11/20/how-we-write-teasers/"
    page = (project / "site" / url / "index.html").read_text()
    start = page.index("<article")
    teaser = html.unescape(page[start : page.index("mk1-locked", start)])
    assert "<!-- more -->" in teaser and "The part everyone reads." in teaser
    assert "quarterly bonus pool" in opened(project, url)["content"]


def test_links_to_protected_anchors_resolve_without_a_warning(tmp_path: Path) -> None:
    """The blog's related links and a public page link to a members' section; the
    anchor works, its heading is not published."""
    project = rich_project(tmp_path)
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0 and "anchor" not in result.stderr, result.stderr
    post = (project / "site/blog/2026/11/25/a-related-post/index.html").read_text()
    assert "second/#the-team-rota" in post
    assert "The team rota" not in post
    assert "The team rota" not in (project / "site/search/search_index.json").read_text()


def test_the_policy_allows_what_the_site_loads_and_nothing_else(tmp_path: Path) -> None:
    project = rich_project(tmp_path)
    members = project / "docs" / "third.md"
    members.write_text(
        members.read_text()
        + '\n<img src="https://images.example.net/ladder.png" alt="The ladder drawn">\n'
        + "<script>document.body.dataset.late = 'ran';</script>\n"
    )
    config = project / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "        /: members\n",
            "        /: members\n      csp_sources:\n        connect-src: [https://api.example.org]\n"
            "      csp_forbid: [fonts.gstatic.com]\n",
        )
    )
    result = run_memberkit("build", cwd=project)
    assert result.returncode == 0, result.stderr
    assert "https://images.example.net" in result.stderr  # the hosts are named
    assert "csp_forbid" in result.stderr and "fonts.gstatic.com" in result.stderr
    late = (
        "'sha256-"
        + __import__("base64")
        .b64encode(__import__("hashlib").sha256(b"document.body.dataset.late = 'ran';").digest())
        .decode()
        + "'"
    )
    for page in ("index.html", "components/index.html", "404.html"):
        text = (project / "site" / page).read_text()
        policy = html.unescape(
            re.search(r'Content-Security-Policy" content="([^"]+)"', text).group(1)
        )
        directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
        assert "https://fonts.googleapis.com" in directives["style-src"], page
        assert "https://images.example.net" in directives["img-src"], page
        assert "https://api.example.org" in directives["connect-src"], page
        assert "'unsafe-inline'" not in directives["script-src"], page
        # A members' part's inline script may run on any page instant navigation reaches.
        assert late in directives["script-src"], page
        assert "https://fonts.gstatic.com" not in policy, page
    headers = (project / "site/_headers").read_text()
    assert "https://images.example.net" in headers and late in headers


def test_unsafe_inline_scripts_cannot_be_allowed(tmp_path: Path) -> None:
    project = rich_project(tmp_path)
    config = project / "mkdocs.yml"
    config.write_text(
        config.read_text().replace(
            "        /: members\n",
            "        /: members\n      csp_sources:\n        script-src: [\"'unsafe-inline'\"]\n",
        )
    )
    result = run_memberkit("build", cwd=project)
    assert result.returncode != 0
    assert "csp_sources" in result.stderr and "script-src" in result.stderr


def test_a_key_written_twice_stops_the_build_naming_file_and_line(tmp_path: Path) -> None:
    project = rich_project(tmp_path)
    page = project / "docs" / "index.md"
    page.write_text(
        page.read_text().replace("access: public\n", "access: public\naccess: members\n", 1)
    )
    result = run_memberkit("build", cwd=project)
    assert result.returncode != 0
    assert "docs/index.md:3" in result.stderr and "'access' twice" in result.stderr


def test_plain_mkdocs_build_leaves_no_leaking_site_and_reports_every_finding(
    tmp_path: Path,
) -> None:
    import subprocess
    import sys

    project = rich_project(tmp_path)
    # A plugin of the owner's copies members' text into two public places.
    (project / "hooks.py").write_text(
        "def on_post_build(config):\n"
        "    from pathlib import Path\n"
        "    site = Path(config.site_dir)\n"
        "    (site / 'a.html').write_text('<p>Monday: Ana</p><h2>The team rota</h2>')\n"
        "    (site / 'b.txt').write_text('The rest of it: worker, then lead, then owner. "
        "Ana leads in week one, every single time.')\n"
    )
    config = project / "mkdocs.yml"
    config.write_text(config.read_text() + "hooks:\n  - hooks.py\n")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode != 0
    assert not (project / "site").exists(), "the leaking site was left in place"
    report = (project / ".cache/memberkit/leak-report.txt").read_text()
    assert "a.html\n" in report and "protected heading 'The team rota'" in report
    assert "private" not in report
    assert str(project / ".cache/memberkit/leak-report.txt") in result.stderr


def test_the_whole_site_members_only_but_the_home_page(tmp_path: Path) -> None:
    project = rich_project(tmp_path)
    assert run_memberkit("build", cwd=project).returncode == 0
    state = store.load(project / store.STATE_DIR)
    assert state.site
    sealed = {
        str(p.parent.relative_to(project / "site"))
        for p in (project / "site").rglob("index.html")
        if re.search(r'data-mk1="?[A-Za-z0-9_-]{40}', p.read_text())
    }
    assert {"components", "second", "third", "blog/2026/11/20/how-we-write-teasers"} <= sealed
    # The blog's index holds only its title: nothing to seal, no sign-in of its own.
    assert "blog" not in sealed
    assert "." not in sealed and "login" not in sealed
