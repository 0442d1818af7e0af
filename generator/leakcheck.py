"""Prove that a built site holds no protected plaintext.

The build records what is protected (every protected heading, and every run of
eight words of every protected block) and what is public (the teasers and public
pages: text there is not a leak, wherever else it also stands). It then reads every
file of the output, inside zip, docx, xlsx and gz files too, and reports each file
where protected text, or a member's email or name, can be read.
"""

from __future__ import annotations

import contextlib
import gzip
import html
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .protect import text_blocks

SHINGLE = 8
#: Headings this long are looked for anywhere; shorter ones ("Context") only as headings.
PHRASE_WORDS = 3
_HEADING = re.compile(r"<h[1-6][^>]*>(.*?)</h[1-6]>", re.DOTALL | re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+(?:['\u2019][a-z0-9]+)*")
_TAGS = re.compile(r"<[^>]+>")
TEXT_SUFFIXES = {
    ".html", ".htm", ".json", ".xml", ".txt", ".md", ".csv", ".js", ".css", ".svg",
    ".rels", ".map", ".webmanifest", ".yml", ".yaml",
}  # fmt: skip
MARKUP_SUFFIXES = {".html", ".htm", ".xml", ".svg", ".json", ".rels"}
ZIP_SUFFIXES = {".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".epub"}


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def shingles(tokens: list[str]) -> Iterator[tuple[str, ...]]:
    for start in range(len(tokens) - SHINGLE + 1):
        yield tuple(tokens[start : start + SHINGLE])


@dataclass(frozen=True)
class Leak:
    file: str
    what: str

    def __str__(self) -> str:
        return f"{self.file}: {self.what}"


@dataclass
class LeakCheck:
    headings: dict[str, str] = field(default_factory=dict)  # normalised: as written
    protected: dict[tuple[str, ...], str] = field(default_factory=dict)
    public: set[tuple[str, ...]] = field(default_factory=set)
    public_text: list[str] = field(default_factory=list)
    people: dict[str, str] = field(default_factory=dict)  # normalised: what it is

    def add_protected(self, fragment: str) -> None:
        for tag, text in text_blocks(fragment):
            tokens = words(text)
            if tag.startswith("h") and tokens:
                self.headings.setdefault(" ".join(tokens), text)
            for shingle in shingles(tokens):
                self.protected.setdefault(shingle, text)

    def add_public(self, fragment: str) -> None:
        text = _visible(fragment)
        tokens = words(text)
        self.public.update(shingles(tokens))
        self.public_text.append(" ".join(tokens))

    def add_member(self, email: str, name: str) -> None:
        self.people[email.lower()] = "a member's email"
        if len(words(name)) >= 2 or len(name) >= 5:
            self.people[" ".join(words(name))] = "a member's name"

    def needles(self) -> tuple[dict[str, str], dict[tuple[str, ...], str], dict[str, str]]:
        """What must not be found: protected text that is not also public."""
        public = " " + " ".join(self.public_text) + " "
        headings = {h: t for h, t in self.headings.items() if f" {h} " not in public}
        protected = {s: t for s, t in self.protected.items() if s not in self.public}
        people = {p: w for p, w in self.people.items() if f" {p} " not in public}
        return headings, protected, people

    def scan(self, site: Path, skip: Iterable[str] = ()) -> list[Leak]:
        """Read every file of `site` but those in `skip` (paths relative to it)."""
        headings, protected, people = self.needles()
        phrases = {h for h in headings if len(h.split()) >= PHRASE_WORDS}
        leaks: list[Leak] = []
        for name, segments, titles in _texts(site, set(skip)):
            found = self._first_hit(segments, titles, headings, phrases, protected, people)
            if found:
                leaks.append(Leak(name, found))
        return leaks

    @staticmethod
    def _first_hit(
        segments: list[str],
        titles: set[str],
        headings: dict[str, str],
        phrases: set[str],
        protected: dict[tuple[str, ...], str],
        people: dict[str, str],
    ) -> str | None:
        for title in titles:
            if title in headings:
                return f"protected heading {headings[title]!r}"
        for segment in segments:
            tokens = words(segment)
            joined = " " + " ".join(tokens) + " "
            phrase = next((h for h in phrases if f" {h} " in joined), None)
            if phrase is not None:
                return f"protected heading {headings[phrase]!r}"
            shingle = next((s for s in shingles(tokens) if s in protected), None)
            if shingle is not None:
                return f"protected text {' '.join(shingle)!r}"
            lowered = segment.lower()
            for person, what in people.items():
                if (person in lowered) if "@" in person else (f" {person} " in joined):
                    return what
        return None


def _visible(fragment: str) -> str:
    return html.unescape(_TAGS.sub(" ", fragment))


_BLOCK_TAG = re.compile(
    r"</?(?:p|div|li|ul|ol|h[1-6]|td|th|tr|table|nav|header|footer|section|article|aside|"
    r"main|label|form|button|pre|blockquote|dd|dt|dl|br|hr|option|select|title|meta|script|"
    r"style|head|body|html|details|summary)\b[^>]*>",
    re.IGNORECASE,
)


def _segments(text: str, markup: bool) -> list[str]:
    """Runs of text that read on from each other; shingles never cross between them.

    Words of one navigation link and the next are not a sentence: matching across
    them would report public titles as leaks.
    """
    if markup:
        text = _visible(_BLOCK_TAG.sub("\n\n", text))
    return [part for part in re.split(r"\n\s*\n|\x00", text) if part.strip()]


def _texts(site: Path, skip: set[str]) -> Iterator[tuple[str, list[str], set[str]]]:
    """(file name, text segments, heading texts) for every file, archives opened."""
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        relative = path.relative_to(site).as_posix()
        if relative in skip:
            continue
        for name, text, markup in _read(relative, path.read_bytes()):
            titles = {" ".join(words(_visible(h))) for h in _HEADING.findall(text)}
            if name.endswith(".json"):
                titles.update(" ".join(words(t)) for t in _titles(text))
            yield name, _segments(text, markup), titles


def _titles(text: str) -> Iterator[str]:
    """The "title" values of a JSON document such as a search index."""
    for match in re.finditer(r'"title"\s*:\s*"((?:[^"\\]|\\.)*)"', text):
        with contextlib.suppress(ValueError):
            yield json.loads(f'"{match.group(1)}"')


def _read(name: str, data: bytes) -> Iterator[tuple[str, str, bool]]:
    suffix = Path(name).suffix.lower()
    if suffix == ".mk1":
        return  # ciphertext; its header is checked like any text below
    if suffix == ".gz":
        try:
            yield from _read(name[:-3], gzip.decompress(data))
        except (OSError, EOFError):
            yield name, data.decode("latin-1"), False
        return
    if suffix in ZIP_SUFFIXES or data[:4] == b"PK\x03\x04":
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            yield name, data.decode("latin-1"), False
            return
        for member in archive.namelist():
            yield from _read(f"{name}!{member}", archive.read(member))
        return
    text = data.decode("utf-8", errors="replace")
    if suffix == ".json":
        with contextlib.suppress(ValueError):
            # Each string of the document on its own, then the raw text as well.
            text = "\x00".join(_strings(json.loads(text))) + "\x00" + text
    yield name, text, suffix in MARKUP_SUFFIXES or "<" in text


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
