"""How visitors find the site: each page's head tags, the feed, the sitemap's dates.

The plugin hands every page over twice: its front matter when MkDocs has read it
(`read_page`: dates, release, feed and index choices, checked), and its public HTML
once it is known (`page_content`: the description and the feed entry, made from what
a visitor may read and nothing else). The work itself is done by the core modules
`seo`, `feed`, `dates` and `schedule`; this object keeps what a build learned.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from generator.content import dates, schedule
from generator.engine.config import MemberkitConfig
from generator.errors import MemberkitError
from generator.publish import feed, seo

_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class _Front:
    """What a page's front matter says about its dates and where it may appear."""

    published: dt.date | None
    modified: dt.date | None
    unreleased: dt.date | None
    in_feed: bool
    image: str | None
    description: str
    noindex: bool


class Discovery:
    """What one build tells search engines, link previews and feed readers."""

    def __init__(
        self, settings: MemberkitConfig, config: MkDocsConfig, root: Path, today: dt.date
    ) -> None:
        self.site_name = config.site_name
        self.site_url: str | None = config.site_url or None
        self.site_description = config.site_description or ""
        self.author: str | None = config.site_author or None
        if settings.feed_entries < 1:
            raise MemberkitError(
                f"plugins.memberkit.feed_entries is {settings.feed_entries}: give 1 or more, "
                "or turn the feed off with feed: false",
                path="mkdocs.yml",
            )
        self.settings = settings
        self.today = today
        self.sources = dates.SourceDates(root)
        self.generated: dict[str, list[Path]] = {}  # generated page: the files it is made of
        self.image: str | None = None  # the site's social image
        self.files: Files | None = None
        self.front: dict[str, _Front] = {}  # by src_uri
        self.facts: dict[str, seo.PageFacts] = {}  # by page URL
        self.entries: list[feed.FeedEntry] = []
        self.noindex: set[str] = set()  # page URLs
        self.unlisted: set[str] = set()  # canonical URLs out of the sitemap: not released

    def add_files(self, files: Files, generated: dict[str, list[Path]]) -> None:
        """The site's files are known: check the social image; note what each generated
        page is made of (its date in the sitemap is theirs)."""
        self.generated = generated
        self.files = files
        if self.settings.social_image is not None:
            self.image = seo.image_url(
                self.settings.social_image,
                site_url=self.site_url,
                exists=self._exists,
                field="plugins.memberkit.social_image",
                path="mkdocs.yml",
            )

    def _exists(self, path: str) -> bool:
        return self.files is not None and self.files.get_file_from_path(path) is not None

    def read_page(self, page: Page, path: str, *, members_only: bool) -> dt.date | None:
        """Check the page's front matter and date it in the sitemap. Returns its release
        date when it is not released yet. `path` names the file in errors."""
        meta = page.meta
        published = dates.front_matter_date(meta, "date", path)
        updated = dates.front_matter_date(meta, "updated", path)
        unreleased = schedule.unreleased(meta, path, self.today)
        in_feed = feed.wanted(meta, path)
        image = self.image
        if "image" in meta:
            image = seo.image_url(
                meta["image"],
                site_url=self.site_url,
                exists=self._exists,
                field="front matter 'image'",
                path=path,
            )
        noindex = seo.noindex(
            meta,
            members_only=members_only,
            teasers=self.settings.teasers,
            unreleased=unreleased is not None,
            path=path,
        )
        modified = updated or published or self._source_date(page)
        if modified is not None:
            page.update_date = modified.isoformat()  # the sitemap's <lastmod>
        self.front[page.file.src_uri] = _Front(
            published=published,
            modified=modified,
            unreleased=unreleased,
            in_feed=in_feed,
            image=image,
            description=str(meta.get("description") or ""),
            noindex=noindex,
        )
        if noindex:
            self.noindex.add(page.url)
        if unreleased is not None:
            self.unlisted.add(page.canonical_url or page.url)
        return unreleased

    def _source_date(self, page: Page) -> dt.date | None:
        if page.file.abs_src_path:
            return self.sources.of(page.file.abs_src_path)
        return self.sources.newest(self.generated.get(page.file.src_uri, ()))

    def page_content(self, page: Page, public_html: str, *, members_only: bool) -> None:
        """The page's public HTML is known: its description, head tags and feed entry."""
        front = self.front[page.file.src_uri]
        # As text: a title taken from the page's heading may hold markup or entities.
        title = html.unescape(_TAG.sub("", page.title or "")).strip() or self.site_name
        if front.unreleased is not None:
            description = schedule.notice(front.unreleased)
        else:
            description = (
                front.description or seo.first_paragraph(public_html) or self.site_description
            )
        url = page.canonical_url or None
        self.facts[page.url] = seo.PageFacts(
            title=title,
            description=description,
            site_name=self.site_name,
            url=url,
            image=front.image,
            members_only=members_only and front.unreleased is None,
            article=front.published is not None and front.unreleased is None,
            noindex=front.noindex,
            published=front.published,
            modified=front.modified,
            author=self.author,
        )
        # Material writes the description tag from page.meta as it is: escaped here.
        page.meta["description"] = html.escape(description, quote=True)
        if (
            self.settings.feed
            and url is not None
            and front.published is not None
            and front.unreleased is None
            and front.in_feed
        ):
            self.entries.append(
                feed.FeedEntry(
                    title=title,
                    url=url,
                    published=front.published,
                    updated=front.modified or front.published,
                    summary=description,
                    content=feed.entry_content(
                        public_html, url, members_only=members_only, site_name=self.site_name
                    ),
                )
            )

    def has_feed(self) -> bool:
        return bool(self.settings.feed and self.entries and self.site_url)

    def head(self, page: Page, root: str) -> str:
        """The tags for the page's `<head>`; `root` is the relative URL to the site root."""
        facts = self.facts.get(page.url)
        if facts is None:
            return ""
        link = (root + feed.FEED_PATH, self.site_name) if self.has_feed() else None
        return seo.head_tags(facts, feed=link)

    def write_feed(self, site: Path) -> Path | None:
        """Write `feed.xml` into the built site; None when there is nothing to put in it."""
        if not self.has_feed() or self.site_url is None:
            return None
        document = feed.atom(
            self.entries,
            title=self.site_name,
            subtitle=self.site_description,
            site_url=self.site_url,
            author=self.author or self.site_name,
            limit=self.settings.feed_entries,
        )
        if document is None:
            return None
        target = site / feed.FEED_PATH
        target.write_text(document, encoding="utf-8")
        return target


def generated_sources(
    config_file: Path, templates: Iterable[tuple[str, Path]], index: str, login: str
) -> dict[str, list[Path]]:
    """What each generated page is made of: a template page of its template file, the
    library's index of all of them, the sign-in page of mkdocs.yml."""
    sources: dict[str, list[Path]] = {login: [config_file]}
    made = list(templates)
    for page, source in made:
        sources[page] = [source]
    if made:
        sources[index] = [source for _, source in made]
    return sources
