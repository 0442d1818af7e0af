"""The document template model: front matter, fields, blanks and spreadsheet specs.

A document template is one Markdown file in `templates/` with YAML front matter. The
owner writes it; members fill in its blanks (`{{ field_name }}`), copy it and download
it. Everything here is checked strictly, with errors that name the file, the line or
the field, because a mistake found by a member is a mistake found too late.

One module, over 400 lines, on purpose: it is the whole schema of one file format,
each type beside the checks that guard it; split, a field's type and its rules
would sit in two places.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.content.access import PUBLIC, body_start, read_front_matter
from generator.errors import MemberkitError

#: A blank in a template body: `{{ field_name }}`, spaces optional.
BLANK = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
#: A field names a hidden bookmark in the Word file (`_mk12_name`), and Word keeps
#: bookmark names of at most 40 characters.
MAX_FIELD_NAME = 32
#: Names Excel reads as a cell (`ab12`) or an R1C1 reference (`r`, `c2`, `r1c1`): a
#: spreadsheet's field names its cell, so it may not look like one.
_CELL_LIKE = re.compile(r"^(?:[a-z]{1,3}[0-9]+|r[0-9]*|c[0-9]*|r[0-9]*c[0-9]*)$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

FIELD_TYPES = ("text", "paragraph", "date", "number", "email", "choice")
CATEGORIES_ORDER = (
    "Reporting",
    "Tasks and briefs",
    "Hiring",
    "Money and agreements",
    "Reviews and endings",
)
DOCUMENT_FORMATS = ("docx", "md", "txt")
SHEET_FORMATS = ("xlsx", "csv")
REQUIRED = ("title", "summary", "category", "when_to_use", "fields")
KNOWN_KEYS = {*REQUIRED, "access", "formats", "kind", "sample", "sheet", "slug"}
FIELD_KEYS = ("name", "label", "example", "hint", "type", "choices")
#: The fewest empty rows a downloaded sheet gives the member to fill.
MIN_FILL_ROWS = 10


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    example: str
    type: str = "text"
    choices: tuple[str, ...] = ()
    #: How to answer, shown under the input: for the form, never in the document.
    hint: str = ""


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    type: str = "text"
    formula: str | None = None
    format: str | None = None
    width: int | None = None


@dataclass(frozen=True)
class Sheet:
    name: str
    columns: tuple[Column, ...]
    rows: tuple[Mapping[str, Any], ...]
    blank_rows: int
    totals: tuple[str, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def fill_rows(self) -> int:
        """The empty rows of a downloaded sheet: the example's rows are only an example
        (shown on the page), so the member gets as many rows as it had, and the
        `blank_rows` on top, and never fewer than MIN_FILL_ROWS."""
        return max(len(self.rows) + self.blank_rows, MIN_FILL_ROWS)

    def computed_rows(self) -> list[dict[str, Any]]:
        """Example rows with every formula evaluated (the example shown on the page)."""
        rows = []
        for raw in self.rows:
            row: dict[str, Any] = {c.key: raw.get(c.key) for c in self.columns}
            for column in self.columns:
                if column.formula:
                    row[column.key] = evaluate(column.formula, row)
            rows.append(row)
        return rows

    def computed_totals(self) -> dict[str, float]:
        rows = self.computed_rows()
        return {key: round(sum(float(r[key] or 0) for r in rows), 10) for key in self.totals}


@dataclass(frozen=True)
class DocumentTemplate:
    slug: str
    source: str  # how errors name the file, e.g. templates/weekly-report.md
    title: str
    summary: str
    category: str
    when_to_use: str
    access: str
    fields: tuple[Field, ...]
    body: str
    body_line: int  # line number of the body's first line in the source file
    formats: tuple[str, ...]
    sheet: Sheet | None = None
    labels: dict[str, str] = field(default_factory=dict, compare=False)
    #: The owner shows visitors the document filled in with its examples.
    sample: bool = False

    @property
    def is_spreadsheet(self) -> bool:
        return self.sheet is not None

    @property
    def shows_sample(self) -> bool:
        """A sample on the page for visitors: of a members' template (a public one
        shows visitors its whole form already)."""
        return self.sample and self.access != PUBLIC


# -- Formulas -----------------------------------------------------------------

_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.USub,
    ast.UAdd,
)


def parse_formula(formula: str, keys: Iterable[str]) -> ast.Expression:
    """Check a same-row formula: arithmetic on column keys and numbers only."""
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError:
        raise ValueError(f"formula {formula!r} is not valid arithmetic") from None
    known = set(keys)
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ValueError(
                f"formula {formula!r} may only use column keys, numbers, + - * / and brackets"
            )
        if isinstance(node, ast.Name) and node.id not in known:
            raise ValueError(f"formula {formula!r} names {node.id!r}, which is not a column key")
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ValueError(f"formula {formula!r} holds {node.value!r}, which is not a number")
    return tree


def evaluate(formula: str, row: Mapping[str, Any]) -> float:
    """Compute a formula for one row, as a spreadsheet would (empty cells count as 0)."""

    def value(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            return float(row.get(node.id) or 0)
        if isinstance(node, ast.UnaryOp):
            return -value(node.operand) if isinstance(node.op, ast.USub) else value(node.operand)
        if isinstance(node, ast.BinOp):
            left, right = value(node.left), value(node.right)
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult):
                return left * right
            return left / right if right else 0.0
        raise ValueError(f"unsupported formula part: {ast.dump(node)}")

    return round(value(parse_formula(formula, row.keys())), 10)


def excel_formula(formula: str, cells: Mapping[str, str]) -> str:
    """Translate `rate * hours` into `=D5*E5` given each key's cell in the row."""
    tree = parse_formula(formula, cells.keys())

    class _Cells(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.Name:
            return ast.copy_location(ast.Name(id=cells[node.id], ctx=node.ctx), node)

    return "=" + ast.unparse(_Cells().visit(tree)).replace(" ", "")


# -- Loading ------------------------------------------------------------------


def _text(meta: Mapping[str, Any], key: str, where: str) -> str:
    value = meta.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise MemberkitError(f"front matter {key!r} must be non-empty text", path=where)
    return value.strip()


def _load_fields(raw: Any, where: str) -> tuple[Field, ...]:
    if not isinstance(raw, list) or not raw:
        raise MemberkitError(
            "front matter 'fields' must be a list of blanks (name, label, example)", path=where
        )
    fields: list[Field] = []
    for index, item in enumerate(raw, start=1):
        at = f"fields[{index}]"
        if not isinstance(item, dict):
            raise MemberkitError(f"{at} must be a mapping with name, label and example", path=where)
        name = item.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise MemberkitError(
                f"{at}: 'name' {name!r} must be lowercase letters, digits or '_', "
                "starting with a letter",
                path=where,
            )
        if len(name) > MAX_FIELD_NAME:
            raise MemberkitError(
                f"{at}: 'name' {name!r} is longer than {MAX_FIELD_NAME} characters; "
                "shorten it (it names the blank in the Word file)",
                path=where,
            )
        at = f"field {name!r}"
        for key in ("label", "example"):
            if key not in item or item[key] is None or str(item[key]).strip() == "":
                raise MemberkitError(f"{at} is missing {key!r}", path=where)
        unknown = set(item) - set(FIELD_KEYS)
        if unknown:
            raise MemberkitError(
                f"{at} has unknown key(s) {', '.join(sorted(unknown))}; "
                f"use {', '.join(FIELD_KEYS)}",
                path=where,
            )
        hint = _hint(item, at, where)
        kind = item.get("type", "text")
        if kind not in FIELD_TYPES:
            raise MemberkitError(
                f"{at} has unknown type {kind!r}; use one of: {', '.join(FIELD_TYPES)}",
                path=where,
            )
        example = str(item["example"]).strip()
        choices: tuple[str, ...] = ()
        if kind == "choice":
            raw_choices = item.get("choices")
            if not isinstance(raw_choices, list) or len(raw_choices) < 2:
                raise MemberkitError(
                    f"{at} of type choice needs 'choices': [A, B, ...]", path=where
                )
            choices = tuple(str(c) for c in raw_choices)
            if example not in choices:
                raise MemberkitError(
                    f"{at}: example {example!r} is not one of its choices", path=where
                )
        elif "choices" in item:
            raise MemberkitError(f"{at} has 'choices' but is not of type choice", path=where)
        if kind == "number":
            try:
                float(example)
            except ValueError:
                raise MemberkitError(
                    f"{at}: example {example!r} is not a number", path=where
                ) from None
        if kind == "date" and not re.match(r"^\d{4}-\d{2}-\d{2}$", example):
            raise MemberkitError(f"{at}: example {example!r} is not a YYYY-MM-DD date", path=where)
        if any(f.name == name for f in fields):
            raise MemberkitError(f"{at} is declared twice", path=where)
        label = str(item["label"]).strip()
        same = next((f.name for f in fields if f.label.casefold() == label.casefold()), None)
        if same is not None:
            raise MemberkitError(
                f"{at} has the label {label!r} of field {same!r}; give each blank its own "
                "label (members tell the inputs apart by it, and so do the Excel downloads)",
                path=where,
            )
        fields.append(Field(name, label, example, kind, choices, hint))
    return tuple(fields)


def _hint(item: Mapping[str, Any], at: str, where: str) -> str:
    """A field's writing hint: one line of plain text, or none."""
    if "hint" not in item:
        return ""
    raw = item["hint"]
    if not isinstance(raw, str) or not raw.strip():
        raise MemberkitError(
            f"{at}: 'hint' must be text, such as: hint: List finished work only.; "
            "remove the key for no hint",
            path=where,
        )
    hint = " ".join(raw.split())
    if found := BLANK.search(hint):
        raise MemberkitError(
            f"{at}: 'hint' holds the blank {found.group(0)}, but a hint is shown under the "
            'input as it is, never filled in; write it without a blank ("your client")',
            path=where,
        )
    return hint


def _check_cell_names(fields: Sequence[Field], where: str) -> None:
    """A spreadsheet's fields name their cells (Excel's defined names)."""
    for item in fields:
        if _CELL_LIKE.match(item.name):
            raise MemberkitError(
                f"field {item.name!r} names its cell in the Excel file, but Excel reads "
                f"{item.name!r} as a cell reference; rename it (for example {item.name}_value)",
                path=where,
            )


def _load_sheet(raw: Any, where: str) -> Sheet:
    def bad(message: str) -> MemberkitError:
        return MemberkitError(f"spreadsheet spec 'sheet': {message}", path=where)

    if not isinstance(raw, dict):
        raise bad("must be a mapping with name, columns, rows, blank_rows, totals")
    name = raw.get("name")
    if not isinstance(name, str) or not 0 < len(name) <= 31 or re.search(r"[\[\]:*?/\\]", name):
        raise bad("'name' must be 1 to 31 characters without [ ] : * ? / \\")
    raw_columns = raw.get("columns")
    if not isinstance(raw_columns, list) or not raw_columns:
        raise bad("'columns' must be a list of {key, header, ...}")
    columns: list[Column] = []
    for index, item in enumerate(raw_columns, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise bad(f"column {index} needs a 'key'")
        key = item["key"]
        if not _NAME.match(key) or any(c.key == key for c in columns):
            raise bad(f"column key {key!r} must be unique, lowercase letters, digits or '_'")
        if not isinstance(item.get("header"), str):
            raise bad(f"column {key!r} needs a 'header'")
        kind = item.get("type", "number" if "formula" in item else "text")
        if kind not in ("text", "number", "date"):
            raise bad(f"column {key!r} has unknown type {kind!r}; use text, number or date")
        fmt = item.get("format")
        if fmt not in (None, "money", "percent", "integer"):
            raise bad(f"column {key!r} has unknown format {fmt!r}; use money, percent or integer")
        width = item.get("width")
        if width is not None and (not isinstance(width, int) or not 2 <= width <= 120):
            raise bad(f"column {key!r}: 'width' must be a whole number from 2 to 120")
        columns.append(Column(key, item["header"], kind, item.get("formula"), fmt, width))
    keys = [c.key for c in columns]
    for column in columns:
        if column.formula is not None:
            try:
                parse_formula(str(column.formula), keys)
            except ValueError as error:
                raise bad(f"column {column.key!r}: {error}") from None
    raw_rows = raw.get("rows", [])
    if not isinstance(raw_rows, list) or not all(isinstance(r, dict) for r in raw_rows):
        raise bad("'rows' must be a list of {key: value} mappings")
    for number, row in enumerate(raw_rows, start=1):
        for key, value in row.items():
            if key not in keys:
                raise bad(f"row {number} names {key!r}, which is not a column key")
            column = columns[keys.index(key)]
            if column.formula:
                raise bad(f"row {number} gives a value for {key!r}, which is a formula column")
            if column.type == "number" and not isinstance(value, int | float):
                raise bad(f"row {number}: {key!r} must be a number, got {value!r}")
    blank_rows = raw.get("blank_rows", 0)
    if not isinstance(blank_rows, int) or not 0 <= blank_rows <= 500:
        raise bad("'blank_rows' must be a whole number from 0 to 500")
    totals = raw.get("totals", [])
    if not isinstance(totals, list) or any(t not in keys for t in totals):
        raise bad(f"'totals' must list column keys among: {', '.join(keys)}")
    for key in totals:
        if columns[keys.index(key)].type != "number":
            raise bad(f"'totals' names {key!r}, which is not a number column")
    unknown = set(raw) - {"name", "columns", "rows", "blank_rows", "totals"}
    if unknown:
        raise bad(f"unknown key(s) {', '.join(sorted(unknown))}")
    return Sheet(name, tuple(columns), tuple(raw_rows), blank_rows, tuple(totals))


def _check_blanks(body: str, body_line: int, fields: Sequence[Field], where: str) -> list[str]:
    """Undeclared blanks are errors (with their line); unused fields are returned."""
    declared = {f.name for f in fields}
    used: set[str] = set()
    for match in BLANK.finditer(body):
        name = match.group(1)
        line = body_line + body.count("\n", 0, match.start())
        if name not in declared:
            raise MemberkitError(
                f"blank {{{{ {name} }}}} is not declared in 'fields'; add it there "
                "(name, label, example) or fix its spelling",
                path=where,
                line=line,
            )
        used.add(name)
    return [f.name for f in fields if f.name not in used]


def load_template(
    path: Path,
    *,
    root: Path,
    tiers: Sequence[str],
    default_access: str = "members",
    default_sample: bool = False,
) -> tuple[DocumentTemplate, list[str]]:
    """Read and check one template file; returns it with warnings (unused fields)."""
    where = path.relative_to(root.parent).as_posix() if root.parent in path.parents else str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MemberkitError(f"cannot read the file: {error}", path=where) from None
    meta = read_front_matter(text, where)
    if not meta:
        raise MemberkitError(
            f"has no front matter; start the file with a '---' block holding {', '.join(REQUIRED)}",
            path=where,
        )
    missing = [key for key in REQUIRED if key not in meta]
    if missing:
        raise MemberkitError(
            f"front matter is missing {', '.join(repr(k) for k in missing)}", path=where
        )
    unknown = set(meta) - KNOWN_KEYS
    if unknown:
        raise MemberkitError(
            f"front matter has unknown key(s) {', '.join(sorted(unknown))}; "
            f"known keys: {', '.join(sorted(KNOWN_KEYS))}",
            path=where,
        )
    slug = meta.get("slug", path.stem)
    if not isinstance(slug, str) or not _SLUG.match(slug):
        raise MemberkitError(
            f"slug {slug!r} must be lowercase words joined by '-' (rename the file or set 'slug')",
            path=where,
        )
    access = meta.get("access", default_access)
    if access != PUBLIC and access not in tiers:
        raise MemberkitError(
            f"front matter 'access' is {access!r}; expected one of: {', '.join([PUBLIC, *tiers])}",
            path=where,
        )
    sample = meta.get("sample", default_sample)
    if not isinstance(sample, bool):
        raise MemberkitError(
            f"front matter 'sample' is {sample!r}; use true (visitors see the document "
            "filled in with its examples) or false",
            path=where,
        )
    kind = meta.get("kind", "document")
    if kind not in ("document", "spreadsheet"):
        raise MemberkitError(
            f"front matter 'kind' is {kind!r}; use document or spreadsheet", path=where
        )
    sheet = _load_sheet(meta.get("sheet"), where) if kind == "spreadsheet" else None
    if kind != "spreadsheet" and "sheet" in meta:
        raise MemberkitError("has a 'sheet' spec; add 'kind: spreadsheet' too", path=where)
    allowed = DOCUMENT_FORMATS + (SHEET_FORMATS if sheet else ())
    formats = meta.get("formats", list(allowed))
    if not isinstance(formats, list) or not formats or any(f not in allowed for f in formats):
        raise MemberkitError(
            f"front matter 'formats' must list some of: {', '.join(allowed)}", path=where
        )
    fields = _load_fields(meta["fields"], where)
    if sheet is not None:
        _check_cell_names(fields, where)
    start = body_start(text)
    body, body_line = text[start:], text.count("\n", 0, start) + 1
    if not body.strip():
        raise MemberkitError("has no body below the front matter", path=where)
    unused = _check_blanks(body, body_line, fields, where)
    warnings = [
        f"{where}: field {name!r} is declared but its blank {{{{ {name} }}}} is never used; "
        "use it in the body or remove it from 'fields'"
        for name in unused
    ]
    template = DocumentTemplate(
        slug=slug,
        source=where,
        title=_text(meta, "title", where),
        summary=_text(meta, "summary", where),
        category=_text(meta, "category", where),
        when_to_use=_text(meta, "when_to_use", where),
        access=access,
        fields=fields,
        body=body.strip("\n") + "\n",
        body_line=body_line,
        formats=tuple(f for f in allowed if f in formats),
        sheet=sheet,
        labels={f.name: f.label for f in fields},
        sample=sample,
    )
    return template, warnings


def load_library(
    folder: Path,
    *,
    tiers: Sequence[str],
    default_access: str = "members",
    default_sample: bool = False,
) -> tuple[list[DocumentTemplate], list[str]]:
    """Every `*.md` in the templates folder, checked; duplicate slugs are an error."""
    templates: list[DocumentTemplate] = []
    warnings: list[str] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.md")):
        template, found = load_template(
            path,
            root=folder,
            tiers=tiers,
            default_access=default_access,
            default_sample=default_sample,
        )
        if template.slug in seen:
            raise MemberkitError(
                f"slug {template.slug!r} is also used by {seen[template.slug]}; "
                "give one of them another 'slug'",
                path=template.source,
            )
        seen[template.slug] = template.source
        templates.append(template)
        warnings.extend(found)
    return templates, warnings


def category_order(category: str) -> tuple[int, str]:
    known = CATEGORIES_ORDER.index(category) if category in CATEGORIES_ORDER else 99
    return known, category
