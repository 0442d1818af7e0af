"""The MkDocs adapter: thin hooks that hand the work to the core modules.

What a build learns along the way is kept by objects of their own: `Sealing` (the
members' pages and their envelopes), `SitePolicy` (the security policy and host
files), `Links` (the owner's links), `Discovery` (head tags, feed, sitemap dates),
`DocumentLibrary` (the templates), and the helper process (`worker`).

Event priorities are chosen, not left to the order of `plugins:` in mkdocs.yml:
memberkit reads a page's Markdown and seals its content after every other plugin
changed them (-90), fills in the envelope before any other plugin reworks the
written page (90), and checks, last, that the page written still carries it (-90).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import json
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc
from mkdocs.utils import get_relative_url

from generator.content import access, join, schedule
from generator.documents import downloads
from generator.documents.library import PAGES, WIDGET_MARK, DocumentLibrary, page_path
from generator.engine import discovery, preview
from generator.engine.config import MemberkitConfig
from generator.engine.links import Links
from generator.engine.policy import SitePolicy
from generator.engine.sealing import Sealing
from generator.errors import MemberkitError
from generator.members import keystore_writer, store
from generator.members import state as private
from generator.protection import envelopes, leakcheck, worker
from generator.protection.leakcheck import Leak

log = get_plugin_logger("memberkit")

#: The package's own files (assets, theme partials): a folder, as pip installs it.
PACKAGE_DIR = Path(__file__).parents[1]
#: The browser code (boot.js, then native modules from main.js) and the stylesheet,
#: shipped in the package, served by the site from ASSETS_URL.
ASSETS_DIR = PACKAGE_DIR / "assets" / "memberkit"
ASSETS_URL = "assets/memberkit"
#: Word and Excel files already made, reused while their template is unchanged.
CACHE_DIR = ".cache/memberkit"
#: Set by `memberkit serve --as`: the audience the live preview shows.
PREVIEW_ENV = "MEMBERKIT_PREVIEW_AS"
#: Where the full list of a failed leak check goes, beside mkdocs.yml.
LEAK_REPORT = f"{CACHE_DIR}/leak-report.txt"
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


class MemberkitPlugin(BasePlugin[MemberkitConfig]):
    supports_multiple_instances = False

    def __init__(self) -> None:
        self.tiers: tuple[str, ...] = ()
        self.library = DocumentLibrary([], ())
        self.sealer: envelopes.Sealer | None = None
        self.state: private.State | None = None
        self.work: worker.Inline | worker.Background = worker.Inline()
        self.sealing = Sealing((), {}, self.work)
        self.keep_work_open = False  # `memberkit check` scans one more folder after the build
        self.public_files: set[str] = set()
        self.command = "build"
        self.preview: dict[str, Any] | None = None
        self.policy: SitePolicy | None = None
        self.links: Links | None = None
        self.comments = False
        self.comment_pages: set[str] = set()
        self.written: str | None = None  # the page MkDocs wrote last: read it ahead
        self.found: discovery.Discovery | None = None  # head tags, feed, sitemap dates
        self.unreleased: dict[str, dt.date] = {}  # src_uri: its release date
        self.root = Path(".")  # the folder of mkdocs.yml

    @property
    def protected_urls(self) -> set[str]:
        return self.sealing.protected_urls

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.command = command

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
            self.root = Path(config.config_file_path or ".").parent
            self.comments = self._comments_config()
            self.policy = SitePolicy(self.config, config, comments=self.comments)
            self.found = discovery.Discovery(self.config, config, self.root, schedule.today())
            self.work.close()  # a failed build in `mkdocs serve` may have left one
            self.work = worker.start()
            self._load_state(self.root)
            assert self.state is not None
            self.library, warnings = DocumentLibrary.load(
                self.root / self.config.templates_dir,
                self.tiers,
                self.config.templates_access,
                cache=self.root / CACHE_DIR if self.config.cache else None,
                signing_key=self.state.cache_key(),
            )
        except MemberkitError as error:
            self.work.close()  # no build follows: the helper is not needed
            raise PluginError(str(error)) from None
        for warning in warnings:
            log.warning(warning)
        self.sealing = Sealing(self.tiers, dict(self.config.access), self.work)
        # The site's own furniture, on every page: public, whatever else it matches (a
        # member named like the site, a heading equal to a section's name).
        furniture = [config.site_name, config.site_description, config.copyright]
        furniture += _nav_titles(config.nav or [])
        self.work.add_public("".join(f"<p>{html.escape(t)}</p>" for t in furniture if t))
        self.links = Links(self.config)
        self.preview = self._preview()
        self.comment_pages = set()
        self.written = None
        self.unreleased = {}
        problem = join.checkout_problem(
            self.config.join_url, self.config.checkout_url, config.site_url
        )
        if problem is not None:
            level, message = problem
            if level == "warning":
                log.warning(message)
            else:  # an example site: say it only where the owner asks to hear more (-v)
                log.debug(message)
        if self.comments:
            # After the owner's custom_dir, before Material: our comments partial.
            material = next(
                (i for i, d in enumerate(config.theme.dirs) if "material" in d),
                len(config.theme.dirs),
            )
            config.theme.dirs.insert(material, str(PACKAGE_DIR / "theme"))
        _anchor_snippets(config)
        if self.library and config.nav is not None:
            _expand_library_nav(config.nav, self.library.nav())
        config.extra_css.append(f"{ASSETS_URL}/memberkit.css")
        return config

    def _comments_config(self) -> bool:
        settings = self.config.comments
        if not settings:
            return False
        missing = [k for k in ("repo", "repo_id", "category", "category_id") if not settings.get(k)]
        if missing:
            raise MemberkitError(
                f"plugins.memberkit.comments needs {', '.join(missing)} "
                "(copy them from giscus.app)",
                path="mkdocs.yml",
            )
        return True

    # First: the search plugin reads the TOC without protected headings.
    @event_priority(90)
    def _hide_toc(self, context: Any, /, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        if self.config.enabled:
            self.sealing.hide_toc(page)
        return None

    # Last: the theme renders the TOC with its entry for the sealed part.
    @event_priority(-90)
    def _page_context(self, context: Any, /, *, page: Page, config: MkDocsConfig, nav: Any) -> Any:
        if not self.config.enabled:
            return None
        self.sealing.mark_toc(page)
        rule = self.sealing.rule(page)
        public = rule is None or not rule.protected
        wanted = self.comments and public and bool(page.meta.get("comments"))
        context["memberkit_comments"] = self.config.comments if wanted else None
        if wanted:
            self.comment_pages.add(page.url)
        return context

    on_page_context = CombinedEvent(_hide_toc, _page_context)

    def _preview(self) -> dict[str, Any] | None:
        """`memberkit serve --as AUDIENCE`: what the pages tell the browser to show.

        Only ever for the live preview: a built site never carries a tier key.
        """
        audience = os.environ.get(PREVIEW_ENV)
        if not audience or self.command != "serve":
            return None
        if audience == access.PUBLIC:
            return {"tier": None}
        if audience not in self.tiers or self.state is None:
            raise PluginError(
                f"--as {audience!r}: use 'public' or one of the tiers: {', '.join(self.tiers)}"
            )
        key = self.state.tiers[audience]
        return {"site": self.state.site, "tier": audience, "v": key.v, "k": key.k}

    def _load_state(self, root: Path) -> None:
        """Read the private state; drop expired members (rotating their tiers)."""
        folder = store.state_dir(root)
        with store.locked(folder, log.info, create=False):  # one writer at a time
            state = store.load(folder)
            dropped = state.drop_expired(dt.date.today())
            missing = [t for t in self.tiers if t not in state.tiers]
            state.ensure_tiers(missing)
            if dropped or missing:
                store.save(state, folder)
        for member in dropped:
            log.info(
                f"dropped expired member {member.email} (ended {member.expires}); "
                f"new keys for {', '.join(member.tiers)}"
            )
        self.state = state
        self.sealer = envelopes.Sealer(site=state.site, keys=state.sealing_keys())
        self.work.use_keys(self.sealer.site, self.sealer.keys)
        for member in state.members.values():
            self.work.add_member(member.email, member.name)

    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled:
            return None
        # Copied as they are from public sources: the theme, the owner's custom_dir and
        # the static files of docs/ (an icon index, a stylesheet, a source map, a
        # licence). The leak check does not read them: what the owner publishes as it is
        # is public. What the build makes from the pages and templates, it reads.
        self.public_files = {
            f.dest_uri
            for f in files
            if f.abs_src_path and not f.generated_by and not f.is_documentation_page()
        }
        sealer = self.sealer
        pages = list(self.library.pages(sealed=True).items())
        if files.get_file_from_path(LOGIN_PAGE) is None:
            pages.append((LOGIN_PAGE, LOGIN_SOURCE))
        assert sealer is not None

        def seal(download: downloads.Download) -> bytes:
            return sealer.seal_file(download.tier, download.path, download.content, download.mime)

        published = downloads.publish(self.library.downloads(), seal)
        for kind, items in ((File, pages), (DownloadFile, published)):
            for src_uri, content in items:
                if files.get_file_from_path(src_uri) is not None:
                    raise PluginError(
                        f"docs/{src_uri} is generated from {self.config.templates_dir}/; "
                        "remove or rename the file in docs/"
                    )
                # INCLUDED: MkDocs leaves docs/templates/ out by default (theme overrides).
                inclusion = InclusionLevel.INCLUDED
                if src_uri == LOGIN_PAGE:
                    inclusion = InclusionLevel.NOT_IN_NAV
                files.append(kind.generated(config, src_uri, content=content, inclusion=inclusion))
        assert self.found is not None
        root = Path(config.config_file_path or "mkdocs.yml")
        templates = self._library_sources(root.parent)
        try:
            self.found.add_files(
                files,
                discovery.generated_sources(root, templates, f"{PAGES}/index.md", LOGIN_PAGE),
            )
        except MemberkitError as error:
            raise PluginError(str(error)) from None
        for source in sorted(ASSETS_DIR.iterdir()):
            name = source.name
            files.append(File.generated(config, f"{ASSETS_URL}/{name}", abs_src_path=str(source)))
            # Shipped code, like the theme's: nothing of the owner's is in it.
            self.public_files.add(f"{ASSETS_URL}/{name}")
        return files

    def _library_sources(self, root: Path) -> list[tuple[str, Path]]:
        """(generated page, its template file) for every document template."""
        folder = (root / self.config.templates_dir).parent
        return [(page_path(t), folder / t.source) for t in self.library.templates]

    # Last: the Markdown as the other plugins left it is what will be rendered.

    @event_priority(-90)
    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self.config.enabled:
            return None
        assert self.found is not None
        shown = _display_path(page, config)
        rule = self.sealing.read(page, markdown, shown)
        try:
            held = self.found.read_page(page, shown, members_only=rule.protected)
        except MemberkitError as error:
            raise PluginError(str(error)) from None
        if held is not None:  # not released yet: out of search too
            self.unreleased[page.file.src_uri] = held
            page.meta["search"] = {**(page.meta.get("search") or {}), "exclude": True}
        return None

    # Last: what the other plugins made of the content is what gets sealed.
    @event_priority(-90)
    def on_page_content(
        self, html_text: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self.config.enabled:
            return None
        src = page.file.src_uri
        assert self.found is not None and self.links is not None and self.policy is not None
        if src in self.unreleased:
            return self._hold_back(html_text, page, self.unreleased[src])
        if src.startswith(f"{PAGES}/") and (slug := src[len(PAGES) + 1 : -3]) in (
            self.library.by_slug
        ):
            root = _site_root(page)
            html_text = html_text.replace(
                WIDGET_MARK.format(slug=slug), self.library.widget(slug, root, sealed=True)
            )
        html_text = self.links.fill(html_text, page, files)
        self.policy.add_content(html_text)
        # The title (in the navigation of every page) and the description (in the
        # page's head, link previews and the feed) are public, whoever reads the page.
        shown = [page.title, page.meta.get("description")]
        self.work.add_public("".join(f"<p>{html.escape(str(t))}</p>" for t in shown if t))
        rule = self.sealing.rule(page)
        if rule is None or not rule.protected:
            self.work.add_public(html_text)
            self.found.page_content(page, html_text, members_only=False)
            return html_text
        sealed, public, _ = self.sealing.seal(html_text, page, rule, config=config, files=files)
        self.work.add_public(public)
        self.found.page_content(page, public, members_only=True)
        # Beside the sealed part, public: what joining costs and how, for visitors and
        # crawlers alike, with or without JavaScript.
        box = self.links.join_box(page, files)
        self.work.add_public(box)
        return sealed + box

    def _hold_back(self, html_text: str, page: Page, day: dt.date) -> str:
        """A page before its release date: its title and the date, nothing more. Its
        content is held as protected, so that the leak check fails the build wherever
        it would show up."""
        assert self.found is not None
        _, content = envelopes.split_page(html_text, has_divider=False, description="")
        self.work.add_secret(content)
        if description := str(page.meta.get("description") or ""):
            self.work.add_secret(f"<p>{html.escape(description)}</p>")
        page.toc = get_toc([])
        notice = schedule.notice_html(page.title or "", day)
        self.work.add_public(notice)
        self.found.page_content(page, notice, members_only=False)
        return notice

    # First: the envelope is in place before any other plugin reworks the page.

    @event_priority(90)
    def _fill_envelope(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str | None:
        if not self.config.enabled:
            return None
        return self.sealing.fill(output, page)

    # Last: the page as it will be written carries its envelope; the keystore link and
    # the browser code go into <head> (boot.js before Material's bundle: it holds the
    # requests and the load event the modules answer), and the security policy, made
    # after every other plugin's change (a minifier's included).
    @event_priority(-90)
    def _finish_written_page(
        self, output: str, /, *, page: Page, config: MkDocsConfig
    ) -> str | None:
        if not self.config.enabled:
            return None
        self.sealing.verify(output, page)
        # MkDocs has written the page before this one (and the files before the pages):
        # the helper reads them while the build goes on; the scan checks they are unchanged.
        site = Path(config.site_dir)
        if self.written is None:
            self.work.read_ahead_all(site, skip=self.public_files)
        else:
            self.work.read_ahead(site, self.written)
        self.written = page.file.dest_uri
        root = _site_root(page)
        assert self.found is not None
        return self._finish_page(
            output,
            root,
            head=self.found.head(page, root),
            comments=page.url in self.comment_pages,
        )

    on_post_page = CombinedEvent(_fill_envelope, _finish_written_page)

    # The "not found" page, served at any missing address: its links are absolute.
    def on_post_template(
        self, output_content: str, /, *, template_name: str, config: MkDocsConfig
    ) -> str | None:
        if not self.config.enabled or template_name != "404.html":
            return None
        root = urlsplit(config.site_url or "/").path
        return self._finish_page(output_content, root if root.endswith("/") else root + "/")

    def _finish_page(
        self, output: str, root: str, *, head: str = "", comments: bool = False
    ) -> str:
        """Link the keystore and the browser code; add the page's security policy.
        `head`: the page's own tags for search engines and link previews."""
        head += (
            f'<meta name="mk1-keystore" content="{root}{envelopes.KEYSTORE_PATH}">'
            f'<script src="{root}{ASSETS_URL}/boot.js"></script>'
            f'<script type="module" src="{root}{ASSETS_URL}/main.js"></script>'
        )
        if self.preview is not None:
            head += f'<meta name="mk1-preview" content="{html.escape(json.dumps(self.preview))}">'
        output = output.replace("</head>", head + "</head>", 1)
        assert self.policy is not None
        return self.policy.finish(output, comments=comments)

    # Last, after the search plugin wrote its index: the leak check reads everything.
    @event_priority(-100)
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if not self.config.enabled:
            return
        assert self.sealer is not None and self.state is not None
        assert self.found is not None and self.policy is not None
        site = Path(config.site_dir)
        (site / "mk1").mkdir(exist_ok=True)
        keystore_writer.write(site, self.state, dt.date.today(), self.tiers)
        self.policy.write_host_files(site, config.site_url, set(self.found.noindex))
        self._report_policy()
        self.found.write_feed(site)  # before the leak check, which reads it
        try:
            # The helper answers with the search shards (sealed while the pages were
            # written), then reads the site while they are written here: ciphertext,
            # the only files written after the scan has begun.
            shards, scan = self.work.finish(site, skip=self.public_files)
            for path, envelope in shards.items():
                (site / path).parent.mkdir(parents=True, exist_ok=True)
                (site / path).write_bytes(envelope)
            leaks = scan()
        except MemberkitError as error:
            raise PluginError(str(error)) from None
        finally:
            if not self.keep_work_open:
                self.work.close()
        if leaks:
            self._fail_on_leaks(leaks, site)

    def _report_policy(self) -> None:
        """Name the other hosts the pages load from, and what the owner forbade."""
        assert self.policy is not None
        hosts = self.policy.outside_hosts()
        if hosts:
            listed = "; ".join(f"{d}: {', '.join(found)}" for d, found in hosts.items())
            log.info(f"the site loads from other hosts, allowed by its security policy: {listed}")
        for used in self.policy.forbidden_in_use():  # the owner's choice: a note
            log.info(
                f"the site loads from {used.split(' ', 1)[1]} ({used.split(' ', 1)[0]}), which "
                "plugins.memberkit.csp_forbid forbids: browsers will refuse it"
            )

    def _fail_on_leaks(self, leaks: list[Leak], site: Path) -> None:
        """Report every finding, by file, and leave nothing of the leaking site behind."""
        report = leakcheck.report(leaks)
        where = self.root / LEAK_REPORT
        with contextlib.suppress(OSError):
            where.parent.mkdir(parents=True, exist_ok=True)
            where.write_text(report)
        if self.command == "build" and not self.keep_work_open:
            # Plain `mkdocs build` writes straight into site/: what leaks must not stay
            # there to be uploaded. (`memberkit build` writes beside it and keeps the
            # last good site.)
            shutil.rmtree(site, ignore_errors=True)
        files = len({leak.file for leak in leaks})
        shown = "; ".join(str(leak) for leak in leaks[:5])
        more = f" (and {len(leaks) - 5} more)" if len(leaks) > 5 else ""
        raise PluginError(
            f"leak check: protected text found in the built site, {len(leaks)} finding(s) in "
            f"{files} file(s): {shown}{more}. Every finding, by file: {where}. Move the text "
            "below the teaser divider or make the page public"
        )

    def on_build_error(self, *, error: Exception) -> None:
        self.work.close()

    def on_serve(self, server: Any, /, *, config: MkDocsConfig, builder: Any) -> Any:
        # The preview's reload script must pass each page's security policy.
        if self.config.enabled:
            preview.let_live_reload_run(server)
        return server


def _site_root(page: Page) -> str:
    """The relative URL from a page to the site root: "", "../", "../../"."""
    root = get_relative_url(".", page.url).rstrip("/") + "/"
    return "" if root in ("./", "/") else root


def _nav_titles(nav: Any) -> list[str]:
    """The section and page titles written in mkdocs.yml's nav."""
    titles: list[str] = []
    for item in nav if isinstance(nav, list) else []:
        if isinstance(item, dict):
            for title, value in item.items():
                titles.append(str(title))
                titles += _nav_titles(value)
    return titles


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
