"""A template's sample: what a visitor sees of a members' template whose owner shows one.

The document filled in with each field's example, read only, under a "Sample" heading
with the offer to join or sign in beside it. A spreadsheet's sample is its sheet as the
file lays it out: the title, the fields, the table with its example rows and their
totals, then the "How to use" notes. It is public: it holds the template's own text
and examples, and nothing else of the members' page (no hints, no downloads).
"""

from __future__ import annotations

import html

from generator.documents.dates import DateStyle
from generator.documents.model import DocumentTemplate, Sheet
from generator.documents.render import FILLED, html_preview
from generator.documents.sheets import example_table

#: Where a template page's sample goes, above the members' part (its teaser).
SAMPLE_MARK = '<div data-mk-sample="{slug}"></div>'
#: Where the sample's join button leads: filled in like any `memberkit:join` link.
JOIN_HREF = "memberkit:join"
#: The members' part of a page, where a visitor signs in.
SIGN_IN_HREF = "#mk1-members"


def sample_values(template: DocumentTemplate, dates: DateStyle) -> dict[str, str]:
    """Each field's example, a date in the site's style."""
    return {
        f.name: dates.format_text(f.example) if f.type == "date" else f.example
        for f in template.fields
    }


def sample_html(template: DocumentTemplate, formats: str, dates: DateStyle) -> str:
    """The sample section of a template page; `formats`: the downloads, as the page
    names them ("Word (.docx) · Markdown (.md)")."""
    slug = html.escape(template.slug)
    title = html.escape(template.title)
    if template.sheet is None:
        document = html_preview(template, sample_values(template, dates), below=2)
    else:
        document = _sheet_sample(template, template.sheet, dates)
    return f"""<section class="mk-sample mk1-for-visitors" aria-labelledby="mk-sample-{slug}">
<div class="mk-sample__head">
<h2 id="mk-sample-{slug}" class="mk-sample__title">Sample</h2>
<p class="mk-sample__note">{title}, filled in with example answers. Members fill in
their own, see it take shape as they type, copy it, and download it: {html.escape(formats)}.</p>
<p class="mk-sample__offer"><a class="md-button md-button--primary" href="{JOIN_HREF}">Join to \
use this template</a> <a class="md-button" href="{SIGN_IN_HREF}">Members: sign in</a></p>
</div>
<div class="mk-sample__document" role="region" aria-label="Sample: {title}" tabindex="0">
{document}
</div>
</section>"""


def _sheet_sample(template: DocumentTemplate, sheet: Sheet, dates: DateStyle) -> str:
    """The spreadsheet as its file lays it out, with the example answers and rows."""
    values = sample_values(template, dates)
    fields = "".join(
        f"<li><strong>{html.escape(f.label)}:</strong> "
        f'<span class="{FILLED}">{html.escape(values[f.name])}</span></li>'
        for f in template.fields
    )
    notes = html_preview(template, values, below=3)
    return (
        f"<h3>{html.escape(template.title)}</h3>\n"
        f'<ul class="mk-sample__fields">{fields}</ul>\n'
        f'<div class="mk-sample__sheet" role="region" aria-label="{html.escape(sheet.name)}" '
        f'tabindex="0">{example_table(template, dates)}</div>\n'
        f"<h3>How to use</h3>\n{notes}"
    )
