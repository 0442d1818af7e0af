"""The MkDocs plugin: hooks, each handing its work to an object of its own.

`site` checks the settings and reads the private state (`on_config`), `sitefiles`
adds the generated pages, downloads and browser code (`on_files`), `Pages` takes each
page from its Markdown to the file written (`on_page_markdown`, `on_page_content`,
`on_page_context`, `on_post_page`), and `postbuild` writes what is made from the
whole site and runs the leak check (`on_post_build`). A `MemberkitError` from any of
them becomes MkDocs' `PluginError`: one line that names the file and the fix.

Event priorities are chosen, not left to the order of `plugins:` in mkdocs.yml:
memberkit reads a page's Markdown and seals its content after every other plugin
changed them (-90), fills in the envelope before any other plugin reworks the
written page (90), and checks, last, that the page written still carries it (-90).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority, get_plugin_logger
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from generator.content import checklists, join, schedule
from generator.documents.library import DocumentLibrary
from generator.engine import blog, postbuild, preview, site, sitefiles
from generator.engine.config import MemberkitConfig
from generator.engine.discovery import Discovery
from generator.engine.links import Links
from generator.engine.pages import ASSETS_URL, Pages, made_by
from generator.engine.policy import SitePolicy
from generator.engine.sealing import Sealing
from generator.errors import MemberkitError
from generator.members import state as private
from generator.protection import envelopes, worker
from generator.publish import seo
from generator.publish.browsercode import BrowserCode

log = get_plugin_logger("memberkit")


@contextmanager
def _plugin_errors(work: worker.Inline | worker.Background | None = None) -> Iterator[None]:
    """An owner's mistake, as MkDocs reports a plugin's: one line. With `work`, the
    helper is closed too: no build follows."""
    try:
        yield
    except MemberkitError as error:
        if work is not None:
            work.close()
        raise PluginError(str(error)) from None


class MemberkitPlugin(BasePlugin[MemberkitConfig]):
    supports_multiple_instances = False

    def __init__(self) -> None:
        self.command = "build"
        self.root = Path(".")  # the folder of mkdocs.yml
        self.tiers: tuple[str, ...] = ()
        self.work: worker.Inline | worker.Background = worker.Inline()
        self.sealing = Sealing((), {}, self.work)
        self.pages: Pages | None = None
        self.state: private.State | None = None
        self.sealer: envelopes.Sealer | None = None
        self.library = DocumentLibrary([], ())
        self.public_files: set[str] = set()
        self.files: Files | None = None  # the build's files, as the last plugin left them
        self.keep_work_open = False  # `memberkit check` scans one more folder after the build
        self.code: BrowserCode | None = None  # the browser code pages load

    @property
    def protected_urls(self) -> set[str]:
        return self.sealing.protected_urls

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.command = command

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        checklists.plugin_started()  # the guard of `generator.checklists` lets pages render
        if not self.config.enabled:
            return None
        self.root = Path(config.config_file_path or ".").parent
        self.work.close()  # a failed build in `mkdocs serve` may have left one
        self.work = worker.start(
            site.pages_up_to(
                Path(config.docs_dir),
                self.root / self.config.templates_dir,
                worker.HELPER_FROM_PAGES,
            )
        )
        with _plugin_errors(self.work):
            self.code = BrowserCode.from_folder(sitefiles.ASSETS_DIR)
            self.tiers, comments = site.check_settings(self.config)
            policy = SitePolicy(self.config, config, comments=comments)
            found = Discovery(self.config, config, self.root, schedule.today())
            state = site.load_state(
                self.root, self.tiers, log.info, dt.date.today(), self.config.ended_notice_days
            )
            self.library, warnings = DocumentLibrary.load(
                self.root / self.config.templates_dir,
                self.tiers,
                self.config.templates_access,
                cache=self.root / site.CACHE_DIR if self.config.cache else None,
                signing_key=state.cache_key(),
                default_sample=self.config.templates_sample,
                language=str(config.theme.get("language") or ""),
            )
            shown = site.preview_keys(self.command, self.tiers, state, os.environ)
        for warning in warnings:
            log.warning(warning)
        self.state = state
        self.sealer = envelopes.Sealer(site=state.site, keys=state.sealing_keys())
        self.work.use_keys(self.sealer.site, self.sealer.keys)
        for member in state.members.values():
            self.work.add_member(member.email, member.name)
        for ended in state.ended.values():  # their entries name them too
            self.work.add_member(ended.email, ended.name)
        self.sealing = Sealing(self.tiers, dict(self.config.access), self.work)
        self.pages = Pages(
            sealing=self.sealing,
            found=found,
            links=Links(self.config),
            policy=policy,
            library=self.library,
            work=self.work,
            comments=self.config.comments if comments else None,
            preview=shown,
            code=self.code,
        )
        # The site's own furniture, on every page: public, whatever else it matches (a
        # member named like the site, a heading equal to a section's name).
        self.work.add_public(site.public_furniture(config))
        self._note_placeholders(config)
        site.adjust_config(
            config,
            theme=str(sitefiles.PACKAGE_DIR / "theme") if comments else None,
            library_nav=self.library.nav() if self.library else None,
            stylesheet=f"{ASSETS_URL}/{self.code.stylesheet}",
        )
        return config

    def _note_placeholders(self, config: MkDocsConfig) -> None:
        """The checkout link, and the settings a new site holds placeholders in."""
        site_url = config.site_url
        checkout = join.checkout_problem(self.config.join_url, self.config.checkout_url, site_url)
        _note([checkout] if checkout else [])
        for where, text in (
            ("mkdocs.yml: site_name", config.site_name),
            ("mkdocs.yml: copyright", config.copyright or ""),
            ("mkdocs.yml: plugins.memberkit.join_text", self.config.join_text),
            ("mkdocs.yml: plugins.memberkit.price", self.config.price or ""),
        ):
            _note(join.text_placeholder_problems(where, text, site_url))

    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled:
            return None
        assert self.sealer is not None and self.pages is not None
        self.files = files
        with _plugin_errors():
            self.public_files = sitefiles.add_files(
                files,
                config,
                library=self.library,
                sealer=self.sealer,
                templates_dir=self.config.templates_dir,
                found=self.pages.found,
                assets_url=ASSETS_URL,
                code=self.pages.code,
            )
            # Before the blog plugin reads its posts (it runs later, at -50).
            for src_uri, day in blog.hold_back_posts(files, config, self.pages.found.today):
                log.info(
                    f"{src_uri}: a blog post available on {day.isoformat()}; left out of the "
                    "site, the blog's lists and the feed until then"
                )
        return files

    # Last: the Markdown as the other plugins left it is what will be rendered.
    @event_priority(-90)
    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if self.pages is None or not self.config.enabled:
            return None
        with _plugin_errors():
            self.pages.read(page, markdown, _display_path(page, config))
        return None

    # First: the other plugins read a members' page's Markdown and content as public.
    @event_priority(100)
    def _mask_page(
        self, html_text: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if self.pages is not None and self.config.enabled:
            self.pages.mask(html_text, page)
            # The price in a heading: in the table of contents, the search and the title
            # too (every page's titles are read for the navigation after this event).
            price = self.config.price
            join.fill_price_titles(page.toc, price)
            if page.title and join.PRICE_MARK in page.title:
                page.title = join.fill_price(page.title, price)
        return None

    # Last: what the other plugins made of the content is what gets sealed.
    @event_priority(-90)
    def _seal_page(
        self, html_text: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if self.pages is None or not self.config.enabled:
            return None
        where = _display_path(page, config)
        _note(join.text_placeholder_problems(where, html_text, config.site_url))
        _note(join.price_mark_problems(where, html_text, self.config.price))
        return self.pages.content(html_text, page, config, files)

    on_page_content = CombinedEvent(_mask_page, _seal_page)

    # First: the search plugin reads the TOC without protected headings.
    @event_priority(90)
    def _hide_toc(self, context: Any, /, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        if self.config.enabled:
            self.sealing.hide_toc(page)
        return None

    # Last: the theme renders the TOC with its entry for the sealed part.
    @event_priority(-90)
    def _page_context(self, context: Any, /, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        if self.pages is None or not self.config.enabled:
            return None
        return self.pages.context(context, page)

    on_page_context = CombinedEvent(_hide_toc, _page_context)

    # First: the envelope is in place before any other plugin reworks the page.
    @event_priority(90)
    def _fill_envelope(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str | None:
        if not self.config.enabled:
            return None
        return self.sealing.fill(output, page)

    # Last: the page as it will be written carries its envelope; the keystore link and
    # the browser code go into <head> (boot.js before Material's bundle: it holds the
    # requests and the load event the modules answer).
    @event_priority(-90)
    def _finish_written_page(
        self, output: str, /, *, page: Page, config: MkDocsConfig
    ) -> str | None:
        if self.pages is None or not self.config.enabled:
            return None
        return self.pages.written(output, page, config.site_dir, public=self.public_files)

    on_post_page = CombinedEvent(_fill_envelope, _finish_written_page)

    # The "not found" page, served at any missing address: its links are absolute. The
    # sitemap lists no page before its release date (MkDocs gzips what is returned).
    def on_post_template(
        self, output_content: str, /, *, template_name: str, config: MkDocsConfig
    ) -> str | None:
        if self.pages is None or not self.config.enabled:
            return None
        if template_name == "sitemap.xml":
            return seo.without_urls(output_content, self.pages.found.unlisted)
        if template_name != "404.html":
            return None
        root = urlsplit(config.site_url or "/").path
        return self.pages.finish(output_content, root if root.endswith("/") else root + "/")

    # Last, after the search plugin wrote its index: the leak check reads everything.
    @event_priority(-100)
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if self.pages is None or self.state is None or not self.config.enabled:
            return
        site_dir = Path(config.site_dir)
        try:
            with _plugin_errors():
                leaks = postbuild.finish_site(
                    site_dir,
                    state=self.state,
                    tiers=self.tiers,
                    site_url=config.site_url,
                    policy=self.pages.policy,
                    found=self.pages.found,
                    work=self.work,
                    public=self.public_files,
                    today=dt.date.today(),
                    ended_days=self.config.ended_notice_days,
                    notes=log.info,
                )
        finally:
            if not self.keep_work_open:
                self.work.close()
        if leaks:
            # Plain `mkdocs build` writes straight into site/: what leaks must not stay
            # there to be uploaded. (`memberkit build` writes beside it and keeps the
            # last good site.)
            remove = self.command == "build" and not self.keep_work_open
            raise PluginError(
                postbuild.leak_failure(
                    leaks, site_dir, self.root, remove_site=remove, origins=self._origins()
                )
            )

    def _origins(self) -> dict[str, str]:
        """Where each built file came from: the owner's (a page, a file of docs/, one
        memberkit made from the templates), or another plugin's (its name)."""
        origins = {}
        for f in self.files or []:
            page = f.page if f.is_documentation_page() else None
            if page is not None:
                maker = made_by(page)
            elif f.generated_by and not f.generated_by.startswith("memberkit"):
                maker = f.generated_by
            else:
                maker = None
            origins[f.dest_uri] = maker or postbuild.PAGE
        return origins

    def on_build_error(self, *, error: Exception) -> None:
        self.work.close()

    def on_serve(self, server: Any, /, *, config: MkDocsConfig, builder: Any) -> Any:
        # The preview's reload script must pass each page's security policy.
        if self.config.enabled:
            preview.let_live_reload_run(server)
        return server


def _note(problems: Iterable[tuple[str, str]]) -> None:
    """Warnings as warnings; a note of an example site only where the owner asks to
    hear more (-v)."""
    for level, message in problems:
        if level == "warning":
            log.warning(message)
        else:
            log.debug(message)


def _display_path(page: Page, config: MkDocsConfig) -> str:
    """`docs/guides/x.md`: the path as the owner sees it beside mkdocs.yml."""
    if page.file.generated_by:
        return page.file.src_uri
    docs = config.docs_dir.rstrip("/").rsplit("/", 1)[-1]
    return f"{docs}/{page.file.src_uri}"


__all__ = ["MemberkitPlugin"]
