"""What static hosts need besides the files: headers, robots.txt, the sitemap policy.

One description of the headers (`HostPolicy`) yields both `site/_headers` (Netlify,
Cloudflare Pages) and an nginx server block, so the two cannot disagree. No MkDocs
import.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

GISCUS = "https://giscus.app"
_SRC = re.compile(r"\bsrc=")
#: Scripts that hold data, which browsers never run: JSON, JSON-LD.
_DATA_BLOCK = re.compile(r"\btype=[\"']?application/(?:ld\+)?json\b")


_TAG_URLS = re.compile(
    r"<(script|img|source|iframe|link|video|audio|track|input)\b([^>]*)>", re.IGNORECASE
)
_ATTRIBUTE = re.compile(r"""([a-z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_OUTSIDE = re.compile(r"^(?:(https?|wss?):)?//([^/?#\s\\]+)", re.IGNORECASE)
#: What a tag loads with each attribute, by directive (link tags: by their rel).
_LOADS = {
    "script": {"src": "script-src"},
    "img": {"src": "img-src", "srcset": "img-src"},
    "input": {"src": "img-src"},
    "source": {"src": "media-src", "srcset": "img-src"},
    "video": {"src": "media-src", "poster": "img-src"},
    "audio": {"src": "media-src"},
    "track": {"src": "media-src"},
    "iframe": {"src": "frame-src"},
}
_LINK_RELS = {
    "stylesheet": "style-src",
    "icon": "img-src",
    "apple-touch-icon": "img-src",
    "manifest": "manifest-src",
    "modulepreload": "script-src",
}
_PRELOAD_AS = {"script": "script-src", "style": "style-src", "font": "font-src", "image": "img-src"}
#: What a library loaded from another host fetches from there too: the fonts of a
#: stylesheet on Google Fonts; the parts, fonts and data of a script (MathJax loads its
#: components and fonts from the CDN it came from).
_FOLLOWS = {
    "https://fonts.googleapis.com": {"font-src": "https://fonts.gstatic.com"},
}


#: A page's opening <head>, and its <meta charset> where it comes first in it.
_HEAD_START = re.compile(r"<head\b[^>]*>(?:\s*<meta\s+charset=[^>]*>)?", re.IGNORECASE)


def at_head_start(page: str, tags: str) -> str:
    """`page` with `tags` first in its <head>, after the character set the browser
    must find in the page's first bytes: there the parser reaches them before the
    stylesheets, which hold up the theme's first script."""
    found = _HEAD_START.search(page)
    if found is None:
        return page
    return page[: found.end()] + tags + page[found.end() :]


def origin(url: str) -> str | None:
    """`https://host[:port]` of a URL on another host (protocol-relative: https)."""
    match = _OUTSIDE.match(url.strip())
    if not match:
        return None
    scheme = (match.group(1) or "https").lower()
    host = match.group(2).rsplit("@", 1)[-1].lower()
    return f"{scheme}://{host}"


def loaded_sources(page: str) -> dict[str, set[str]]:
    """The other hosts a page's markup loads from, by CSP directive: the src of its
    scripts, images, frames and media, its stylesheets, icons and preloads."""
    found: dict[str, set[str]] = {}
    for tag in _TAG_URLS.finditer(page):
        for directive, host in _tag_sources(tag.group(1).lower(), tag.group(2)):
            found.setdefault(directive, set()).add(host)
    return found


@functools.lru_cache(maxsize=4096)
def _tag_sources(name: str, attributes_text: str) -> tuple[tuple[str, str], ...]:
    """(directive, host) of each other host a tag loads from. Cached: the same tags
    (the theme's scripts, stylesheets and icons) stand on every page."""
    attributes = {
        m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
        for m in _ATTRIBUTE.finditer(attributes_text)
    }
    if name == "link":
        rels = attributes.get("rel", "").lower().split()
        directive = next((_LINK_RELS[r] for r in rels if r in _LINK_RELS), None)
        if "preload" in rels:
            directive = _PRELOAD_AS.get(attributes.get("as", "").lower(), directive)
        loads = {"href": directive} if directive else {}
    else:
        loads = _LOADS.get(name, {})
    return tuple(
        (directive, host)
        for attribute, directive in loads.items()
        for url in _urls(attributes.get(attribute, ""), srcset=attribute == "srcset")
        if (host := origin(url)) is not None
    )


def _urls(value: str, *, srcset: bool) -> list[str]:
    if not srcset:
        return [value] if value else []
    return [part.strip().split()[0] for part in value.split(",") if part.strip()]


def widen(sources: dict[str, set[str]], found: dict[str, set[str]]) -> None:
    """Add what a page loads to the site's sources, with what those hosts load in turn."""
    for directive, hosts in found.items():
        sources.setdefault(directive, set()).update(hosts)
        for host in hosts:
            for other, its_host in _FOLLOWS.get(host, {}).items():
                sources.setdefault(other, set()).add(its_host)
            if directive == "script-src":
                sources.setdefault("connect-src", set()).add(host)
                sources.setdefault("font-src", set()).add(host)


def inline_script_hashes(page: str) -> set[str]:
    """CSP hashes of the page's inline scripts that run (JSON and JSON-LD data do not).

    Found with `str.find`: a regular expression takes ten times as long on a page.
    """
    hashes = set()
    start = page.find("<script")
    while start != -1:
        opened = page.find(">", start)
        if opened == -1:
            break
        attributes = page[start + len("<script") : opened]
        if _SRC.search(attributes):  # its body, if any, is not run: look on from here
            start = page.find("<script", start + 1)
            continue
        closed = page.find("</script>", opened)
        if closed == -1:
            break
        if not _DATA_BLOCK.search(attributes):
            hashes.add(_script_hash(page[opened + 1 : closed]))
        start = page.find("<script", closed)
    return hashes


@functools.lru_cache(maxsize=64)
def _script_hash(body: str) -> str:
    """Every page carries the same few scripts: each is hashed once."""
    digest = hashlib.sha256(body.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


#: The fetch directives a site's own policy may widen, in the order they are written.
FETCH_DIRECTIVES = (
    "script-src",
    "style-src",
    "img-src",
    "font-src",
    "connect-src",
    "media-src",
    "frame-src",
    "worker-src",
    "manifest-src",
)
#: What every directive allows before the site adds to it. Images, fonts, fetches and
#: workers: this site, data: and blob: URLs (icons; the search index merged with the
#: member's entries; Material's search worker), all under default-src while the site
#: loads nothing from elsewhere: one directive keeps the per-page <meta> short.
_DEFAULT = "'self' data: blob:"
_BASE = {
    "script-src": "'self'",
    # Material sets style attributes from its scripts; no inline *script* is allowed.
    "style-src": "'self' 'unsafe-inline'",
    "frame-src": "'none'",
}
_SOURCE = re.compile(
    r"^(?:'self'|'none'|data:|blob:|https?:|wss?:|'sha(?:256|384|512)-[A-Za-z0-9+/=]+'"
    r"|(?:(?:https?|wss?)://)?(?:\*\.)?[A-Za-z0-9.-]+(?::\d+|:\*)?(?:/[^\s;,']*)?)$"
)


def check_source(directive: str, source: str) -> str | None:
    """Why `source` cannot stand in `directive`, or None: for the owner's settings."""
    if directive not in FETCH_DIRECTIVES:
        return f"{directive!r} is not a directive memberkit writes; use one of: " + ", ".join(
            FETCH_DIRECTIVES
        )
    if source in ("'unsafe-inline'", "'unsafe-eval'", "*") and directive == "script-src":
        return f"{source} in script-src would let any injected script run"
    if not _SOURCE.match(source):
        return (
            f"{source!r} is not a source: write a host (cdn.example.com), an origin "
            "(https://cdn.example.com) or a scheme (data:)"
        )
    return None


@dataclass
class HostPolicy:
    """Security headers for the whole site, and the paths that need their own.

    The Content-Security-Policy allows this site, and of other hosts exactly what the
    built site loads (`sources`, per directive: see `loaded_sources`) plus what the
    owner adds; inline scripts only by hash.
    """

    script_hashes: set[str] = field(default_factory=set)
    noindex: set[str] = field(default_factory=set)  # page URLs kept out of search: guides/x/
    keystore: str = "mk1/keystore.json"
    comments: bool = False
    base: str = "/"  # the path the site is served under (site_url's): /, /docs/
    sources: dict[str, set[str]] = field(default_factory=dict)  # directive: origins
    # Files whose name holds a hash of their content (the theme's bundle, stylesheets
    # and search worker), from the root: cached for a year, never asked for again.
    fingerprinted: list[str] = field(default_factory=list)

    def csp(self, *, for_meta: bool = False) -> str:
        sources = {d: set(found) for d, found in self.sources.items() if found}
        if self.comments:
            sources.setdefault("script-src", set()).add(GISCUS)
            sources.setdefault("frame-src", set()).add(GISCUS)
        if self.script_hashes:
            sources.setdefault("script-src", set()).update(self.script_hashes)
        directives = [f"default-src {_DEFAULT}"]
        for directive in FETCH_DIRECTIVES:
            extra = sources.get(directive, set())
            base = _BASE.get(directive)
            if base is None and not extra:
                continue  # default-src says it
            if base == "'none'" and extra:
                base = ""  # frames: only the hosts named
            elif base is None:
                base = _DEFAULT
            directives.append(" ".join([directive, *([base] if base else []), *sorted(extra)]))
        directives += ["object-src 'none'", "base-uri 'self'", "form-action 'self'"]
        if not for_meta:  # not allowed in a <meta> tag
            directives.append("frame-ancestors 'none'")
        return "; ".join(directives)

    def outside_hosts(self) -> dict[str, list[str]]:
        """The other hosts the policy allows, by directive (for the build's report)."""
        return {
            d: sorted(s for s in found if "://" in s)
            for d, found in sorted(self.sources.items())
            if any("://" in s for s in found)
        }

    def meta_tag(self) -> str:
        """The policy as a `<meta>` for hosts that send no headers. Only `&` and `"`
        need escaping in the attribute: the policy's many quotes stay as they are."""
        content = html.escape(self.csp(for_meta=True), quote=False).replace('"', "&quot;")
        return f'<meta http-equiv="Content-Security-Policy" content="{content}">'

    def common(self) -> list[tuple[str, str]]:
        return [
            ("Content-Security-Policy", self.csp()),
            ("Referrer-Policy", "strict-origin-when-cross-origin"),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        ]

    def special(self) -> list[tuple[list[str], list[tuple[str, str]]]]:
        """(URL paths, extra headers) for the keystore, envelopes and noindex pages."""
        noindex = [("X-Robots-Tag", "noindex")]
        at = self.base
        rules: list[tuple[list[str], list[tuple[str, str]]]] = [
            (
                [f"{at}{self.keystore}", f"{at}mk1/keys/*"],
                [("Cache-Control", "no-cache"), *noindex],
            ),
            ([f"{at}downloads/*", f"{at}search/*", f"{at}mk1/*"], noindex),
        ]
        if self.fingerprinted:
            rules.append(([f"{at}{path}" for path in sorted(self.fingerprinted)], IMMUTABLE))
        pages = sorted(self.noindex)
        if pages:
            paths = [p for url in pages for p in (f"{at}{url}", f"{at}{url}index.html")]
            rules.append((paths, noindex))
        return rules

    def netlify_headers(self) -> str:
        """`_headers` for Netlify and Cloudflare Pages."""
        lines = [
            "# Generated by memberkit at every build: edit mkdocs.yml, not this file.",
            f"{self.base}*",  # the whole site: first, as nginx_server reads it
        ]
        lines += [f"  {name}: {value}" for name, value in self.common()]
        for paths, headers in self.special():
            for path in paths:
                lines.append(path)
                lines += [f"  {name}: {value}" for name, value in headers]
        return "\n".join(lines) + "\n"


#: A file named by a hash of its content: the same name never holds other bytes.
IMMUTABLE = [("Cache-Control", "public, max-age=31536000, immutable")]
#: The names of such files: the theme's `bundle.a5f9d56c.min.js` and source maps,
#: memberkit's `main.2cb4b7cf40.js`.
FINGERPRINTED = re.compile(r"\.[0-9a-f]{8,}(?:\.min)?\.(?:js|css)(?:\.map)?$")


def fingerprinted_files(site: Path) -> list[str]:
    """The files of a built site whose names hold a hash of their content (URL paths
    from the site's root)."""
    return sorted(
        path.relative_to(site).as_posix()
        for suffix in ("js", "css", "map")
        for path in site.rglob(f"*.{suffix}")
        if FINGERPRINTED.search(path.name) and path.is_file()
    )


def parse_headers(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """Read a `_headers` file: (path pattern, [(name, value)]) in file order."""
    rules: list[tuple[str, list[tuple[str, str]]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            rules.append((line.strip(), []))
        elif rules and ":" in line:
            name, value = line.strip().split(":", 1)
            rules[-1][1].append((name.strip(), value.strip()))
        else:
            raise ValueError(f"_headers line {number}: expected a path or 'Name: value'")
    return rules


MIME_TYPES = {
    "html": "text/html",
    "css": "text/css",
    "js": "text/javascript",
    "json": "application/json",
    "xml": "application/xml",
    "svg": "image/svg+xml",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "ico": "image/x-icon",
    "txt": "text/plain",
    "md": "text/markdown",
    "csv": "text/csv",
    "zip": "application/zip",
    "gz": "application/gzip",
    "mk1": "application/octet-stream",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def nginx_server(headers: str, root: str, listen: str = "80", server_name: str = "_") -> str:
    """An nginx `server { }` block that serves `root` with the headers of `_headers`.

    The first rule is the whole site's, `/*` or, for a site served under a path
    (site_url's), `/docs/*`: its headers go into every location (nginx drops inherited
    add_header lines in a location that has its own); `/dir/*` becomes a prefix
    location, other paths exact. Under a path, each location maps its part of the URL
    onto `root` (`alias`), and addresses outside the path get 404.
    """
    rules = parse_headers(headers)
    if not rules or not rules[0][0].endswith("/*"):
        raise ValueError("the first rule must be the whole site's, such as /* or /docs/*")
    whole = rules[0][0]
    base = whole[:-1]
    common = rules[0][1]
    folder = root.rstrip("/") or "/"

    def block(match: str, extra: list[tuple[str, str]], *body: str) -> list[str]:
        lines = [f"    location {match} {{"]
        lines += [f"        {line}" for line in body]
        for name, value in [*common, *extra]:
            escaped = value.replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'        add_header {name} "{escaped}" always;')
        return [*lines, "    }"]

    types = [f"        {mime} {ext};" for ext, mime in MIME_TYPES.items()]
    lines = [
        "# Generated by memberkit from site/_headers: the same headers as on Netlify.",
        "server {",
        f"    listen {listen};",
        f"    server_name {server_name};",
        f"    root {root};",
        "    index index.html;",
        "    charset utf-8;",
        f"    error_page 404 {base}404.html;",
        # Text compressed on the way: pages, stylesheets, scripts, indexes. Envelopes
        # (.mk1) are compressed before they are sealed: sent as they are.
        "    gzip on;",
        "    gzip_vary on;",
        "    gzip_comp_level 5;",
        "    gzip_min_length 256;",
        "    gzip_types text/css text/javascript application/json application/xml"
        " image/svg+xml text/plain;",
        "    types {",
        *types,
        "    }",
    ]

    def mapped(path: str) -> tuple[str, ...]:
        """Under a path, where a location's URLs are in `root`."""
        return () if base == "/" else (f"alias {folder}/{path[len(base) :]};",)

    if base == "/":
        lines += block("/", [], "try_files $uri $uri/ =404;")
    else:
        lines += ["    location / {", "        return 404;", "    }"]
        lines += block(f"^~ {base}", [], *mapped(base))
    for path, extra in rules[1:]:
        if path == whole:
            continue
        if path.endswith("/*"):
            lines += block(f"^~ {path[:-1]}", extra, *mapped(path[:-1]))
        else:
            lines += block(f"= {path}", extra, *mapped(path))
    lines.append("}")
    return "\n".join(lines) + "\n"


def base_path(site_url: str | None) -> str:
    """The path a site is served under, from its site_url: `/`, `/docs/`."""
    path = urlsplit(site_url or "").path or "/"
    return path if path.endswith("/") else path + "/"


def robots_txt(site_url: str | None) -> str:
    """robots.txt for the site. Under a path (`/docs/`), crawlers read only the
    domain's own /robots.txt: these lines belong there."""
    base = base_path(site_url)
    lines = [
        "# Generated by memberkit. Members' pages show crawlers their teasers; the",
        "# encrypted files, downloads and the members' search are not for crawlers.",
        "User-agent: *",
        f"Disallow: {base}mk1/",
        f"Disallow: {base}downloads/",
        f"Disallow: {base}search/",
    ]
    if site_url:
        lines.append(f"Sitemap: {site_url.rstrip('/')}/sitemap.xml")
    return "\n".join(lines) + "\n"
