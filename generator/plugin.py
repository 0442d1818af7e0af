"""The MkDocs adapter: thin hooks that hand the work to the core modules."""

from __future__ import annotations

import html
import os
from importlib import resources
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from . import access, downloads
from .config import MemberkitConfig
from .documents.library import PAGES, WIDGET_MARK, DocumentLibrary
from .errors import MemberkitError

log = get_plugin_logger("memberkit")

#: Write `[Join](memberkit:join)` anywhere, snippets included, to link to the join URL.
JOIN_LINK = 'href="memberkit:join"'
#: The browser module and its stylesheet, shipped in the package, served by the site.
ASSETS = ("memberkit.js", "memberkit.css")
ASSETS_URL = "assets/memberkit"


class DownloadFile(File):
    """A file offered for download, never a page, whatever its extension (`.md` too)."""

    def is_documentation_page(self) -> bool:
        return False


class MemberkitPlugin(BasePlugin[MemberkitConfig]):
    supports_multiple_instances = False

    def __init__(self) -> None:
        self.tiers: tuple[str, ...] = ()
        self.pages: dict[str, access.PageAccess] = {}
        self.library = DocumentLibrary([], ())

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return None
        try:
            self.tiers = access.validate_tiers(self.config.tiers)
            for folder, tier in self.config.access.items():
                if tier != access.PUBLIC and tier not in self.tiers:
                    raise MemberkitError(
                        f"plugins.memberkit.access gives folder {folder!r} the unknown tier "
                        f"{tier!r}; use 'public' or one of: {', '.join(self.tiers)}",
                        path="mkdocs.yml",
                    )
            if self.config.templates_access not in (access.PUBLIC, *self.tiers):
                raise MemberkitError(
                    f"plugins.memberkit.templates_access is {self.config.templates_access!r}; "
                    f"use 'public' or one of: {', '.join(self.tiers)}",
                    path="mkdocs.yml",
                )
            root = Path(config.config_file_path or ".").parent
            self.library, warnings = DocumentLibrary.load(
                root / self.config.templates_dir, self.tiers, self.config.templates_access
            )
        except MemberkitError as error:
            raise PluginError(str(error)) from None
        for warning in warnings:
            log.warning(warning)
        self.pages = {}
        _anchor_snippets(config)
        if self.library and config.nav is not None:
            _expand_library_nav(config.nav, self.library.nav())
        config.extra_css.append(f"{ASSETS_URL}/memberkit.css")
        config.extra_javascript.append(f"{ASSETS_URL}/memberkit.js")
        return config

    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled:
            return None
        pages = self.library.pages().items()
        published = downloads.publish(self.library.downloads())
        for kind, items in ((File, pages), (DownloadFile, published)):
            for src_uri, content in items:
                if files.get_file_from_path(src_uri) is not None:
                    raise PluginError(
                        f"docs/{src_uri} is generated from {self.config.templates_dir}/; "
                        "remove or rename the file in docs/"
                    )
                # INCLUDED: MkDocs leaves docs/templates/ out by default (theme overrides).
                files.append(
                    kind.generated(
                        config, src_uri, content=content, inclusion=InclusionLevel.INCLUDED
                    )
                )
        for name in ASSETS:
            source = resources.files("generator") / "assets" / name
            files.append(
                File.generated(config, f"{ASSETS_URL}/{name}", content=source.read_bytes())
            )
        return files

    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self.config.enabled:
            return None
        try:
            self.pages[page.file.src_uri] = access.page_access(
                page.file.content_string,
                page.file.src_uri,
                tiers=self.tiers,
                folder_defaults=self.config.access,
                path=_display_path(page, config),
            )
        except MemberkitError as error:
            raise PluginError(str(error)) from None
        return None

    def on_page_content(
        self, html_text: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self.config.enabled:
            return None
        src = page.file.src_uri
        if src.startswith(f"{PAGES}/") and (slug := src[len(PAGES) + 1 : -3]) in (
            self.library.by_slug
        ):
            root = get_relative_url(".", page.url).rstrip("/") + "/"
            root = "" if root in ("./", "/") else root
            html_text = html_text.replace(
                WIDGET_MARK.format(slug=slug), self.library.widget(slug, root)
            )
        if JOIN_LINK in html_text:
            url = html.escape(self._join_url(page, files))
            html_text = html_text.replace(JOIN_LINK, f'href="{url}"')
        return html_text

    def _join_url(self, page: Page, files: Files) -> str:
        target: str = self.config.join_url
        if "://" in target or target.startswith(("mailto:", "/")):
            return target
        join_file = files.get_file_from_path(target)
        if join_file is None:
            raise PluginError(
                f"mkdocs.yml: plugins.memberkit.join_url is {target!r}, which is neither a URL "
                "nor a page in docs/; set it to your checkout link (https://...)"
            )
        return join_file.url_relative_to(page.file)


def _expand_library_nav(nav: list[Any], entries: list[Any]) -> bool:
    """Replace the nav item `templates/index.md` with the whole library section."""
    index = entries[0]
    for position, item in enumerate(nav):
        if item == index:
            nav[position] = {"Templates": entries}
            return True
        if isinstance(item, dict):
            for title, value in item.items():
                if value == index:
                    nav[position] = {title: entries}
                    return True
                if isinstance(value, list) and _expand_library_nav(value, entries):
                    return True
    return False


def _anchor_snippets(config: MkDocsConfig) -> None:
    """Resolve snippet folders against mkdocs.yml, not the current directory.

    pymdownx.snippets reads `base_path` relative to wherever the build was started,
    so `memberkit build -f other/mkdocs.yml` would miss `other/snippets/`.
    """
    options = config.mdx_configs.get("pymdownx.snippets")
    if not options:
        return
    root = os.path.dirname(config.config_file_path or "")
    paths = options.get("base_path", ["."])
    if isinstance(paths, str):
        paths = [paths]
    options["base_path"] = [os.path.normpath(os.path.join(root, p)) for p in paths]


def _display_path(page: Page, config: MkDocsConfig) -> str:
    """`docs/guides/x.md`: the path as the owner sees it beside mkdocs.yml."""
    if page.file.generated_by:
        return page.file.src_uri
    docs = config.docs_dir.rstrip("/").rsplit("/", 1)[-1]
    return f"{docs}/{page.file.src_uri}"


__all__ = ["MemberkitPlugin"]
