"""Material's blog and members' posts: its list pages show what a post shows a visitor.

Material renders each post's excerpt into the blog's index, archive, category, author
and pagination pages from the post's own Markdown, outside the post's page. For a
members' post that would be the whole post (no divider), or the teaser with whatever it
borrows from below the divider. So:

- once a members' post is rendered, its Markdown becomes what a visitor may read of it:
  the teaser above the divider with the definitions it uses, or, without a divider, its
  title and description; the excerpt ends there and links to the post;
- "N min read", which Material counts on the whole post, is shown for a members' post
  only when the owner wrote it into the front matter (`readtime:`);
- a post before its `available:` date is left out of the build, as Material leaves a
  draft: in no list page, feed, search or sitemap until that day.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files, InclusionLevel
from mkdocs.utils.meta import get_data

from generator.content import schedule

#: Where Material's blog plugin lives; its posts, views and settings are read from it.
BLOG_MODULE = "material.plugins.blog"
#: What follows the separator in a members' post's Markdown: Material links the
#: excerpt to the post ("Continue reading") when there is more.
MORE = '<p class="mk1-locked__note">This part is for members.</p>'


def blogs(config: MkDocsConfig) -> list[Any]:
    """The site's instances of Material's blog plugin that are enabled."""
    return [
        plugin
        for plugin in config.plugins.values()
        if type(plugin).__module__.startswith(BLOG_MODULE)
        and hasattr(plugin.config, "post_dir")
        and plugin.config.enabled
    ]


def hold_back_posts(
    files: Files, config: MkDocsConfig, today: dt.date
) -> list[tuple[str, dt.date]]:
    """Leave out of the build every blog post whose `available:` date is after
    `today`: (its source path, its date) for each. Runs before the blog plugin reads
    its posts, so no list page, feed or sitemap of the build knows them."""
    held = []
    for plugin in blogs(config):
        folder = posixpath.normpath(plugin.config.post_dir.format(blog=plugin.config.blog_dir))
        for file in files.documentation_pages():
            # As the blog plugin tells its posts from other pages.
            if not file.src_uri.startswith(folder) or file.generated_by:
                continue
            try:
                _, meta = get_data(file.content_string)
            except (OSError, UnicodeDecodeError):
                continue  # the blog plugin says what is wrong with it
            day = schedule.unreleased(meta, file.src_uri, today)
            if day is not None:
                file.inclusion = InclusionLevel.EXCLUDED
                held.append((file.src_uri, day))
    return held


def excerpt_source(page: Any, shown: str, config: MkDocsConfig) -> None:
    """After a members' post is rendered: the Markdown its excerpt is made from is
    `shown`, what a visitor reads of it, and its reading time is the owner's to
    publish. Nothing for a page that is not a blog post."""
    plugin = next((p for p in blogs(config) if page in p.blog.posts), None)
    if plugin is None:
        return
    separator = plugin.config.post_excerpt_separator
    page.markdown = f"{shown}\n\n{separator}\n\n{MORE}\n"
    if "readtime" not in page.meta:
        page.config.readtime = 0
