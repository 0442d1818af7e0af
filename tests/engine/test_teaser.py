"""A members' page whose teaser cites footnotes: a visitor reads them with the teaser,
the build says which it took from below the divider, nothing else of the members' part
is published, and a member reads the page as the plain build shows it, with one list of
footnotes numbered as there.

The guide numbers its footnotes differently whole and in its teaser alone: by their
definitions' order (Python-Markdown's default), the teaser's first citation is the
page's third footnote; by the order of the citations, the teaser's own is second.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ..conftest import member_view, run_memberkit, write_state
from ..protection.test_attacks import every_text

CONFIG = """\
site_name: Notes
site_url: https://notes.example.com/
theme:
  name: material
markdown_extensions:
  - abbr
  - footnotes{options}
plugins:
  - search
  - memberkit:
      access:
        guides/: members
"""

GUIDE = """\
# Field notes

The teaser cites the survey[^survey], the [rate card][rates] and a rule of its own[^own].

[^own]: A rule written in the teaser.

<!-- more -->

Members read the rest, with a note of their own[^members] and the survey again[^survey].

[^members]: Only members read the walrus ledger note.

[^survey]: The survey of four hundred owners, shown with the teaser.

    Its second paragraph, with the [method][how], shown too.

[^unused]: A quokka note nobody cites.

[rates]: https://rates.example.org/card "The rate card"
[how]: https://rates.example.org/method
[secret]: https://rates.example.org/walrus-k7q
"""
#: Below the divider and used by nothing the teaser shows: never published.
MEMBERS_ONLY = ["walrus ledger", "quokka note", "walrus-k7q", "Members read the rest"]
ORDERS = {"definitions": "", "citations": ":\n      USE_DEFINITION_ORDER: false"}


def _project(tmp_path: Path, name: str, options: str, *, memberkit: bool = True) -> Path:
    project = tmp_path / name
    (project / "docs" / "guides").mkdir(parents=True)
    config = CONFIG.format(options=options)
    if not memberkit:
        config = config.replace("  - memberkit:\n", "  - memberkit:\n      enabled: false\n")
    (project / "mkdocs.yml").write_text(config)
    (project / "docs" / "index.md").write_text("# Home\n\nRead the [notes](guides/notes.md).\n")
    (project / "docs" / "guides" / "notes.md").write_text(GUIDE)
    write_state(project)
    return project


def _article(page: str) -> str:
    """A page's article from its title, as a reader sees it: without the divider, the
    join box (hidden from members) and the spaces between tags."""
    body = page[page.index("<h1") :]
    body = body[
        : min(i for i in (body.find('<aside class="mk1-join"'), body.find("</article>")) if i > 0)
    ]
    body = re.sub(r"<!--\s*more\s*-->", "", body)
    return re.sub(r">\s+<", "><", body).strip()


def _teaser(page: str) -> str:
    start = page.index("<h1")
    return page[start : page.index('<div class="mk1-locked"', start)]


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_a_teasers_footnotes_are_shown_and_a_member_reads_the_plain_page(
    tmp_path: Path, order: str
) -> None:
    project = _project(tmp_path, "protected", ORDERS[order])
    result = run_memberkit("build", "-v", cwd=project)
    assert result.returncode == 0, result.stderr
    plain = _project(tmp_path, "plain", ORDERS[order], memberkit=False)
    assert run_memberkit("build", cwd=plain).returncode == 0
    plain_page = (plain / "site/guides/notes/index.html").read_text()

    # The owner is told what the teaser took from below the divider.
    note = next(
        line for line in result.stderr.splitlines() if "guides/notes.md: the teaser" in line
    )
    assert "3 definition(s) from below the divider" in note, note
    assert "[^survey]: The survey of four hundred owners" in note
    assert "[rates]: https://rates.example.org/card" in note
    assert "[how]: https://rates.example.org/method" in note

    # A visitor reads the teaser whole: its citations as the whole page numbers them,
    # and the footnotes they lead to.
    page = (project / "site/guides/notes/index.html").read_text()
    teaser = _teaser(page)
    assert "[^" not in teaser and "[rate card]" not in teaser
    assert "The survey of four hundred owners" in teaser and "Its second paragraph" in teaser
    assert "A rule written in the teaser." in teaser
    assert '<a href="https://rates.example.org/method">method</a>' in teaser
    citations = re.findall(r'<sup id="fnref:\w+">.*?</sup>', teaser)
    assert len(citations) == 2
    for citation in citations:
        assert citation in plain_page
    assert len(re.findall(r'<li id="fn:', teaser)) == 2

    # Nothing else of the members' part is anywhere in the site.
    everything = every_text(project / "site")
    for text in MEMBERS_ONLY:
        assert text not in everything, text

    # A member reads the page as the plain build shows it: one list of footnotes.
    member = _article(member_view(project, "guides/notes/"))
    assert member == _article(plain_page)
    assert member.count('class="footnote"') == 1
