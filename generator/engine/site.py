"""What a build knows of the whole site before its first page.

The plugin's settings checked (`check_settings`), the private state read with expired
members dropped (`load_state`), the audience of the live preview (`preview_keys`),
the text every page shows around its content (`furniture`), and two fixes to the
site's configuration: the template library spelled out in the navigation
(`expand_library_nav`) and snippet folders read from beside mkdocs.yml
(`anchor_snippets`). Plain values in and out, so each is tested without a build.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from generator.content import access
from generator.errors import MemberkitError
from generator.members import keeping
from generator.members import state as private

#: Word and Excel files already made, reused while their template is unchanged; and
#: the full list of a failed leak check. Beside mkdocs.yml.
CACHE_DIR = ".cache/memberkit"
#: Set by `memberkit serve --as`: the audience the live preview shows.
PREVIEW_ENV = "MEMBERKIT_PREVIEW_AS"
#: What giscus needs to show a page's comments.
COMMENT_SETTINGS = ("repo", "repo_id", "category", "category_id")


def pages_up_to(docs_dir: Path, templates_dir: Path, limit: int) -> int:
    """About how many pages a site has, counted up to `limit`: its Markdown files and
    its templates (each one a page)."""
    count = 0
    for folder, suffix in ((docs_dir, ".md"), (templates_dir, "")):
        for _, _, names in os.walk(folder):
            count += sum(1 for n in names if n.endswith(suffix) and not n.startswith("."))
            if count >= limit:
                return count
    return count


def check_settings(settings: Any) -> tuple[tuple[str, ...], bool]:
    """The tiers, checked with every setting that names one; and whether the pages
    may have comments. `settings`: the plugin's own (`plugins: - memberkit:`)."""
    tiers = access.validate_tiers(settings.tiers)
    for folder, tier in settings.access.items():
        if tier != access.PUBLIC and tier not in tiers:
            raise MemberkitError(
                f"plugins.memberkit.access gives folder {folder!r} the unknown tier "
                f"{tier!r}; use 'public' or one of: {', '.join(tiers)}",
                path="mkdocs.yml",
            )
    if settings.ended_notice_days < 0:
        raise MemberkitError(
            f"plugins.memberkit.ended_notice_days is {settings.ended_notice_days}; use a number "
            "of days, 0 or more (0: a member whose membership ended is not told so)",
            path="mkdocs.yml",
        )
    if settings.templates_access not in (access.PUBLIC, *tiers):
        raise MemberkitError(
            f"plugins.memberkit.templates_access is {settings.templates_access!r}; "
            f"use 'public' or one of: {', '.join(tiers)}",
            path="mkdocs.yml",
        )
    comments = settings.comments
    if not comments:
        return tiers, False
    missing = [k for k in COMMENT_SETTINGS if not comments.get(k)]
    if missing:
        raise MemberkitError(
            f"plugins.memberkit.comments needs {', '.join(missing)} (copy them from giscus.app)",
            path="mkdocs.yml",
        )
    return tiers, True


def load_state(
    root: Path,
    tiers: tuple[str, ...],
    note: Callable[[str], None],
    today: dt.date,
    ended_days: int = private.ENDED_NOTICE_DAYS,
) -> private.State:
    """Read the private state beside mkdocs.yml (its folder, or sealed with the key in
    MEMBERKIT_STATE_KEY); drop members whose access ended (rotating their tiers; kept
    `ended_days` days among the ended, so that signing in says so) and add keys for
    tiers new in the settings, saving both."""
    kept = keeping.locate(root)  # the state folder, or memberkit.state sealed
    with kept.locked(note, create=False):  # one writer at a time
        state = kept.load()
        before = len(state.ended)
        dropped = state.drop_expired(today, ended_days)
        missing = [t for t in tiers if t not in state.tiers]
        state.ensure_tiers(missing)
        if dropped or missing or len(state.ended) != before:
            kept.save(state)
    for member in dropped:
        note(
            f"dropped expired member {member.email} (ended {member.expires}); "
            f"new keys for {', '.join(member.tiers)}"
        )
    return state


def preview_keys(
    command: str, tiers: tuple[str, ...], state: private.State, environ: Mapping[str, str]
) -> dict[str, Any] | None:
    """`memberkit serve --as AUDIENCE`: what the pages tell the browser to show.

    Only ever for the live preview: a built site never carries a tier key.
    """
    audience = environ.get(PREVIEW_ENV)
    if not audience or command != "serve":
        return None
    if audience == access.PUBLIC:
        return {"tier": None}
    if audience not in tiers:
        raise MemberkitError(
            f"--as {audience!r}: use 'public' or one of the tiers: {', '.join(tiers)}"
        )
    key = state.tier_keys()[audience]
    return {"site": state.site, "tier": audience, "v": key.v, "k": key.k}


def furniture(
    site_name: str, description: str | None, copyright_line: str | None, nav: Any
) -> list[str]:
    """The site's own text, on every page whoever reads it: its name, description and
    copyright line, and the titles its navigation (mkdocs.yml's `nav`) gives."""
    return [t for t in (site_name, description, copyright_line, *nav_titles(nav or [])) if t]


def furniture_links(
    extra: Mapping[str, Any], repo_url: str | None, site_url: str | None
) -> list[str]:
    """The addresses every page links to whoever reads it: the footer's social links
    (`extra.social`), the repository, the site's own address and its home page. A
    members' page that links to one of them gives nothing away."""
    social = extra.get("social") if isinstance(extra, Mapping) else None
    links = [
        str(item["link"]) for item in social or [] if isinstance(item, Mapping) and item.get("link")
    ]
    homepage = extra.get("homepage") if isinstance(extra, Mapping) else None
    return [link for link in (*links, repo_url, site_url, homepage) if link]


def public_furniture(config: Any) -> str:
    """The site's furniture as one public HTML fragment: its text (`furniture`), the
    addresses every page links to (`furniture_links`) and the copyright line as the
    theme shows it, HTML and links included. `config`: mkdocs.yml, as MkDocs read it."""
    texts = furniture(config.site_name, config.site_description, config.copyright, config.nav)
    links = furniture_links(config.extra, config.repo_url, config.site_url)
    return "".join(
        [
            *(f"<p>{html.escape(t)}</p>" for t in texts),
            *(f'<a href="{html.escape(link)}"></a>' for link in links),
            str(config.copyright or ""),
        ]
    )


def adjust_config(
    config: Any, *, theme: str | None, library_nav: list[Any] | None, stylesheet: str
) -> None:
    """What memberkit changes in mkdocs.yml as read: its theme partials (`theme`, the
    comments' partial) after the owner's custom_dir and before Material's, snippet
    folders read beside mkdocs.yml, the template library in the navigation, and its
    stylesheet."""
    if theme is not None:
        material = next(
            (i for i, d in enumerate(config.theme.dirs) if "material" in d),
            len(config.theme.dirs),
        )
        config.theme.dirs.insert(material, theme)
    anchor_snippets(config.mdx_configs, config.config_file_path)
    if library_nav and config.nav is not None:
        expand_library_nav(config.nav, library_nav)
    config.extra_css.append(stylesheet)


def nav_titles(nav: Any) -> list[str]:
    """The section and page titles written in mkdocs.yml's nav."""
    titles: list[str] = []
    for item in nav if isinstance(nav, list) else []:
        if isinstance(item, dict):
            for title, value in item.items():
                titles.append(str(title))
                titles += nav_titles(value)
    return titles


def expand_library_nav(nav: list[Any], entries: list[Any]) -> bool:
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
                if isinstance(value, list) and expand_library_nav(value, entries):
                    return True
    return False


def anchor_snippets(markdown_options: dict[str, Any], config_file: str | None) -> None:
    """Resolve snippet folders against mkdocs.yml, not the current directory.

    pymdownx.snippets reads `base_path` relative to wherever the build was started,
    so `memberkit build -f other/mkdocs.yml` would miss `other/snippets/`.
    `markdown_options`: mkdocs.yml's `mdx_configs`, changed in place.
    """
    options = markdown_options.get("pymdownx.snippets")
    if not options:
        return
    root = os.path.dirname(config_file or "")
    paths = options.get("base_path", ["."])
    if isinstance(paths, str):
        paths = [paths]
    options["base_path"] = [os.path.normpath(os.path.join(root, p)) for p in paths]
