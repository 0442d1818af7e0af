"""The template library: a generated page per template, the library page, the downloads.

The owner writes no page by hand: each template file yields a page with its summary,
a form with one input per blank, a live preview, copy buttons and download links;
the library page groups them by category.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import html
import json
import os
import pickle
import sys
from collections.abc import Sequence
from importlib import util
from itertools import groupby
from pathlib import Path

from generator.content.access import PUBLIC, TEASER_DIVIDER
from generator.documents.dates import DEFAULT_LANGUAGE, DateStyle, date_style
from generator.documents.downloads import Download, make_bundle, reproducible_zip
from generator.documents.model import DocumentTemplate, Field, category_order, load_library
from generator.documents.render import fill, html_preview, markdown_skeleton, text_skeleton
from generator.documents.sample import SAMPLE_MARK, sample_html
from generator.documents.sheets import example_table, sheet_preview

PAGES = "templates"  # where the generated pages live on the site
DOWNLOADS = "downloads"
FORMAT_LABELS = {
    "docx": "Word (.docx)",
    "xlsx": "Excel (.xlsx)",
    "csv": "CSV",
    "md": "Markdown (.md)",
    "txt": "Text (.txt)",
}
BADGES = {"docx": "DOCX", "xlsx": "XLSX", "csv": "CSV", "md": "MD", "txt": "TXT"}
WIDGET_MARK = '<div data-mk-document="{slug}"></div>'


def page_path(template: DocumentTemplate) -> str:
    return f"{PAGES}/{template.slug}.md"


def download_path(template: DocumentTemplate, fmt: str) -> str:
    return f"{DOWNLOADS}/{template.slug}.{fmt}"


def bundle_path(tier: str) -> str:
    return f"{DOWNLOADS}/all-templates-{tier}.zip"


#: What a template page's widget needs besides the downloads, cached like them: each
#: costs a Markdown parse of the template.
TEXT_SKELETON, HTML_PREVIEW = "skeleton.txt", "preview.html"


class DocumentLibrary:
    """Loads `templates/` once per build and makes everything the site needs from it."""

    def __init__(
        self,
        templates: Sequence[DocumentTemplate],
        tiers: Sequence[str],
        cache: Path | None = None,
        language: str = DEFAULT_LANGUAGE,
    ) -> None:
        self.templates = sorted(templates, key=lambda t: (category_order(t.category), t.title))
        self.tiers = tuple(tiers)
        # How dates are written in the form, the preview and every download: the site's.
        self.dates = date_style(language)
        self.by_slug = {t.slug: t for t in self.templates}
        self.cache = cache
        self._keys: dict[str, str] = {}  # slug: what the cache knows the template by

    @classmethod
    def load(
        cls,
        folder: Path,
        tiers: Sequence[str],
        default_access: str = "members",
        cache: Path | None = None,
        signing_key: bytes | None = None,
        default_sample: bool = False,
        language: str = DEFAULT_LANGUAGE,
    ) -> tuple[DocumentLibrary, list[str]]:
        """The checked templates of `folder`. With a cache folder and a signing key (the
        private state's), the checked library is kept there and reused. `language` is
        the site's (`theme.language`): it says how dates are written."""
        if not folder.is_dir():
            return cls([], tiers, cache, language), []
        if cache is None or signing_key is None:
            templates, warnings = load_library(
                folder, tiers=tiers, default_access=default_access, default_sample=default_sample
            )
        else:
            templates, warnings = _load_cached(
                folder, tiers, (default_access, default_sample), cache, signing_key
            )
        return cls(templates, tiers, cache, language), warnings

    def __bool__(self) -> bool:
        return bool(self.templates)

    # -- pages -------------------------------------------------------------

    def categories(self) -> list[tuple[str, list[DocumentTemplate]]]:
        return [(c, list(g)) for c, g in groupby(self.templates, key=lambda t: t.category)]

    def bundle_tiers(self) -> list[str]:
        """Tiers that get a "download all" bundle: those that can open some template."""
        return [t for t in self.tiers if any(d.access in (PUBLIC, t) for d in self.templates)]

    def index_markdown(self, sealed: bool = False) -> str:
        lines = [
            "---",
            "title: Templates",
            "description: Copy-and-paste reporting documents to fill in, copy into an email "
            "or chat, or download for Word and Excel.",
            f"access: {PUBLIC}",
            "---",
            "",
            "# Copy-and-paste templates",
            "",
            "Ready-made documents for working with remote freelancers. Open one, fill in the "
            "blanks, then copy it into an email or chat, or download it for Word or Excel.",
            "",
        ]
        for tier in self.bundle_tiers():
            label = "Download all templates" + ("" if len(self.tiers) == 1 else f" ({tier})")
            lines.append(
                f"[:material-folder-zip-outline: {label} (.zip)]"
                f"(../{bundle_path(tier)}{'.mk1' if sealed else ''})"
                "{ .md-button .md-button--primary .mk-bundle }"
            )
        lines.append("")
        for category, templates in self.categories():
            lines += ["", f"## {category}", "", '<div class="grid cards mk-library" markdown>', ""]
            for template in templates:
                badges = " ".join(
                    f'<span class="mk-badge">{BADGES[f]}</span>' for f in template.formats
                )
                lines += [
                    f"-   __[{_md_text(template.title)}]({template.slug}.md)__",
                    "",
                    f"    {_md_text(template.summary)}",
                    "",
                    f"    {badges}",
                    "",
                ]
                if template.shows_sample:
                    link = (
                        f"[See a sample]({template.slug}.md){{ .mk-sample-link .mk1-for-visitors }}"
                    )
                    lines += [f"    {link}", ""]
            lines.append("</div>")
        return "\n".join(lines) + "\n"

    def page_markdown(self, template: DocumentTemplate) -> str:
        formats = _formats(template)
        # Above the divider: public, as the teaser is.
        sample = [SAMPLE_MARK.format(slug=template.slug), ""] if template.shows_sample else []
        return "\n".join(
            [
                "---",
                f"title: {json.dumps(template.title)}",
                f"description: {json.dumps(template.summary)}",
                f"access: {template.access}",
                "hide: [toc]",
                "---",
                "",
                f"# {_md_text(template.title)}",
                "",
                _md_text(template.summary),
                "",
                f"**When to use:** {_md_text(template.when_to_use)}",
                "",
                f"**Formats:** {formats}",
                "",
                *sample,
                TEASER_DIVIDER,
                "",
                "## Fill in, copy and download",
                "",
                WIDGET_MARK.format(slug=template.slug),
                "",
            ]
        )

    def pages(self, sealed: bool = False) -> dict[str, str]:
        """Generated Markdown sources by their path in the docs tree."""
        if not self:
            return {}
        pages = {f"{PAGES}/index.md": self.index_markdown(sealed)}
        for template in self.templates:
            pages[page_path(template)] = self.page_markdown(template)
        return pages

    def nav(self) -> list[str | dict[str, list[str]]]:
        """Nav entries for the library section: the index, then one group per category."""
        entries: list[str | dict[str, list[str]]] = [f"{PAGES}/index.md"]
        for category, templates in self.categories():
            entries.append({category: [page_path(t) for t in templates]})
        return entries

    # -- the widget ----------------------------------------------------------

    def sample(self, slug: str) -> str:
        """The sample a template page shows visitors (its owner chose to show one)."""
        template = self.by_slug[slug]
        return sample_html(template, _formats(template), self.dates)

    def widget(self, slug: str, site_root: str, *, sealed: bool = False) -> str:
        """The form, preview, copy buttons and downloads of one template page.

        `site_root` is the relative URL from the page to the site root (`../../`).
        """
        template = self.by_slug[slug]
        data = {
            "slug": template.slug,
            "title": template.title,
            "labels": template.labels,
            "fields": {f.name: {"label": f.label, "type": f.type} for f in template.fields},
            "dates": {"pattern": self.dates.pattern, "hint": self.dates.hint},
            "markdown": markdown_skeleton(template),
            "text": self._cached(template, TEXT_SKELETON).decode(),
        }
        # In a <template>, not a JSON <script>: Material's instant navigation runs
        # the scripts of a page it brings as JavaScript, whatever their type.
        payload = html.escape(json.dumps(data, ensure_ascii=False), quote=False)
        inputs = "\n".join(_input(template.slug, f, self.dates) for f in template.fields)
        links = []
        suffix = ".mk1" if sealed and template.access != PUBLIC else ""
        for fmt in template.formats:
            href = html.escape(site_root + download_path(template, fmt) + suffix)
            # data-mk-fill: the page puts what the member typed into the file.
            links.append(
                f'<a class="md-button mk-download" href="{href}" download '
                f'data-mk-format="{fmt}" data-mk-fill="1">{FORMAT_LABELS[fmt]}</a>'
            )
        return f"""<div class="mk-doc" data-mk-doc="{html.escape(template.slug)}">
<form class="mk-doc__form" autocomplete="off" aria-label="Fill in the blanks">
{inputs}
<button type="reset" class="md-button mk-doc__reset">Clear the form</button>
</form>
<div class="mk-doc__output">
<div class="mk-doc__actions" role="group" aria-label="Copy">
{_button("text", "Copy as plain text", primary=True)}
{_button("markdown", "Copy as Markdown")}
{_button("rich", "Copy formatted")}
<span class="mk-doc__status" role="status" aria-live="polite"></span>
</div>
<section class="mk-doc__preview" aria-label="Preview" tabindex="0">
{self._cached(template, HTML_PREVIEW).decode()}
</section>
<div class="mk-doc__downloads" role="group" aria-label="Download">
<span class="mk-doc__downloads-label">Download:</span>
{"".join(links)}
</div>
</div>
<template class="mk-doc__data">{payload}</template>
</div>
{self._example(template)}"""

    def _example(self, template: DocumentTemplate) -> str:
        """A spreadsheet's example rows, shown as an example only (never downloaded)."""
        if template.sheet is None or not template.sheet.rows:
            return ""
        return (
            '<details class="mk-doc__example">\n'
            "<summary>Example: the sheet filled in (not part of your downloads)</summary>\n"
            '<div class="mk-doc__example-table" role="region" aria-label="Example sheet" '
            f'tabindex="0">{example_table(template, self.dates)}</div>\n'
            "</details>\n"
        )

    # -- downloads -----------------------------------------------------------

    def downloads(self) -> list[Download]:
        """Every file of every template, and one "download all" bundle per tier."""
        files: list[Download] = []
        for template in self.templates:
            for fmt in template.formats:
                content = self._cached(template, fmt)
                files.append(Download(download_path(template, fmt), content, template.access))
        for tier in self.bundle_tiers():
            members = [(f.name, f.content) for f in files if f.tier in (PUBLIC, tier)]
            files.append(make_bundle(bundle_path(tier), members, tier))
        return files

    def _cached(self, template: DocumentTemplate, fmt: str) -> bytes:
        """Reuse what was made for an unchanged template: Word and Excel files are slow to
        make (their libraries alone take a while to load), and even the text copies and
        the page's preview cost a Markdown parse each, which small sites notice.

        The key covers the template, the format and the renderers' own code, so a new
        memberkit version or an edited template never serves a stale file.
        """
        if self.cache is None:
            return _render(template, fmt, self.dates)
        known = self._keys.get(template.slug)
        if known is None:  # the whole template, once: its repr is long
            made = f"{_RENDERER}|{self.dates.pattern}|{template!r}"
            known = hashlib.sha256(made.encode()).hexdigest()
            self._keys[template.slug] = known
        key = hashlib.sha256(f"{known}|{fmt}".encode()).hexdigest()
        path = self.cache / f"{template.slug}-{key[:32]}.{fmt}"
        if path.is_file():
            return path.read_bytes()
        content = _render(template, fmt, self.dates)
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f".{path.name}.{os.getpid()}")
        scratch.write_bytes(content)
        scratch.replace(path)
        return content


def _load_cached(
    folder: Path,
    tiers: Sequence[str],
    defaults: tuple[str, bool],
    cache: Path,
    signing_key: bytes,
) -> tuple[list[DocumentTemplate], list[str]]:
    """The checked library as the last build left it, while no template, setting,
    library or line of memberkit has changed: reading the templates' YAML is most of a
    small build's own time. Only a library that passed its checks is kept, so a broken
    template is reported at every build. It is a pickle, signed with the private
    state's key: one that is not this site's own is never loaded."""
    default_access, default_sample = defaults  # the settings templates follow
    key = hashlib.sha256(f"{_RENDERER}|{folder.resolve()}|{list(tiers)}|{defaults}".encode())
    for source in sorted(folder.glob("*.md")):
        key.update(f"\0{source.name}\0{source.stat().st_size}\0".encode())
        key.update(source.read_bytes())
    path = cache / f"library-{key.hexdigest()[:32]}.pickle"
    with contextlib.suppress(Exception):  # missing, unsigned or unreadable: read anew
        stored = path.read_bytes()
        tag, body = stored[:32], stored[32:]
        if hmac.compare_digest(tag, hmac.new(signing_key, body, hashlib.sha256).digest()):
            templates, warnings = pickle.loads(body)
            return templates, warnings
    loaded = load_library(
        folder, tiers=tiers, default_access=default_access, default_sample=default_sample
    )
    cache.mkdir(parents=True, exist_ok=True)
    for stale in cache.glob("library-*.pickle"):
        stale.unlink(missing_ok=True)
    body = pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL)
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    scratch.write_bytes(hmac.new(signing_key, body, hashlib.sha256).digest() + body)
    scratch.replace(path)
    return loaded


def _renderer_fingerprint() -> str:
    """A hash of everything that shapes what is cached: all of memberkit's code, the
    Python and the libraries that read templates and write the files."""
    digest = hashlib.sha256(sys.version.encode())
    package = Path(__file__).parent.parent
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0")
        digest.update(source.read_bytes())
    # An installed library changes its files: their place, size and time tell (without
    # importing Word and Excel support, or reading package metadata, on every build).
    for module in ("yaml", "markdown", "docx", "openpyxl"):
        with contextlib.suppress(ImportError, ValueError, OSError):
            spec = util.find_spec(module)
            if spec is not None and spec.origin:
                found = os.stat(spec.origin)
                digest.update(f"|{spec.origin}:{found.st_size}:{found.st_mtime_ns}".encode())
    return digest.hexdigest()


_RENDERER = _renderer_fingerprint()


def _render(template: DocumentTemplate, fmt: str, dates: DateStyle) -> bytes:
    # python-docx and openpyxl load only when a file is made (not on a cached build).
    if fmt == "docx":
        from generator.documents.word import to_docx

        return reproducible_zip(to_docx(template))
    if fmt == "xlsx":
        from generator.documents.spreadsheet import to_xlsx

        return reproducible_zip(to_xlsx(template, dates))
    if fmt == "csv":
        from generator.documents.spreadsheet import to_csv

        return to_csv(template)
    if fmt == "md":
        return fill(markdown_skeleton(template), template.labels).encode()
    if fmt == "txt":
        return fill(text_skeleton(template), template.labels).encode()
    if fmt == TEXT_SKELETON:
        return text_skeleton(template).encode()
    if fmt == HTML_PREVIEW:
        sheet = sheet_preview(template, dates) + "\n" if template.is_spreadsheet else ""
        return (sheet + html_preview(template)).encode()
    raise ValueError(f"unknown format {fmt!r}")


def _button(kind: str, label: str, *, primary: bool = False) -> str:
    css = "md-button md-button--primary" if primary else "md-button"
    return f'<button type="button" class="{css}" data-mk-copy="{kind}">{label}</button>'


def _formats(template: DocumentTemplate) -> str:
    return " · ".join(FORMAT_LABELS[f] for f in template.formats)


def _input(slug: str, field: Field, dates: DateStyle) -> str:
    ident = html.escape(f"mk-{slug}-{field.name}")
    label = f'<label for="{ident}">{html.escape(field.label)}</label>'
    common = f'id="{ident}" name="{html.escape(field.name)}"'
    example = dates.format_text(field.example) if field.type == "date" else field.example
    # How to answer: under the input, read with it (never part of the document); a
    # date's format, under it too.
    described = [f"{ident}-format"] if field.type == "date" else []
    note = ""
    if field.hint:
        described.append(f"{ident}-hint")
        note = f'<p class="mk-doc__hint" id="{ident}-hint">{html.escape(field.hint)}</p>'
    if described:
        common += f' aria-describedby="{" ".join(described)}"'
    # The example reads as a hint, not as a value already typed: "e.g. 6.5", in italics.
    hint = f' placeholder="e.g. {html.escape(example)}"' if example else ""
    if field.type == "date":
        # A text field in the site's own date style: the browser's date input writes
        # dates in the browser's language, whatever the site's (documents.js checks it).
        control = (
            f'<input {common} type="text" data-mk-date{hint}>'
            f'<span class="mk-doc__format" '
            f'id="{ident}-format" aria-live="polite">Format: {html.escape(dates.hint)}</span>'
        )
    elif field.type == "paragraph":
        control = f'<textarea {common} rows="3"{hint}></textarea>'
    elif field.type == "choice":
        options = "".join(
            f'<option value="{html.escape(c)}">{html.escape(c)}</option>' for c in field.choices
        )
        control = f'<select {common}><option value="">Choose…</option>{options}</select>'
    else:
        kind = {"number": "number", "email": "email"}.get(field.type, "text")
        step = ' step="any"' if kind == "number" else ""
        control = f'<input {common} type="{kind}"{step}{hint}>'
    return f'<div class="mk-doc__field">{label}{control}{note}</div>'


def _md_text(text: str) -> str:
    """Plain owner text placed in generated Markdown: no accidental markup."""
    return html.escape(text, quote=False).replace("*", "\\*").replace("_", "\\_")
