"""The MkDocs adapter: thin hooks that hand the work to the core modules."""

from __future__ import annotations

import html
import os

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from . import access
from .config import MemberkitConfig
from .errors import MemberkitError

log = get_plugin_logger("memberkit")

#: Write `[Join](memberkit:join)` anywhere, snippets included, to link to the join URL.
JOIN_LINK = 'href="memberkit:join"'


class MemberkitPlugin(BasePlugin[MemberkitConfig]):
    supports_multiple_instances = False

    def __init__(self) -> None:
        self.tiers: tuple[str, ...] = ()
        self.pages: dict[str, access.PageAccess] = {}

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        if not self.config.enabled:
            return None
        try:
            self.tiers = access.validate_tiers(self.config.tiers)
        except MemberkitError as error:
            raise PluginError(str(error)) from None
        for folder, tier in self.config.access.items():
            if tier != access.PUBLIC and tier not in self.tiers:
                raise PluginError(
                    f"mkdocs.yml: plugins.memberkit.access gives folder {folder!r} the unknown "
                    f"tier {tier!r}; use 'public' or one of: {', '.join(self.tiers)}"
                )
        self.pages = {}
        _anchor_snippets(config)
        return None

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
        if not self.config.enabled or JOIN_LINK not in html_text:
            return None
        return html_text.replace(JOIN_LINK, f'href="{html.escape(self._join_url(page, files))}"')

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
    docs = config.docs_dir.rstrip("/").rsplit("/", 1)[-1]
    return f"{docs}/{page.file.src_uri}"


__all__ = ["MemberkitPlugin"]
