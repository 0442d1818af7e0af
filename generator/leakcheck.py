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
import hashlib
import html
import io
import itertools
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

SHINGLE = 8
#: Headings this long are looked for anywhere; shorter ones ("Context") only as headings.
PHRASE_WORDS = 3
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\x00")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.DOTALL | re.IGNORECASE)
_HEADERLINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>', re.DOTALL)
_HEADING = re.compile(r"<h[1-6][^>]*>(.*?)</h[1-6]>", re.DOTALL | re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+(?:['\u2019][a-z0-9]+)*")
_TAGS = re.compile(r"<[^>]+>")
_EMAIL = re.compile(r"[^\s@<>\"',;:()\[\]]+@[^\s@<>\"',;:()\[\]]+\.[a-z0-9-]+")
MARKUP_SUFFIXES = {".html", ".htm", ".xml", ".svg", ".json", ".rels"}
ZIP_SUFFIXES = {".zip", ".docx", ".xlsx", ".pptx", ".odt", ".ods", ".epub"}


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def shingles(tokens: list[str], size: int = SHINGLE) -> Iterator[tuple[str, ...]]:
    """Every run of `size` consecutive tokens (the tuples are made in C, by zip)."""
    return zip(*(tokens[start:] for start in range(size)), strict=False)  # shortest wins


def shingle_keys(tokens: list[str]) -> Iterator[int]:
    """The shingles as hashes: a large site has millions of them, and ints are neither
    big nor traced by the garbage collector. Equal text gives an equal hash, so no leak
    is missed; an unequal one colliding (about 1 in 10^13 here) would only stop a build."""
    return map(hash, shingles(tokens))


@dataclass(frozen=True)
class Leak:
    file: str
    what: str

    def __str__(self) -> str:
        return f"{self.file}: {self.what}"


#: A segment of text as the check judges it: its words, and its text if it holds an "@".
Words = tuple[str, str | None]
#: What the scan needs of one file: (name, its distinct segments, heading texts) for the
#: file itself or, for an archive, each file inside it.
Reading = list[tuple[str, list[Words], set[str]]]
#: Segments up to this long (navigation links, labels, buttons) repeat on every page:
#: their words are made once. Longer ones are not kept as written.
SHORT_SEGMENT = 400
#: Phrases (long headings, names) by their first two words, or their one word.
Phrases = dict[tuple[str, ...], dict[tuple[str, ...], str]]


@dataclass
class LeakCheck:
    headings: dict[str, str] = field(default_factory=dict)  # normalised: as written
    protected: dict[int, str] = field(default_factory=dict)  # shingle key: its text
    public: set[int] = field(default_factory=set)
    public_text: list[str] = field(default_factory=list)
    people: dict[str, str] = field(default_factory=dict)  # normalised: what it is
    # Files read while the build went on, by path: the digest of what was read, and
    # the reading. The scan uses a reading only if the file still has that digest.
    readings: dict[str, tuple[bytes, Reading]] = field(default_factory=dict)
    # Every distinct segment read so far, once, whichever files hold it; and the words
    # of the short segments, by the segment as written.
    distinct: dict[Words, Words] = field(default_factory=dict)
    short: dict[str, Words] = field(default_factory=dict)

    def add_protected(self, fragment: str) -> None:
        # Script data (a template's JSON) repeats the visible text in machine form.
        fragment = _SCRIPT.sub(" ", fragment)
        for heading in _HEADING.findall(_HEADERLINK.sub("", fragment)):
            text = " ".join(_visible(heading).split())
            if tokens := words(text):
                self.headings.setdefault(" ".join(tokens), text)
        for block in _segments(fragment, markup=True):
            text = _visible(block)
            self.protected.update(dict.fromkeys(shingle_keys(words(text)), text))

    def add_public(self, fragment: str) -> None:
        text = _visible(fragment)
        tokens = words(text)
        self.public.update(shingle_keys(tokens))
        self.public_text.append(" ".join(tokens))

    def add_member(self, email: str, name: str) -> None:
        self.people[email.lower()] = "a member's email"
        if len(words(name)) >= 2 or len(name) >= 5:
            self.people[" ".join(words(name))] = "a member's name"

    def needles(self) -> tuple[dict[str, str], dict[int, str], dict[str, str]]:
        """What must not be found: protected text that is not also public."""
        public = " " + " ".join(self.public_text) + " "
        headings = {h: t for h, t in self.headings.items() if f" {h} " not in public}
        protected = {s: self.protected[s] for s in self.protected.keys() - self.public}
        people = {p: w for p, w in self.people.items() if f" {p} " not in public}
        return headings, protected, people

    def read_ahead(self, site: Path, relative: str) -> None:
        """Read a file the build has finished writing, so that the scan at the end only
        checks it: segments and words do not depend on what is protected."""
        # A file caught half-written (a zip, say) is simply read again by the scan.
        with contextlib.suppress(Exception):
            data = (site / relative).read_bytes()
            self.readings[relative] = (_digest(data), self._reading(relative, data))

    def read_ahead_all(self, site: Path, skip: Iterable[str] = ()) -> None:
        """Read every file already in `site` but those in `skip`."""
        skipped = set(skip)
        for relative in _files(site):
            if relative not in skipped:
                self.read_ahead(site, relative)

    def _reading(self, relative: str, data: bytes) -> Reading:
        reading: Reading = []
        for name, text, markup in _read(relative, data):
            titles = {" ".join(words(_visible(h))) for h in _HEADING.findall(text)}
            if name.endswith(".json"):
                titles.update(" ".join(words(t)) for t in _titles(text))
            judged: dict[Words, None] = {}
            for segment in set(_segments(text, markup)):
                value = self.short.get(segment)
                if value is None:
                    visible = _visible(segment) if "<" in segment or "&" in segment else segment
                    value = (" ".join(words(visible)), visible if "@" in visible else None)
                    value = self.distinct.setdefault(value, value)
                    if len(segment) <= SHORT_SEGMENT:
                        self.short[segment] = value
                judged[value] = None
            reading.append((name, list(judged), titles))
        return reading

    def scan(self, site: Path, skip: Iterable[str] = ()) -> list[Leak]:
        """Read every file of `site` but those in `skip` (paths relative to it)."""
        headings, protected, people = self.needles()
        # Phrases are word sequences, filed under their first two words (or their one
        # word): a text with no such pair is passed over in a set operation, however
        # many headings and members there are.
        phrases: Phrases = {}
        for heading, text in headings.items():
            if len(heading.split()) >= PHRASE_WORDS:
                _file_phrase(phrases, heading, f"protected heading {text!r}")
        emails = {p: w for p, w in people.items() if "@" in p}
        for person, kind in people.items():
            if "@" not in person:
                _file_phrase(phrases, person, kind)
        leaks: list[Leak] = []
        # Navigation, header and footer repeat on every page: each distinct text is
        # judged once, and the set operations that find the new ones run in C.
        seen: set[Words] = set()
        hits: dict[Words, str] = {}
        skipped = set(skip)
        for relative in _files(site):
            if relative in skipped:
                continue
            data = (site / relative).read_bytes()
            known = self.readings.get(relative)
            if known is not None and known[0] == _digest(data):
                reading = known[1]
            else:  # written or changed after it was read ahead
                reading = self._reading(relative, data)
            for name, segments, titles in reading:
                found = next((t for t in titles if t in headings), None)
                if found is not None:
                    leaks.append(Leak(name, f"protected heading {headings[found]!r}"))
                    continue
                pieces = set(segments)
                for segment in pieces - seen:
                    what = _hit(segment, protected, phrases, emails)
                    if what:
                        hits[segment] = what
                seen |= pieces
                common = pieces & hits.keys()
                if common:
                    first = min(common, key=lambda value: (value[0], value[1] or ""))
                    leaks.append(Leak(name, hits[first]))
        return leaks


def _file_phrase(phrases: Phrases, text: str, what: str) -> None:
    tokens = tuple(text.split())
    if tokens:  # a name with no latin letters or digits has no words to look for
        phrases.setdefault(tokens[:2], {}).setdefault(tokens, what)


def _hit(
    segment: Words,
    protected: dict[int, str],
    phrases: Phrases,
    emails: dict[str, str],
) -> str | None:
    """What a segment (its words, and its text if it holds an "@") gives away."""
    joined, text = segment
    tokens = joined.split()
    # Set operations run in C; only a segment that holds something is looked at again.
    found = phrases.keys() & itertools.pairwise(tokens)
    if not phrases.keys().isdisjoint((token,) for token in tokens):
        found |= {(token,) for token in tokens}
    for start, token in enumerate(tokens) if found else ():
        for key in (tuple(tokens[start : start + 2]), (token,)):
            for phrase, what in phrases.get(key, {}).items() if key in found else ():
                if tuple(tokens[start : start + len(phrase)]) == phrase:
                    return what
    if len(tokens) >= SHINGLE and not protected.keys().isdisjoint(shingle_keys(tokens)):
        shingle = next(s for s in shingles(tokens) if hash(s) in protected)
        return f"protected text {' '.join(shingle)!r}"
    if emails and text is not None:
        for address in _EMAIL.findall(text.lower()):
            if address in emails:
                return emails[address]
    return None


def _visible(fragment: str) -> str:
    return html.unescape(_TAGS.sub(" ", fragment))


_BLOCK_TAG = re.compile(
    r"</?(?:p|div|li|ul|ol|h[1-6]|td|th|tr|table|nav|header|footer|section|article|aside|"
    r"main|label|form|button|pre|blockquote|dd|dt|dl|br|hr|option|select|title|meta|script|"
    r"style|head|body|html|details|summary)\b[^>]*>"
)  # lowercase, as MkDocs writes it: a case-blind pattern costs three times as much


def _segments(text: str, markup: bool) -> list[str]:
    """Runs of text that read on from each other; shingles never cross between them.

    Words of one navigation link and the next are not a sentence: matching across
    them would report public titles as leaks. Pieces of markup are returned raw (tags
    inside a block still in them); `_hit` makes them text, once per distinct piece.
    """
    if markup:
        return _BLOCK_TAG.split(text)
    return _PARAGRAPH_BREAK.split(text)


def _files(site: Path) -> list[str]:
    """Every file of the site, as paths relative to it, in order."""
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _titles(text: str) -> Iterator[str]:
    """The "title" values of a JSON document such as a search index."""
    for match in re.finditer(r'"title"\s*:\s*"((?:[^"\\]|\\.)*)"', text):
        with contextlib.suppress(ValueError):
            yield json.loads(f'"{match.group(1)}"')


def _read(name: str, data: bytes) -> Iterator[tuple[str, str, bool]]:
    suffix = Path(name).suffix.lower()
    if suffix == ".mk1":
        return  # ciphertext; its header holds only the path, tier, file name and type
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
            document = json.loads(text)
            if _is_keystore(document):
                # Its entries are ciphertext, like .mk1 files: read what is around them.
                document = {**document, "members": {}}
                text = json.dumps(document)
            # Each string of the document on its own, then the raw text as well.
            text = "\x00".join(_strings(document)) + "\x00" + text
    yield name, text, suffix in MARKUP_SUFFIXES or "<" in text


_LOOKUP = re.compile(r"[0-9a-f]{32}")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


def _is_keystore(document: object) -> bool:
    """An MK1 keystore whose entries are all a hex lookup and a base64url blob."""
    if not isinstance(document, dict) or document.get("format") != "mk1":
        return False
    members = document.get("members")
    return isinstance(members, dict) and all(
        isinstance(blob, str) and _LOOKUP.fullmatch(lookup) and _BASE64URL.fullmatch(blob)
        for lookup, blob in members.items()
    )


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
