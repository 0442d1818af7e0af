"""The files a build adds to the owner's: a page per document template, the library
page, the sign-in page, the sealed downloads and the browser code.

`add_files` is the plugin's `on_files`: it returns the files copied as they are from
public sources (the theme, the owner's `custom_dir`, the static files of docs/, the
browser code), which the leak check does not read: what the owner publishes as it is
is public. What the build makes from the pages and templates, it reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files, InclusionLevel

from generator.documents import downloads
from generator.documents.library import PAGES, DocumentLibrary, page_path
from generator.engine.discovery import Discovery, generated_sources
from generator.errors import MemberkitError
from generator.protection import envelopes
from generator.publish.browsercode import BrowserCode

#: The package's own files (assets, theme partials): a folder, as pip installs it.
PACKAGE_DIR = Path(__file__).parents[1]
#: The browser code and the stylesheet, shipped in the package.
ASSETS_DIR = PACKAGE_DIR / "assets" / "memberkit"
LOGIN_PAGE = "login.md"
LOGIN_SOURCE = """---
title: Sign in
description: Sign in to read the members' guides and templates.
access: public
hide: [navigation, toc]
---

# Sign in

<div data-mk1-signin></div>

<div data-mk1-join></div>
"""


class DownloadFile(File):
    """A file offered for download, never a page, whatever its extension (`.md` too)."""

    def is_documentation_page(self) -> bool:
        return False


def add_files(
    files: Files,
    config: Any,
    *,
    library: DocumentLibrary,
    sealer: envelopes.Sealer,
    templates_dir: str,
    found: Discovery,
    assets_url: str,
    code: BrowserCode,
) -> set[str]:
    """Add the generated pages, the downloads and the browser code to `files`; return
    the destinations of the files published as they are. Raises `MemberkitError` when a
    file of docs/ stands where a generated one goes."""
    public = {
        f.dest_uri
        for f in files
        if f.abs_src_path and not f.generated_by and not f.is_documentation_page()
    }
    pages = list(library.pages(sealed=True).items())
    if files.get_file_from_path(LOGIN_PAGE) is None:
        pages.append((LOGIN_PAGE, LOGIN_SOURCE))

    def seal(download: downloads.Download) -> bytes:
        return sealer.seal_file(download.tier, download.path, download.content, download.mime)

    published = downloads.publish(library.downloads(), seal)
    for kind, items in ((File, pages), (DownloadFile, published)):
        for src_uri, content in items:
            if files.get_file_from_path(src_uri) is not None:
                raise MemberkitError(
                    f"docs/{src_uri} is generated from {templates_dir}/; "
                    "remove or rename the file in docs/"
                )
            # INCLUDED: MkDocs leaves docs/templates/ out by default (theme overrides).
            inclusion = InclusionLevel.INCLUDED
            if src_uri == LOGIN_PAGE:
                inclusion = InclusionLevel.NOT_IN_NAV
            files.append(kind.generated(config, src_uri, content=content, inclusion=inclusion))
    config_file = Path(config.config_file_path or "mkdocs.yml")
    folder = (config_file.parent / templates_dir).parent
    templates = [(page_path(t), folder / t.source) for t in library.templates]
    found.add_files(
        files, generated_sources(config_file, templates, f"{PAGES}/index.md", LOGIN_PAGE)
    )
    # Shipped code, like the theme's: nothing of the owner's is in it. Pages load the
    # files named by their content; the modules stay beside them, for the ones loaded
    # on demand (the Word and Excel writers) and for the owner's own scripts.
    for source in sorted(ASSETS_DIR.iterdir()):
        name = f"{assets_url}/{source.name}"
        files.append(File.generated(config, name, abs_src_path=str(source)))
        public.add(name)
    for file_name, content in code.files.items():
        name = f"{assets_url}/{file_name}"
        files.append(File.generated(config, name, content=content))
        public.add(name)
    return public
