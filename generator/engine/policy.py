"""The site's security policy, made from what the built site loads.

The MkDocs side of `hosting.HostPolicy`: it learns from the settings (theme fonts,
analytics, the repository widget, extra JavaScript and CSS) and from every page's
content, members' parts included (the src and href of what it loads, the hashes of
its inline scripts), before the first page is written. So every page carries the
whole site's policy, which matters: with instant navigation the policy of the first
page a visitor opens stays in force for every page they move on to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig

from generator.engine.config import MemberkitConfig
from generator.errors import MemberkitError
from generator.publish import hosting

#: Google Analytics 4 as Material integrates it (partials/integrations/analytics).
_GOOGLE_ANALYTICS = {
    "script-src": {"https://www.googletagmanager.com"},
    "connect-src": {
        "https://*.google-analytics.com",
        "https://*.analytics.google.com",
        "https://*.googletagmanager.com",
    },
    "img-src": {"https://*.google-analytics.com", "https://*.googletagmanager.com"},
}
#: Material draws diagrams with mermaid from this CDN unless the site brings its own.
_MERMAID_CDN = "https://unpkg.com"


class SitePolicy:
    """The Content-Security-Policy of one build, and the host files that carry it."""

    def __init__(self, settings: MemberkitConfig, config: MkDocsConfig, *, comments: bool) -> None:
        self.enabled = settings.headers
        self.meta = settings.csp_meta
        self.host = hosting.HostPolicy(keystore="mk1/keystore.json", comments=comments)
        self.added = _owner_sources(settings.csp_sources)
        self.forbidden = set(settings.csp_forbid)
        self.content_hashes: set[str] = set()
        self.own_mermaid = any("mermaid" in str(s) for s in config.extra_javascript)
        sources = self.host.sources
        for script in config.extra_javascript:
            hosting.widen(sources, {"script-src": _hosts([str(script)])})
        hosting.widen(sources, {"style-src": _hosts(config.extra_css)})
        extra: dict[str, Any] = dict(config.extra or {})
        analytics = extra.get("analytics") or {}
        if isinstance(analytics, dict) and analytics.get("provider") == "google":
            hosting.widen(sources, _GOOGLE_ANALYTICS)
        repository = hosting.origin(config.repo_url or "")
        if repository == "https://github.com":  # Material shows the stars and forks
            hosting.widen(sources, {"connect-src": {"https://api.github.com"}})
        elif repository is not None and "gitlab" in repository:
            hosting.widen(sources, {"connect-src": {repository}})

    def add_content(self, html_text: str) -> None:
        """A page's content, or a members' part: what it loads, its inline scripts."""
        if not self.enabled:
            return
        hosting.widen(self.host.sources, hosting.loaded_sources(html_text))
        self.content_hashes |= hosting.inline_script_hashes(html_text)
        if not self.own_mermaid and 'class="mermaid"' in html_text:
            hosting.widen(self.host.sources, {"script-src": {_MERMAID_CDN}})

    def finish(self, output: str, *, comments: bool) -> str:
        """Learn what the written page loads itself; put the policy in its <meta>."""
        if not self.enabled:
            return output
        hashes = hosting.inline_script_hashes(output)
        self.host.script_hashes |= hashes
        hosting.widen(self.host.sources, hosting.loaded_sources(_head_and_frame(output)))
        if not self.meta:
            return output
        page = hosting.HostPolicy(
            script_hashes=hashes | self.content_hashes,
            comments=comments,
            sources=self._allowed(),
        )
        return hosting.at_head_start(output, page.meta_tag())

    def _allowed(self) -> dict[str, set[str]]:
        """The sources in force: found and added, less what the owner forbade."""
        allowed = {d: set(s) for d, s in self.host.sources.items()}
        for directive, sources in self.added.items():
            allowed.setdefault(directive, set()).update(sources)
        for sources in allowed.values():
            sources -= {s for s in sources if _matches(s, self.forbidden)}
        return allowed

    def forbidden_in_use(self) -> list[str]:
        """`directive source` for each source the site loads that the owner forbade."""
        return sorted(
            f"{d} {s}"
            for d, found in self.host.sources.items()
            for s in found
            if _matches(s, self.forbidden)
        )

    def outside_hosts(self) -> dict[str, list[str]]:
        return hosting.HostPolicy(sources=self._allowed()).outside_hosts()

    def write_host_files(self, site: Path, site_url: str | None, noindex: set[str]) -> None:
        if not self.enabled:
            return
        whole = hosting.HostPolicy(
            script_hashes=self.host.script_hashes | self.content_hashes,
            noindex=noindex,
            keystore=self.host.keystore,
            comments=self.host.comments,
            sources=self._allowed(),
            base=hosting.base_path(site_url),
            fingerprinted=hosting.fingerprinted_files(site),
        )
        (site / "_headers").write_text(whole.netlify_headers())
        robots = site / "robots.txt"
        if not robots.exists():  # the owner's own docs/robots.txt wins
            robots.write_text(hosting.robots_txt(site_url))


def _hosts(urls: Any) -> set[str]:
    return {host for url in urls if (host := hosting.origin(str(url))) is not None}


def _head_and_frame(output: str) -> str:
    """The page's markup outside its content (which `add_content` has seen)."""
    start = output.find('<article class="md-content__inner')
    end = output.find("</article>", start)
    if start == -1 or end == -1:
        return output
    return output[:start] + output[end:]


def _matches(source: str, forbidden: set[str]) -> bool:
    if source in forbidden:
        return True
    host = source.split("://", 1)[-1]
    return host in forbidden


def _owner_sources(settings: dict[str, list[str]]) -> dict[str, set[str]]:
    """`csp_sources` from mkdocs.yml, checked: {directive: [source, ...]}."""
    sources: dict[str, set[str]] = {}
    for directive, values in settings.items():
        for value in values:
            problem = hosting.check_source(directive, value)
            if problem is not None:
                raise MemberkitError(f"plugins.memberkit.csp_sources: {problem}", path="mkdocs.yml")
            sources.setdefault(directive, set()).add(value)
    return sources
