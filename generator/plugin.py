"""The MkDocs adapter: thin hooks that hand the work to the core modules."""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import AnchorLink, get_toc
from mkdocs.utils import get_relative_url

from . import access, discovery, downloads, hosting, join, keystore, protect, schedule, worker
from . import state as private
from .config import MemberkitConfig
from .documents.library import PAGES, WIDGET_MARK, DocumentLibrary, page_path
from .errors import MemberkitError

log = get_plugin_logger("memberkit")

#: The package's own files (assets, theme partials): a folder, as pip installs it.
PACKAGE_DIR = Path(__file__).parent
#: The browser code (boot.js, then native modules from main.js) and the stylesheet,
#: shipped in the package, served by the site from ASSETS_URL.
ASSETS_DIR = PACKAGE_DIR / "assets" / "memberkit"
ASSETS_URL = "assets/memberkit"
#: Word and Excel files already made, reused while their template is unchanged.
CACHE_DIR = ".cache/memberkit"
#: Set by `memberkit serve --as`: the audience the live preview shows.
PREVIEW_ENV = "MEMBERKIT_PREVIEW_AS"
#: Stands where a page's envelope goes until the page is written: letters, digits and
#: dashes, like the envelope, so that no quoting of the attribute can change it.
PLACEHOLDER = "mk1-sealing-{number}-of-this-build"
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
        self.pages: dict[str, access.PageAccess] = {}
        self.library = DocumentLibrary([], ())
        self.sealer: protect.Sealer | None = None
        self.state: private.State | None = None
        self.work: worker.Inline | worker.Background = worker.Inline()
        self.protected_urls: set[str] = set()
        self.keep_work_open = False  # `memberkit check` scans one more folder after the build
        self.theme_assets: set[str] = set()
        self.command = "build"
        self.preview: dict[str, Any] | None = None
        self.policy = hosting.HostPolicy()
        self.comment_pages: set[str] = set()
        self.written: str | None = None  # the page MkDocs wrote last: read it ahead
        self.placeholders: dict[str, str] = {}  # page URL: where its envelope goes
        self.sealing = 0  # pages handed over for sealing in this build
        self.envelopes: dict[str, str] = {}  # placeholder: envelope
        self.found: discovery.Discovery | None = None  # head tags, feed, sitemap dates
        self.unreleased: dict[str, dt.date] = {}  # src_uri: its release date

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
            root = Path(config.config_file_path or ".").parent
            self.work.close()  # a failed build in `mkdocs serve` may have left one
            self.work = worker.start()
            self._load_state(root)
            assert self.state is not None
            self.library, warnings = DocumentLibrary.load(
                root / self.config.templates_dir,
                self.tiers,
                self.config.templates_access,
                cache=root / CACHE_DIR if self.config.cache else None,
                signing_key=self.state.cache_key(),
            )
        except MemberkitError as error:
            self.work.close()  # no build follows: the helper is not needed
            raise PluginError(str(error)) from None
        for warning in warnings:
            log.warning(warning)
        self.pages = {}
        self.protected_urls = set()
        self.preview = self._preview()
        self.policy = hosting.HostPolicy(
            keystore=protect.KEYSTORE_PATH, comments=self._comments_config()
        )
        self.comment_pages = set()
        self.written = None
        self.placeholders, self.envelopes, self.sealing = {}, {}, 0
        try:
            self.found = discovery.Discovery(self.config, config, root, schedule.today())
        except MemberkitError as error:
            raise PluginError(str(error)) from None
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
        if self.policy.comments:
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
            raise PluginError(
                f"mkdocs.yml: plugins.memberkit.comments needs {', '.join(missing)} "
                "(copy them from giscus.app)"
            )
        return True

    def on_page_context(
        self, context: Any, /, *, page: Page, config: MkDocsConfig, nav: Any
    ) -> Any:
        if not self.config.enabled:
            return None
        rule = self.pages.get(page.file.src_uri)
        public = rule is None or not rule.protected
        wanted = self.policy.comments and public and bool(page.meta.get("comments"))
        context["memberkit_comments"] = self.config.comments if wanted else None
        if wanted:
            self.comment_pages.add(page.url)
        return context

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
        folder = private.state_dir(root)
        with private.locked(folder, log.info, create=False):  # one writer at a time
            state = private.load(folder)
            dropped = state.drop_expired(dt.date.today())
            missing = [t for t in self.tiers if t not in state.tiers]
            state.ensure_tiers(missing)
            if dropped or missing:
                private.save(state, folder)
        for member in dropped:
            log.info(
                f"dropped expired member {member.email} (ended {member.expires}); "
                f"new keys for {', '.join(member.tiers)}"
            )
        self.state = state
        self.sealer = protect.Sealer.from_state(state)
        self.work.use_keys(self.sealer.site, self.sealer.keys)
        for member in state.members.values():
            self.work.add_member(member.email, member.name)

    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files | None:
        if not self.config.enabled:
            return None
        # Copied unchanged from the theme: the leak check need not read them. The
        # owner's own custom_dir is theirs: it is read like the rest.
        theme_dirs = tuple(
            os.path.join(d, "") for d in config.theme.dirs if d != config.theme.custom_dir
        )
        self.theme_assets = {
            f.dest_uri
            for f in files
            if f.abs_src_path and f.abs_src_path.startswith(theme_dirs) and not f.generated_by
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
            self.theme_assets.add(f"{ASSETS_URL}/{name}")
        return files

    def _library_sources(self, root: Path) -> list[tuple[str, Path]]:
        """(generated page, its template file) for every document template."""
        folder = (root / self.config.templates_dir).parent
        return [(page_path(t), folder / t.source) for t in self.library.templates]

    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self.config.enabled:
            return None
        # The Markdown as MkDocs hands it over: without its front matter (MkDocs has
        # read that into page.meta), as it will be rendered.
        check = functools.partial(
            access.page_access,
            src_uri=page.file.src_uri,
            tiers=self.tiers,
            folder_defaults=self.config.access,
            path=_display_path(page, config),
            meta=page.meta,
        )
        assert self.found is not None
        try:
            rule = self.pages[page.file.src_uri] = check(markdown)
            shown = _display_path(page, config)
            held = self.found.read_page(page, shown, members_only=rule.protected)
            if held is not None:  # not released yet: out of search too
                self.unreleased[page.file.src_uri] = held
                page.meta["search"] = {**(page.meta.get("search") or {}), "exclude": True}
        except MemberkitError as error:
            if error.line is not None:  # name the line in the file, front matter included
                try:
                    check(page.file.content_string)
                except MemberkitError as in_file:
                    error = in_file
                except (OSError, ValueError):
                    pass
            raise PluginError(str(error)) from None
        return None

    def on_page_content(
        self, html_text: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        if not self.config.enabled:
            return None
        src = page.file.src_uri
        assert self.found is not None
        if src in self.unreleased:
            return self._hold_back(html_text, page, self.unreleased[src])
        if src.startswith(f"{PAGES}/") and (slug := src[len(PAGES) + 1 : -3]) in (
            self.library.by_slug
        ):
            root = _site_root(page)
            html_text = html_text.replace(
                WIDGET_MARK.format(slug=slug), self.library.widget(slug, root, sealed=True)
            )
        if join.JOIN_LINK in html_text:
            url = html.escape(self._join_url(page, files))
            html_text = html_text.replace(join.JOIN_LINK, f'href="{url}"')
        if join.CHECKOUT_LINK in html_text:
            url = html.escape(self._link(self.config.checkout_url, "checkout_url", page, files))
            html_text = html_text.replace(join.CHECKOUT_LINK, f'href="{url}"')
        if join.BOX_MARK in html_text:
            html_text = html_text.replace(join.BOX_MARK, self._join_box(page, files))
        rule = self.pages.get(src)
        if rule is None or not rule.protected:
            self.work.add_public(html_text)
            self.found.page_content(page, html_text, members_only=False)
            return html_text
        sealed = self._seal_page(html_text, page, rule)
        # Beside the sealed part, public: what joining costs and how, for visitors and
        # crawlers alike, with or without JavaScript.
        box = self._join_box(page, files)
        self.work.add_public(box)
        return sealed + box

    def _hold_back(self, html_text: str, page: Page, day: dt.date) -> str:
        """A page before its release date: its title and the date, nothing more. Its
        content is held as protected, so that the leak check fails the build wherever
        it would show up."""
        assert self.found is not None
        _, content = protect.split_page(html_text, has_divider=False, description="")
        self.work.add_secret(content)
        if description := str(page.meta.get("description") or ""):
            self.work.add_secret(f"<p>{html.escape(description)}</p>")
        page.toc = get_toc([])
        notice = schedule.notice_html(page.title or "", day)
        self.work.add_public(notice)
        self.found.page_content(page, notice, members_only=False)
        return notice

    def _seal_page(self, html_text: str, page: Page, rule: access.PageAccess) -> str:
        """Keep the teaser; replace the rest, and its part of the TOC, by an envelope."""
        assert self.sealer is not None
        description = str(page.meta.get("description") or "")
        public, hidden = protect.split_page(
            html_text, has_divider=rule.has_divider, description=description
        )
        ids = protect.protected_ids(hidden)
        _, hidden_toc = protect.split_toc(_toc_entries(page.toc), ids)
        _prune_toc(page.toc, ids)
        fragments = {"content": hidden}
        if hidden_toc:
            fragments["toc"] = protect.toc_html(hidden_toc)
        # Sealed meanwhile, by the helper: the envelope takes the placeholder's place
        # when the page is written (`on_post_page`).
        placeholder = PLACEHOLDER.format(number=self.sealing)
        self.sealing += 1
        self.placeholders[page.url] = placeholder
        self.work.protect(placeholder, rule.tier, page.url, page.title or "", fragments)
        self.work.add_public(public)
        self.protected_urls.add(page.url)
        assert self.found is not None
        self.found.page_content(page, public, members_only=True)
        return public + protect.envelope_element(placeholder)

    # The keystore link and the browser code go into <head>: boot.js before Material's
    # bundle, so that it holds the requests and the load event the modules answer.
    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str | None:
        if not self.config.enabled:
            return None
        # Sealed meanwhile by the helper: the first page written asks for every envelope
        # at once, before the helper turns to reading the files.
        placeholder = self.placeholders.pop(page.url, None)
        first = self.written is None and bool(self.placeholders)
        if first or (placeholder is not None and placeholder not in self.envelopes):
            try:
                self.envelopes.update(self.work.envelopes())
            except MemberkitError as error:
                raise PluginError(str(error)) from None
        if placeholder is not None:
            envelope = self.envelopes.pop(placeholder, None)
            if envelope is None:
                raise PluginError(f"{page.file.src_uri}: its protected part was not sealed")
            # The attribute as written by `envelope_element`: a teaser quoting the
            # placeholder's text is left as it is.
            output = output.replace(f'data-mk1="{placeholder}"', f'data-mk1="{envelope}"', 1)
        # MkDocs has written the page before this one (and the files before the pages):
        # the helper reads them while the build goes on; the scan checks they are unchanged.
        site = Path(config.site_dir)
        if self.written is None:
            self.work.read_ahead_all(site, skip=self.theme_assets)
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
        """Link the keystore and the browser module; add the page's security policy.
        `head`: the page's own tags for search engines and link previews."""
        head += (
            f'<meta name="mk1-keystore" content="{root}{protect.KEYSTORE_PATH}">'
            f'<script src="{root}{ASSETS_URL}/boot.js"></script>'
            f'<script type="module" src="{root}{ASSETS_URL}/main.js"></script>'
        )
        if self.preview is not None:
            head += f'<meta name="mk1-preview" content="{html.escape(json.dumps(self.preview))}">'
        output = output.replace("</head>", head + "</head>", 1)
        if not self.config.headers:
            return output
        hashes = hosting.inline_script_hashes(output)
        self.policy.script_hashes |= hashes
        if self.config.csp_meta:
            # Hosts without custom headers (GitHub Pages, S3) still get a policy.
            page_policy = hosting.HostPolicy(script_hashes=hashes, comments=comments)
            output = output.replace("<head>", "<head>" + page_policy.meta_tag(), 1)
        return output

    # Last, after the search plugin wrote its index: the leak check reads everything.
    @event_priority(-100)
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        if not self.config.enabled:
            return
        assert self.sealer is not None and self.state is not None
        site = Path(config.site_dir)
        (site / "mk1").mkdir(exist_ok=True)
        keystore.write(site, self.state, dt.date.today(), self.tiers)
        if self.config.headers:
            self._write_host_files(site, config)
        assert self.found is not None
        self.found.write_feed(site)  # before the leak check, which reads it
        try:
            # The helper answers with the search shards (sealed while the pages were
            # written), then reads the site while they are written here: ciphertext,
            # the only files written after the scan has begun.
            shards, scan = self.work.finish(site, skip=self.theme_assets)
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
            shown = "; ".join(str(leak) for leak in leaks[:5])
            more = f" (and {len(leaks) - 5} more)" if len(leaks) > 5 else ""
            raise PluginError(
                f"leak check: protected text found in the built site: {shown}{more}. "
                "Move the text below the teaser divider or make the page public"
            )

    def on_build_error(self, *, error: Exception) -> None:
        self.work.close()

    def _join_url(self, page: Page, files: Files) -> str:
        """The join page; on the join page itself, the checkout."""
        target: str = self.config.join_url
        if (
            not join.is_address(target)
            and files.get_file_from_path(target.partition("#")[0]) is page.file
        ):
            return self._link(self.config.checkout_url, "checkout_url", page, files)
        return self._link(target, "join_url", page, files)

    def _join_box(self, page: Page, files: Files) -> str:
        contact: str = self.config.help_contact
        help_url = (
            self._link(contact, "help_contact", page, files)
            if contact
            else self._link(self.config.join_url, "join_url", page, files)
        )
        return join.join_box(self.config.join_text, self._join_url(page, files), help_url)

    def _link(self, target: str, setting: str, page: Page, files: Files) -> str:
        """A setting's address as a link from `page`: a URL as it is, a page of docs/
        relative to it."""
        if join.is_address(target):
            return target
        source, hash_, fragment = target.partition("#")
        linked = files.get_file_from_path(source)
        if linked is None:
            raise PluginError(
                f"mkdocs.yml: plugins.memberkit.{setting} is {target!r}, which is neither a URL "
                "nor a page in docs/; set it to an https:// address or a page such as join.md"
            )
        return linked.url_relative_to(page.file) + hash_ + fragment

    def _write_host_files(self, site: Path, config: MkDocsConfig) -> None:
        assert self.found is not None
        self.policy.noindex = set(self.found.noindex)
        (site / "_headers").write_text(self.policy.netlify_headers())
        robots = site / "robots.txt"
        if not robots.exists():  # the owner's own docs/robots.txt wins
            robots.write_text(hosting.robots_txt(config.site_url))
        # The sitemap keeps the members' pages: Material's instant navigation only takes
        # over links to pages listed there, and their URLs and titles are public anyway.


def _site_root(page: Page) -> str:
    """The relative URL from a page to the site root: "", "../", "../../"."""
    root = get_relative_url(".", page.url).rstrip("/") + "/"
    return "" if root in ("./", "/") else root


def _toc_entries(toc: Any) -> list[protect.TocEntry]:
    return [
        protect.TocEntry(link.id, link.title, tuple(_toc_entries(link.children))) for link in toc
    ]


def _prune_toc(links: Any, hidden: set[str]) -> None:
    """Remove protected headings from the page's own TOC (what Material renders)."""
    items: list[AnchorLink] = list(links)
    for link in items:
        if link.id in hidden:
            links.remove(link)
        else:
            _prune_toc(link.children, hidden)


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
