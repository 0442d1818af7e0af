"""An engine that reads mkdocs.yml but runs no MkDocs plugin (Zensical) cannot publish
members' pages: the site's own Markdown extension (`generator.checklists`) stops every
page it would render, so the build fails and writes no page."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import markdown
import pytest

from generator import checklists
from generator.content import checklists as core

from ..conftest import ROOT, copy_project
from ..protection.test_attacks import every_text, protected_sentences

ZENSICAL = shutil.which("zensical", path=str(Path(sys.executable).parent)) or shutil.which(
    "zensical"
)


def test_the_sites_extension_renders_only_under_the_memberkit_plugin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(core._plugin, "running", False)
    with pytest.raises(checklists.PluginMissing, match="would publish members' pages"):
        markdown.markdown("- [ ] Call two references", extensions=["generator.checklists"])
    core.plugin_started()
    rendered = markdown.markdown(
        "- [ ] Call two references", extensions=["pymdownx.tasklist", "generator.checklists"]
    )
    assert 'aria-label="Call two references"' in rendered


@pytest.mark.skipif(
    ZENSICAL is None and os.environ.get("CI") != "true",
    reason="zensical is not installed (pip install -e '.[test]' installs it)",
)
@pytest.mark.parametrize("strict", ["true", "false"])
def test_zensical_builds_no_members_page(tmp_path: Path, strict: str) -> None:
    assert ZENSICAL is not None, "zensical is not installed"
    project = copy_project(tmp_path / "project")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace("strict: true", f"strict: {strict}"))
    run = subprocess.run(
        [ZENSICAL, "build"], cwd=project, capture_output=True, text=True, timeout=600
    )
    assert run.returncode != 0
    assert "would publish members' pages in plaintext" in run.stderr
    site = project / "site"
    written = every_text(site) if site.exists() else ""
    for sentence in protected_sentences(ROOT / "docs/guides/task-briefs.md"):
        assert sentence not in written
    assert not (site / "guides" / "task-briefs" / "index.html").exists()
