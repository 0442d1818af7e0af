"""ProperDocs, the maintained fork of MkDocs 1.x, builds a memberkit site with its own
command line (`properdocs build`): it finds the plugin by its `mkdocs.plugins` entry
point and runs it with Material, so the members' pages and files are sealed, the
keystore is written and the leak check runs. A member opens every sealed file with
their password, and nothing protected can be read without it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.protection import mk1

from ..conftest import (
    ISOLATED,
    MEMBER,
    OTHER,
    ROOT,
    copy_project,
    keystore_entry,
    member_view,
    run_memberkit,
)
from ..protection.test_attacks import GUIDES, every_text, protected_sentences
from .test_material_sites import MEMBERS_PAGES, PROTECTED_ONLY, opened, rich_project

PROPERDOCS = shutil.which("properdocs", path=str(Path(sys.executable).parent)) or shutil.which(
    "properdocs"
)

pytestmark = pytest.mark.skipif(
    PROPERDOCS is None and os.environ.get("CI") != "true",
    reason="properdocs is not installed (pip install -e '.[test]' installs it)",
)

TEMPLATES = sorted((ROOT / "templates").glob("*.md"))


def properdocs_build(project: Path) -> subprocess.CompletedProcess[str]:
    """`properdocs build` in the project, as an owner runs it, with no state of theirs."""
    assert PROPERDOCS is not None, "properdocs is not installed"
    return subprocess.run(
        [PROPERDOCS, "build"],
        cwd=project,
        env={k: v for k, v in os.environ.items() if k not in ISOLATED},
        capture_output=True,
        text=True,
        timeout=600,
    )


def built(project: Path) -> Path:
    """The project built by ProperDocs, which must succeed without a warning."""
    run = properdocs_build(project)
    assert run.returncode == 0, run.stderr[-4000:]
    warnings = [line for line in run.stderr.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert not warnings, run.stderr
    site = project / "site"
    # Material names the engine in each page (minified or not); MkDocs says "mkdocs-1.6.1".
    home = (site / "index.html").read_text()
    generator = re.search(r'<meta name="?generator"? content="([^"]+)"', home)
    assert generator and "ProperDocs 1.6" in generator.group(1), "not built by ProperDocs"
    return site


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled content with its members, built once by ProperDocs."""
    project = copy_project(tmp_path_factory.mktemp("properdocs") / "bundled")
    built(project)
    return project


@pytest.fixture(scope="module")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rich Material site (blog, minify, custom_dir), built once by ProperDocs."""
    project = rich_project(tmp_path_factory.mktemp("properdocs"))
    built(project)
    return project


def sealed_pages(site: Path) -> dict[str, bytes]:
    """Every page's envelope, by the page's address."""
    pages = {}
    for page in sorted(site.rglob("index.html")):
        found = re.findall(r'data-mk1="?([A-Za-z0-9_-]{40,})', page.read_text("utf-8"))
        if found:
            assert len(found) == 1, f"{page}: {len(found)} envelopes"
            pages[page.parent.relative_to(site).as_posix() + "/"] = mk1.unb64url(found[0])
    return pages


def members_keys(site: Path, email: str, password: str) -> dict[str, tuple[int, bytes]]:
    """The tier keys a member's browser holds after signing in with their password."""
    entry = keystore_entry(site, email, password)
    assert entry is not None, f"{email} finds no entry in the keystore"
    held: dict[str, dict[str, str]] = entry["keys"]  # type: ignore[assignment]
    return {tier: (int(key["v"]), mk1.unb64url(key["k"])) for tier, key in held.items()}


def test_properdocs_builds_the_bundled_site_as_memberkit_does(
    bundled: Path, bundled_site: Path
) -> None:
    site = bundled / "site"
    pages = sealed_pages(site)
    expected = {f"guides/{p.stem}/" for p in GUIDES} | {f"templates/{p.stem}/" for p in TEMPLATES}
    assert set(pages) == expected
    assert (site / "mk1" / "keystore.json").is_file()
    assert len(list((site / "mk1" / "keys").glob("*.json"))) == 16
    assert list(site.rglob("*.mk1")), "no sealed file was written"

    def files(folder: Path) -> set[str]:
        return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}

    # The same files as `memberkit build` writes from the same sources.
    assert files(site) == files(bundled_site)


def test_nothing_protected_is_readable_in_the_bundled_site_properdocs_built(
    bundled: Path,
) -> None:
    site = bundled / "site"
    everything = every_text(site)
    for guide in GUIDES:
        sentences = protected_sentences(guide)
        assert len(sentences) >= 4
        for sentence in sentences:
            words = re.findall(r"[A-Za-z0-9']+", sentence)[:8]
            pattern = r"\W+".join(map(re.escape, words))
            assert not re.search(pattern, everything), f"{sentence!r} is readable in the site"
    assert "Estimating time" not in (site / "search/search_index.json").read_text("utf-8")
    for member in (MEMBER, OTHER):
        assert member.email not in everything.lower()
        assert member.name.lower() not in everything.lower()
    check = run_memberkit("check", cwd=bundled)
    assert check.returncode == 0, check.stderr


def test_a_member_opens_every_sealed_page_and_file_with_their_password(bundled: Path) -> None:
    site = bundled / "site"
    identity = json.loads((site / "mk1" / "keystore.json").read_text())["site"]
    assert keystore_entry(site, MEMBER.email, MEMBER.password + "x") is None
    keys = members_keys(site, MEMBER.email, MEMBER.password)
    pages = sealed_pages(site)
    for url, envelope in pages.items():
        _, plain = mk1.open_envelope(envelope, keys, site=identity, path=url)
        assert json.loads(plain)["content"], url
    for sealed in site.rglob("*.mk1"):
        path = sealed.relative_to(site).as_posix().removesuffix(".mk1")
        _, plain = mk1.open_envelope(sealed.read_bytes(), keys, site=identity, path=path)
        assert plain, path
    _, plain = mk1.open_envelope(
        (site / "search/members.json.mk1").read_bytes(),
        keys,
        site=identity,
        path="search/members.json",
    )
    assert any(doc["title"] == "Estimating time" for doc in json.loads(plain)["docs"])
    page = member_view(bundled, "guides/task-briefs/")
    assert "Estimating time" in page and "Task brief checklist" in page


def test_properdocs_seals_every_page_of_a_rich_material_site_but_its_home(rich: Path) -> None:
    site = rich / "site"
    pages = sealed_pages(site)
    assert "./" not in pages and set(MEMBERS_PAGES) <= set(pages)
    for url, heading in MEMBERS_PAGES.items():
        assert heading in opened(rich, url)["content"], url
    everything = every_text(site)
    for text in PROTECTED_ONLY:
        assert text not in everything, text
    check = run_memberkit("check", cwd=rich)
    assert check.returncode == 0, check.stderr
    # A member's password opens the pages, through the keystore ProperDocs wrote.
    identity = json.loads((site / "mk1" / "keystore.json").read_text())["site"]
    keys = members_keys(site, OTHER.email, OTHER.password)
    _, plain = mk1.open_envelope(pages["second/"], keys, site=identity, path="second/")
    assert "Monday: Ana" in json.loads(plain)["content"]


def test_a_properdocs_build_that_leaks_fails_and_leaves_no_site(tmp_path: Path) -> None:
    """The plugin's own leak check runs under ProperDocs: a hook of the owner's that
    copies members' text into the site fails the build, and the site is removed."""
    project = rich_project(tmp_path)
    (project / "leaky.py").write_text(
        "from pathlib import Path\n\n"
        "def on_post_build(config):\n"
        "    notes = Path(config.site_dir) / 'notes.html'\n"
        "    notes.write_text('<h2>Escalation ladder</h2><p>Worker, then lead, then owner.</p>')\n"
    )
    config = project / "mkdocs.yml"
    config.write_text(config.read_text() + "hooks:\n  - leaky.py\n")
    run = properdocs_build(project)
    assert run.returncode != 0
    assert not (project / "site").exists(), "the leaking site was left in place"
    report = (project / ".cache/memberkit/leak-report.txt").read_text()
    assert "notes.html" in report and "Escalation ladder" in report
