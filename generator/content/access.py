"""Who may read what: front matter, tiers and the teaser divider.

No MkDocs import: the plugin hands in a page's source text and its path, and gets
back a `PageAccess` or a `MemberkitError` that names the file and says how to fix it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from generator.errors import MemberkitError

PUBLIC = "public"

#: What is above this line is the public teaser; what follows is for members.
TEASER_DIVIDER = "<!-- more -->"

# The divider must stand alone on its line; spacing inside the comment is forgiven.
# The pattern starts at the comment, which the regex engine finds fast; what precedes
# it on its line is checked by `_dividers` (a pattern starting with "^" costs 14 times
# as much on every page).
_DIVIDER = re.compile(r"<!--\s*more\s*-->[ \t]*$", re.MULTILINE)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?(?:---|\.\.\.)[ \t]*\r?$", re.DOTALL | re.M)
# libyaml's loader when the platform has it: the same results, several times faster.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TIER_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


@dataclass(frozen=True)
class PageAccess:
    """The audience of one page and where its teaser ends."""

    tier: str
    """`public`, or the name of the tier whose members may read the whole page."""
    has_divider: bool

    @property
    def protected(self) -> bool:
        return self.tier != PUBLIC


def validate_tiers(tiers: Sequence[str]) -> tuple[str, ...]:
    """Check the tier names declared in the plugin config."""
    if not tiers:
        raise MemberkitError(
            "plugins.memberkit.tiers is empty: declare at least one tier, e.g. [members]",
            path="mkdocs.yml",
        )
    seen: set[str] = set()
    for name in tiers:
        if name == PUBLIC or not _TIER_NAME.match(name):
            raise MemberkitError(
                f"tier name {name!r} in plugins.memberkit.tiers is not allowed: use lowercase "
                f"letters, digits, '-' or '_', starting with a letter, and not {PUBLIC!r}",
                path="mkdocs.yml",
            )
        if name in seen:
            raise MemberkitError(
                f"tier {name!r} is listed twice in plugins.memberkit.tiers", path="mkdocs.yml"
            )
        seen.add(name)
    return tuple(tiers)


def read_front_matter(text: str, path: str) -> dict[str, Any]:
    """Parse the YAML front matter of a Markdown source, strictly.

    MkDocs quietly ignores front matter it cannot parse and would publish it as
    page text; for a members-only page that could expose what was meant to be
    hidden, so a broken block is an error here, with its line number.
    """
    match = _FRONT_MATTER.match(text)
    if not match:
        if text.startswith("---") and text.split("\n", 1)[0].strip() == "---":
            raise MemberkitError(
                "front matter starts with '---' but has no closing '---' line", path=path, line=1
            )
        return {}
    try:
        data = yaml.load(match.group(1) or "", Loader=_SAFE_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1  # +1 for the opening '---', +1 1-based
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise MemberkitError(
            f"front matter is not valid YAML ({problem}); check quoting and indentation",
            path=path,
            line=line,
        ) from None
    except ValueError as error:  # a date YAML recognises but the calendar does not
        raise _impossible_value(match.group(1) or "", path, error) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MemberkitError(
            "front matter must be a mapping of 'key: value' lines", path=path, line=2
        )
    return data


def _impossible_value(block: str, path: str, error: ValueError) -> MemberkitError:
    """Name the field (and its line) of a date such as 2027-13-45."""
    with contextlib.suppress(yaml.YAMLError):
        raw = yaml.load(block, Loader=yaml.BaseLoader)  # every value as written
        for key, value in raw.items() if isinstance(raw, dict) else ():
            if isinstance(value, str) and _DATE_LIKE.match(value):
                try:
                    dt.date.fromisoformat(value[:10])
                except ValueError:
                    found = re.search(rf"^{re.escape(key)}\s*:", block, re.MULTILINE)
                    line = block.count("\n", 0, found.start()) + 2 if found else None
                    return MemberkitError(
                        f"front matter {key!r} is {value!r}, which is not a date ({error}); "
                        "write it as YYYY-MM-DD, e.g. 2027-01-15",
                        path=path,
                        line=line,
                    )
    return MemberkitError(f"front matter holds an impossible value ({error})", path=path, line=1)


def body_start(text: str) -> int:
    """Offset of the first character after the front matter block (0 without one)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return 0
    end = match.end()
    return end + 1 if text[end : end + 1] == "\n" else end


#: Folder defaults that name the whole site: `access: {/: members}` makes every page
#: members-only but those whose front matter says `access: public`.
WHOLE_SITE = ("", "/", ".", "./", "*")


def default_tier(src_uri: str, folder_defaults: Mapping[str, str]) -> str:
    """The tier a page gets when its front matter does not say: longest folder wins."""
    best, best_len = PUBLIC, -1
    for folder, tier in folder_defaults.items():
        prefix = "" if folder.strip() in WHOLE_SITE else folder.strip("/") + "/"
        if src_uri.startswith(prefix) and len(prefix) > best_len:
            best, best_len = tier, len(prefix)
    return best


_TOP_KEY = re.compile(r"^([^\s#:'\"-][^:\n]*?|'[^'\n]*'|\"[^\"\n]*\")[ \t]*:(?:[ \t]|$)", re.M)


def duplicate_key(text: str, path: str) -> None:
    """Refuse a front matter key written twice: YAML keeps the last one silently, and
    a second `access:` under a first one would publish a paid page in full."""
    match = _FRONT_MATTER.match(text)
    if not match or not match.group(1):
        return
    block = match.group(1)
    seen: set[str] = set()
    for key in _TOP_KEY.finditer(block):
        name = key.group(1).strip("'\"")
        if name in seen:
            line = block.count("\n", 0, key.start()) + 2
            raise MemberkitError(
                f"front matter has {name!r} twice; YAML would keep only the last one. "
                "Keep one of them",
                path=path,
                line=line,
            )
        seen.add(name)


#: The front matter keys whose misspelling would publish or release a page unseen: an
#: `Access: members` ignored is a paid page gone public.
GUARDED_KEYS = ("access", "available")


def misspelled_key(meta: Mapping[str, Any], text: str, path: str) -> None:
    """Refuse a front matter key that differs from a guarded key only by case or one
    typo (a letter missing, added, changed, or two swapped): ignored as written, it
    would leave the page to its folder's default."""
    for key in meta:
        name = str(key)
        for wanted in GUARDED_KEYS:
            if name != wanted and _one_typo(name.lower(), wanted):
                found = re.search(rf"^{re.escape(name)}[ \t]*:", text, re.M)
                raise MemberkitError(
                    f"front matter key {name!r} is not one memberkit reads; did you mean "
                    f"{wanted!r}? As written it is ignored. Write {wanted!r}",
                    path=path,
                    line=text.count("\n", 0, found.start()) + 1 if found else None,
                )


def _one_typo(name: str, wanted: str) -> bool:
    """`name` equals `wanted` or is one edit from it (optimal string alignment)."""
    if name == wanted:
        return True
    if abs(len(name) - len(wanted)) > 1:
        return False
    before = list(range(len(wanted) + 1))
    previous: list[int] = []
    for i, a in enumerate(name, 1):
        row = [i]
        for j, b in enumerate(wanted, 1):
            cost = min(before[j] + 1, row[j - 1] + 1, before[j - 1] + (a != b))
            if i > 1 and j > 1 and a == wanted[j - 2] and name[i - 2] == b:
                cost = min(cost, previous[j - 2] + 1)
            row.append(cost)
        previous, before = before, row
    return before[-1] <= 1


def page_access(
    text: str,
    src_uri: str,
    *,
    tiers: Sequence[str],
    folder_defaults: Mapping[str, str],
    path: str | None = None,
    meta: Mapping[str, Any] | None = None,
) -> PageAccess:
    """Validate what memberkit owns in a page source and say who may read it.

    `path` is how the file is named in errors (defaults to `src_uri`). `meta` is the
    front matter MkDocs already parsed: when it is there, the YAML is not read twice.
    """
    where = path or src_uri
    if not meta:
        meta = read_front_matter(text, where)
    allowed = ", ".join([PUBLIC, *tiers])

    misspelled_key(meta, text, where)
    tier = meta.get("access", default_tier(src_uri, folder_defaults))
    if not isinstance(tier, str) or (tier != PUBLIC and tier not in tiers):
        raise MemberkitError(
            f"front matter 'access' is {tier!r}; expected one of: {allowed} "
            "(add new tiers to plugins.memberkit.tiers in mkdocs.yml)",
            path=where,
        )
    for key in ("title", "description"):
        if key in meta and not isinstance(meta[key], str):
            raise MemberkitError(
                f"front matter {key!r} must be text, got {type(meta[key]).__name__}; "
                "put it in quotes",
                path=where,
            )

    dividers = [start for start, _ in _dividers(text)]
    if len(dividers) > 1:
        line = text.count("\n", 0, dividers[1]) + 1
        raise MemberkitError(
            f"a second teaser divider {TEASER_DIVIDER}: a page has at most one; "
            "keep the one that ends the public teaser",
            path=where,
            line=line,
        )
    return PageAccess(tier=tier, has_divider=bool(dividers))


def split_teaser(markdown: str) -> tuple[str, str | None]:
    """Split Markdown at the teaser divider: (teaser, rest), rest None without one."""
    for start, end in _dividers(markdown):
        return markdown[:start], markdown[end:]
    return markdown, None


_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})", re.MULTILINE)


def _dividers(text: str) -> Iterator[tuple[int, int]]:
    """(start of its line, end) of every divider standing alone on its line, indented
    by three spaces at most (four make a code block), outside fenced code: a tutorial
    may show the divider in code."""
    fences = _fences(text) if "``" in text or "~~" in text else []
    for match in _DIVIDER.finditer(text):
        line = text.rfind("\n", 0, match.start()) + 1
        lead = text[line : match.start()]
        if lead.strip(" ") or len(lead) > 3:
            continue
        if any(start <= line < end for start, end in fences):
            continue
        yield line, match.end()


def _fences(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of fenced code blocks: a fence closes at a line of the same
    character, at least as long; an unclosed one runs to the end."""
    blocks = []
    opened: tuple[int, str] | None = None
    for match in _FENCE.finditer(text):
        fence = match.group(1)
        if opened is None:
            opened = (match.start(), fence)
        elif fence[0] == opened[1][0] and len(fence) >= len(opened[1]):
            end = text.find("\n", match.end())
            if not text[match.end() : end if end != -1 else len(text)].strip():
                # a closing fence has nothing after it
                blocks.append((opened[0], match.end()))
                opened = None
    if opened is not None:
        blocks.append((opened[0], len(text)))
    return blocks


_REFERENCE = re.compile(
    r"^ {0,3}\[(?!\^)([^\]\n]+)\]:[ \t]*\S+"  # [label]: address
    r"""(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*$""",  # "an optional title"
    re.MULTILINE,
)
_ABBREVIATION = re.compile(r"^ {0,3}\*\[([^\]\n]+)\]:.*$", re.MULTILINE)
#: Where Markdown text refers to a definition: [text][label], [label][], [label].
_REFERRED = re.compile(r"\[([^\]\n]+)\](?:\[([^\]\n]*)\])?")


def _label(text: str) -> str:
    return " ".join(text.split()).casefold()


def teaser_definitions(teaser: str, rest: str) -> list[str]:
    """The definitions below the divider that the teaser uses, as written there: the
    footnotes it refers to (whole, over their indented lines, with the footnotes these
    refer to in turn), then the reference links and abbreviations that the teaser or
    those footnotes use."""
    notes = footnote_definitions(teaser, rest)
    if "]:" not in rest:  # no reference link or abbreviation is defined there
        return notes
    shown = "\n".join([teaser, *notes])
    referred = set()
    for text, label in _REFERRED.findall(shown):
        referred.add(_label(label or text))
    fences = _fences(rest) if "``" in rest or "~~" in rest else []
    used = [
        m.group(0)
        for m in _REFERENCE.finditer(rest)
        if _label(m.group(1)) in referred and not _inside(m.start(), fences)
    ]
    used += [
        m.group(0)
        for m in _ABBREVIATION.finditer(rest)
        if re.search(rf"(?<!\w){re.escape(m.group(1))}(?!\w)", shown)
        and not _inside(m.start(), fences)
    ]
    return used + notes


#: A footnote's definition starts a line; a reference to it is anywhere in the text.
_FOOTNOTE = re.compile(r"^ {0,3}\[\^([^\]\n]+)\]:", re.MULTILINE)
FOOTNOTE_REF = re.compile(r"\[\^([^\]\n]+)\]")


def footnote_definitions(shown: str, rest: str) -> list[str]:
    """The footnotes defined in `rest` that `shown` refers to, and those their text
    refers to in turn, each as written (over several lines), in the order of `rest`.
    Labels are exact, as Python-Markdown reads them; a label defined twice is its last
    definition."""
    fences = _fences(rest) if "``" in rest or "~~" in rest else []
    defined = {
        m.group(1): m.start() for m in _FOOTNOTE.finditer(rest) if not _inside(m.start(), fences)
    }
    taken: dict[str, str] = {}
    wanted = FOOTNOTE_REF.findall(shown)
    while wanted:
        label = wanted.pop()
        if label in defined and label not in taken:
            taken[label] = _footnote_at(rest, defined[label])
            wanted += FOOTNOTE_REF.findall(taken[label].split("]:", 1)[1])
    return [taken[label] for label in sorted(taken, key=defined.__getitem__)]


def _footnote_at(text: str, start: int) -> str:
    """The footnote defined at `start`, as Python-Markdown reads it: its first line and
    the lines that follow it without a blank line, then every block after blank lines
    that is indented (four spaces or a tab), up to the next footnote's definition."""
    lines = text[start:].split("\n")

    def block(at: int) -> int:  # the end of the block of lines starting at `at`
        while at < len(lines) and lines[at].strip() and not _FOOTNOTE.match(lines[at]):
            at += 1
        return at

    end = block(1)
    while True:
        following = end
        while following < len(lines) and not lines[following].strip():
            following += 1
        if following == len(lines) or not lines[following].startswith(("    ", "\t")):
            break
        end = block(following)
    return "\n".join(lines[:end]).rstrip()


def _inside(offset: int, blocks: list[tuple[int, int]]) -> bool:
    return any(start <= offset < end for start, end in blocks)
