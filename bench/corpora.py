"""The benchmark's corpora: generated sites of N guide pages and the bundled site, the
same pages for each contender, and memberkit's private state with its members.

Imported by `benchmarks.py`, which puts this checkout first on `sys.path`: `generator`
is this checkout's, not a copy installed elsewhere.
"""

from __future__ import annotations

import random
import re
import secrets
import shutil
import textwrap
from pathlib import Path

import yaml

from generator.documents.library import DocumentLibrary
from generator.members import state as private
from generator.members import store
from generator.protection import mk1

ROOT = Path(__file__).resolve().parent.parent  # the checkout: its bundled site and README
CONTENDERS = ("plain", "memberkit", "encryptcontent")
EMAIL, PASSWORD = "reader@example.com", "a long measuring phrase 9"
PAGES_PER_SECTION = 50


def vocabulary() -> list[str]:
    """The distinct words of the bundled guides: the generated pages are drawn from
    them, so that they read (and compress, and shingle) like prose, not like a text
    that repeats a few words."""
    text = " ".join(page.read_text() for page in sorted((ROOT / "docs").rglob("*.md")))
    return sorted(set(re.findall(r"[A-Za-z]{2,}", text)))


def page_text(number: int, meta: str, words: list[str]) -> str:
    """Page `number`: six sections of three paragraphs of about 60 words, in sentences
    of 6 to 18 words, the same for every contender (seeded by the number)."""
    draw = random.Random(number)
    body = []
    for section in range(6):
        body.append(f"## Section {section} of page {number}\n")
        for _ in range(3):
            sentences, length = [], 0
            while length < 60:
                count = draw.randint(6, 18)
                sentences.append(" ".join(draw.choices(words, k=count)).capitalize() + ".")
                length += count
            body.append(" ".join(sentences) + "\n")
    return (
        f"---\ntitle: Page {number}\ndescription: Synthetic page {number}.\n{meta}---\n\n"
        f"# Page {number}\n\nThe teaser of page {number}.\n\n<!-- more -->\n\n" + "\n".join(body)
    )


def synthetic_page(number: int) -> str:
    """Where page N lands: guides in sections of 50, as a large site would be organised."""
    return f"guides/s{number // PAGES_PER_SECTION:02d}/p{number:04d}/"


def write_corpus(docs: Path, pages: int, meta: str = "") -> None:
    docs.mkdir(parents=True)
    (docs / "index.md").write_text("# Home\n\nA synthetic members' site.\n")
    words = vocabulary()
    for number in range(pages):
        target = docs / (synthetic_page(number).rstrip("/") + ".md")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page_text(number, meta, words))


def synthetic_config(plugins: str, port: int) -> str:
    # navigation.prune: each page carries only its own part of the navigation; without
    # it Material writes the whole nav into every page and any build grows quadratically.
    # site_url: instant navigation takes over only links its sitemap lists (with the port).
    return (
        f"site_name: Synthetic\nsite_url: http://127.0.0.1:{port}/\n"
        "theme:\n  name: material\n  font: false\n  features:\n"
        "    - navigation.instant\n    - navigation.prune\n"
        f"plugins:\n  - search\n{plugins}"
    )


MEMBERKIT_PLUGIN = (
    "  - memberkit:\n      access:\n        guides/: members\n"
    # No join page in the synthetic corpus: the join links lead to a checkout.
    "      join_url: https://example.com/checkout\n"
)
ENCRYPTCONTENT_PLUGIN = (
    f"  - encryptcontent:\n      password_inventory:\n        members: '{PASSWORD}'\n"
)


def make_state(project: Path, members: int = 1, iterations: int = 600_000) -> None:
    """The bench member (a real PBKDF2 at `iterations`) and `members - 1` others.

    The others get random lookups and keys, as members added earlier would have: the
    build never runs PBKDF2, so how their keys were made does not change its work.
    """
    current = private.State.new(iterations)
    current.ensure_tiers(["members"])
    current.add(EMAIL, PASSWORD, name="Bench Member", tiers=["members"], expires=None)
    add_members(current, members - 1)
    shutil.rmtree(project / store.STATE_DIR, ignore_errors=True)
    store.save(current, project / store.STATE_DIR)


def add_members(state: private.State, count: int) -> None:
    """`count` members with random lookups and keys, as members added earlier would have."""
    for number in range(count):
        email = f"member{number}@example.com"
        state.members[email] = private.Member(
            email=email,
            name=f"Member {number}",
            tiers=["members"],
            expires=None,
            lookup=secrets.token_hex(16),
            kek=mk1.b64url(secrets.token_bytes(32)),
        )


def synthetic(workdir: Path, pages: int, ports: dict[str, int]) -> dict[str, Path]:
    """The same generated pages for each contender, every guide protected."""
    projects = {}
    for name, plugins, meta in (
        ("plain", "", ""),
        ("memberkit", MEMBERKIT_PLUGIN, ""),
        ("encryptcontent", ENCRYPTCONTENT_PLUGIN, "level: members\n"),
    ):
        project = workdir / f"{name}-{pages}"
        write_corpus(project / "docs", pages, meta)
        (project / "mkdocs.yml").write_text(synthetic_config(plugins, ports[name]))
        if name == "memberkit":
            make_state(project)
        projects[name] = project
    return projects


def add_meta(page: Path, line: str) -> None:
    text = page.read_text()
    if text.startswith("---\n"):
        page.write_text("---\n" + line + "\n" + text[4:])
    else:
        page.write_text(f"---\n{line}\n---\n\n{text}")


def bundled(workdir: Path) -> dict[str, Path]:
    """The bundled site. Plain MkDocs gets the same pages: the template pages memberkit
    generates are written out as Markdown, with the memberkit plugin turned off."""
    projects = {}
    for name in CONTENDERS:
        project = workdir / f"{name}-bundled"
        project.mkdir()
        for part in ("mkdocs.yml", "docs", "snippets", "templates", "overrides"):
            source = ROOT / part
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, project / part)
        projects[name] = project
        if name == "memberkit":
            make_state(project)
            continue
        library, _ = DocumentLibrary.load(project / "templates", ["members"])
        for src_uri, markdown in library.pages(sealed=False).items():
            (project / "docs" / src_uri).parent.mkdir(parents=True, exist_ok=True)
            (project / "docs" / src_uri).write_text(markdown)
        config = project / "mkdocs.yml"
        text = config.read_text().replace(
            "  - memberkit:\n", "  - memberkit:\n      enabled: false\n"
        )
        # The library's section of the navigation, as memberkit makes it.
        section = yaml.safe_dump([{"Templates": library.nav()}], sort_keys=False)
        text = text.replace(
            "  - Templates: templates/index.md\n", textwrap.indent(section, "  "), 1
        )
        text += "exclude_docs: |\n  !/templates/\n"  # MkDocs leaves docs/templates/ out
        if name == "encryptcontent":
            text = text.replace("  - search\n", "  - search\n" + ENCRYPTCONTENT_PLUGIN, 1)
            # What memberkit protects: the guides and the template pages, not their indexes.
            protected = [
                *(project / "docs" / "guides").glob("*.md"),
                *(project / "docs" / "templates").glob("*.md"),
            ]
            for page in protected:
                if page.name != "index.md":
                    add_meta(page, "level: members")
        config.write_text(text)
    return projects
