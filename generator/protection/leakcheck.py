"""Prove that a built site holds no protected plaintext.

The build records what is protected (every protected heading, every run of eight
words of every protected block, every shorter sentence of four words or more, every
code that mixes letters and digits) and what is public (the teasers and public
pages: text there is not a leak, wherever else it also stands). It then reads every
file of the output, inside zip, docx, xlsx and gz files too, and reports each file
where protected text, or a member's email or name, can be read.

One module, over 400 lines, on purpose: recording, reading and judging share one
normalisation of text (words, shingles, phrases); apart, the build could record text
one way and the scan read it another, and a leak would pass.
"""

from __future__ import annotations

import array
import contextlib
import gzip
import hashlib
import html
import io
import itertools
import json
import os
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from generator.protection.spill import Spill, Where

SHINGLE = 8
#: Headings this long are looked for anywhere; shorter ones ("Context", "The team
#: rota", "content.code.copy") only where they stand as a heading or title: a heading,
#: a table-of-contents link, a search entry's title. Out of context, short texts are
#: too common (a stylesheet comment, a theme's settings) to prove anything.
PHRASE_WORDS = 4
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")
#: A code: letters and digits in one token (a coupon, a licence key, an invite), six
#: characters or more with two letters and two digits at least, which ordinary words,
#: numbers and dates are not.
_CODE = re.compile(
    r"(?<![\w-])(?=(?:[\w-]*[A-Za-z]){2})(?=(?:[\w-]*\d){2})"
    r"[A-Za-z0-9][\w-]{4,}[A-Za-z0-9](?![\w-])"
)
_DIGIT = re.compile(r"\d")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|\x00")
#: Code and data, not prose: scripts, styles and templates (a widget's data).
_SCRIPT = re.compile(r"<(script|style|template)\b.*?</\1>", re.DOTALL | re.IGNORECASE)
_HEADERLINK = re.compile(r'<a class="headerlink"[^>]*>.*?</a>', re.DOTALL)
_HEADING = re.compile(r"<h[1-6][^>]*>(.*?)</h[1-6]>", re.DOTALL | re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+(?:['\u2019][a-z0-9]+)*")
_TAGS = re.compile(r"<[^>]+>")
#: Attributes that carry text or an address of their own: a link's target and title,
#: an abbreviation's expansion, an image's source and description.
# No `\b` in front: it would cost a try at every character of a page (four times as slow).
_ATTRIBUTES = re.compile(r'(href|src|title|alt)="([^"]+)"')
#: A link to a heading (a table of contents, "see below"): its text is a heading's.
_FRAGMENT_LINK = re.compile(r'<a\b[^>]*\bhref="[^"]*#[^"]*"[^>]*>(.*?)</a>', re.DOTALL)
_ADDRESS = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s<>()\[\]\"'`]+|(?<=\]\()[^\s()]+(?=\))")
_EMAIL = re.compile(r"[^\s@<>\"',;:()\[\]]+@[^\s@<>\"',;:()\[\]]+\.[a-z0-9-]+")
MARKUP_SUFFIXES = {".html", ".htm", ".xml", ".svg", ".json", ".rels"}
#: MK1 envelopes are not read: ciphertext, and a header that holds only the path, the
#: tier, the file name and its type. A `.mk1` file that is no envelope is read.
CIPHERTEXT_SUFFIX = ".mk1"
ENVELOPE_MAGIC = b"MK1\n"
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


#: A segment of text as the check judges it: its words, and the email addresses it
#: holds (joined by spaces), if any.
Words = tuple[str, str | None]
#: What the scan needs of one file: (name, its distinct segments, heading texts, the
#: protected addresses and titles in its attributes) for the file itself or, for an
#: archive, each file inside it.
Reading = list[tuple[str, list[Words], set[str], set[str]]]
#: Segments up to this long (navigation links, labels, buttons) repeat on every page:
#: their words are made once. Longer ones are not kept as written.
SHORT_SEGMENT = 400


class Keys:
    """Shingle keys, 8 bytes each: text has about one per word. Held in memory up to
    CHUNK of them, then in a temporary file: the scan reads them chunk by chunk."""

    CHUNK = 1 << 16

    def __init__(self) -> None:
        self._held = array.array("q")
        self._spill = Spill()
        self._filed: list[Where] = []
        self._count = 0  # filed

    def extend(self, keys: Iterable[int]) -> None:
        self._held.extend(keys)
        if len(self._held) >= self.CHUNK:
            self._filed.append(self._spill.put(self._held.tobytes()))
            self._count += len(self._held)
            self._held = array.array("q")

    def __len__(self) -> int:
        return self._count + len(self._held)

    def close(self) -> None:
        """Forget the keys, and give back the file's space."""
        self._spill.close()
        self._held, self._filed, self._count = array.array("q"), [], 0

    def chunks(self) -> Iterator[array.array[int]]:
        for where in self._filed:
            chunk = array.array("q")
            chunk.frombytes(self._spill.get(where))
            yield chunk
        yield self._held


@dataclass
class Phrases:
    """Phrases (long headings, sentences, codes, names), each with what it is.

    `what` holds each phrase by its words; `lengths` the lengths of those that begin
    with a pair of words, by the pair (or of one word, by the word): a text with no
    such pair is passed over in a set operation, and at a pair only the phrases of
    those lengths are looked up. Many phrases may begin alike ("Step 1 of ...").
    """

    what: dict[tuple[str, ...], str] = field(default_factory=dict)
    lengths: dict[tuple[str, ...], tuple[int, ...]] = field(default_factory=dict)

    def file(self, text: str, what: str) -> None:
        """File `text` (words, as `words` gives them, joined by spaces); the first
        filing says what it is."""
        # Interned: a site's protected sentences share their words (a tenth of the memory).
        tokens = tuple(map(sys.intern, text.split()))
        # A name with no latin letters or digits has no words to look for.
        if tokens and tokens not in self.what:
            self.what[tokens] = what
            start, known = tokens[:2], self.lengths.get(tokens[:2], ())
            if len(tokens) not in known:
                self.lengths[start] = (*known, len(tokens))

    def at(self, tokens: list[str], start: int, key: tuple[str, ...]) -> Iterator[tuple[str, str]]:
        """The phrases (joined) that stand in `tokens` at `start` and begin with `key`,
        with what each is."""
        for length in self.lengths.get(key, ()):
            phrase = tuple(tokens[start : start + length])
            what = self.what.get(phrase) if len(phrase) == length else None
            if what is not None:
                yield " ".join(phrase), what


@dataclass
class LeakCheck:
    headings: dict[str, str] = field(default_factory=dict)  # normalised: as written
    # The shingle keys of protected text (a set of them would take ten times the
    # memory). The scan makes a set of the smaller side only: these, or the keys of
    # what it read.
    protected: Keys = field(default_factory=Keys)
    public: Keys = field(default_factory=Keys)  # of public text, kept the same way
    # How many shingles the distinct segments read hold; and those that stand in
    # protected text but in no public one (found by the scan).
    scanned: int = 0
    protected_shingles: set[int] = field(default_factory=set)
    public_text: list[str] = field(default_factory=list)
    phrases: Phrases = field(default_factory=Phrases)
    emails: dict[str, str] = field(default_factory=dict)  # lowercased: what it is
    # Files read while the build went on, by path: the digest of what was read, and
    # the reading. The scan uses a reading only if the file still has that digest.
    readings: dict[str, tuple[bytes, Reading]] = field(default_factory=dict)
    # Every distinct segment read so far, once, whichever files hold it; and the words
    # of the short segments, by the segment as written.
    distinct: dict[Words, Words] = field(default_factory=dict)
    short: dict[str, Words] = field(default_factory=dict)
    # Each distinct segment is judged when it is first read, against the phrases known
    # to be protected by then (MkDocs renders every page before it writes the first),
    # and again by the scan only if more became protected since: the first `fresh_from`
    # of `distinct`, in the order they were read. Its shingles are judged by the scan.
    # `suspects` may give something away: the scan asks what is public of them alone.
    fresh_from: int = 0
    suspects: set[Words] = field(default_factory=set)
    # Addresses and titles written only in protected parts (a reference link's target,
    # an abbreviation's expansion): short, but unique to what is protected.
    markers: dict[str, str] = field(default_factory=dict)  # value: what it is
    public_markers: set[str] = field(default_factory=set)

    def close(self) -> None:
        """Give back the temporary files of the keys (a build that `mkdocs serve`
        repeats would keep them, one set per build)."""
        self.protected.close()
        self.public.close()

    def add_protected(self, fragment: str) -> None:
        # Script data (a template's JSON) repeats the visible text in machine form.
        fragment = _SCRIPT.sub(" ", fragment)
        for heading in _HEADING.findall(_HEADERLINK.sub("", fragment)):
            text = " ".join(_visible(heading).split())
            tokens = words(text)
            if tokens and (key := " ".join(tokens)) not in self.headings:
                self.headings[key] = text
                if len(tokens) >= PHRASE_WORDS:  # shorter ones only as headings
                    self.phrases.file(key, f"protected heading {text!r}")
        for block in _segments(fragment, markup=True):
            self.protected.extend(shingle_keys(self._add_short(_visible(block))))
        for name, raw in _ATTRIBUTES.findall(fragment):
            value = html.unescape(raw)
            if name in ("href", "src") and ("://" in value or value.startswith("mailto:")):
                self.markers.setdefault(value, f"protected link address {value!r}")
            elif name in ("title", "alt") and len(words(value)) >= 2:
                self.markers.setdefault(value, f"protected title {value!r}")
        self.fresh_from = len(self.distinct)

    def _add_short(self, text: str) -> list[str]:
        """What is too short for a shingle but proves a leak wherever it stands: a
        sentence (or a block) of PHRASE_WORDS words or more, and a code, a token that
        mixes letters and digits (`ZZCOUPON-7731`, `A7X9Q2`). Returns the words of
        `text`: those of its sentences, one after the other (no word holds a space)."""
        parts = _SENTENCE_END.split(text)
        of_parts = [words(part) for part in parts]
        if len(parts) == 1:
            tokens, sentences = of_parts[0], []
        else:
            tokens = list(itertools.chain.from_iterable(of_parts))
            sentences = list(zip(parts, of_parts, strict=True))
        for part, part_tokens in [(text, tokens), *sentences]:
            if PHRASE_WORDS <= len(part_tokens) < SHINGLE:
                shown = " ".join(part.split())
                self.phrases.file(" ".join(part_tokens), f"protected text {shown!r}")
        if _DIGIT.search(text):  # a code holds two digits at least
            for code in _CODE.findall(text):
                self.phrases.file(" ".join(words(code)), f"protected code {code!r}")
        return tokens

    def add_public(self, fragment: str) -> None:
        self.public_markers.update(html.unescape(v) for _, v in _ATTRIBUTES.findall(fragment))
        text = _visible(fragment)
        tokens = words(text)
        self.public.extend(shingle_keys(tokens))
        self.public_text.append(" ".join(tokens))

    def add_member(self, email: str, name: str) -> None:
        self.emails[email.lower()] = "a member's email"
        if len(words(name)) >= 2 or len(name) >= 5:
            self.phrases.file(" ".join(words(name)), f"a member's name ({name!r})")
        self.fresh_from = len(self.distinct)

    def read_ahead(self, site: Path, relative: str) -> None:
        """Read a file the build has finished writing, so that the scan at the end only
        checks it: segments and words do not depend on what is protected."""
        # A file caught half-written (a zip, say) is simply read again by the scan.
        with contextlib.suppress(Exception):
            data = _contents(os.path.join(site, relative))
            if data is None:
                return
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
            if markup and "#" in text:
                titles.update(" ".join(words(_visible(t))) for t in _FRAGMENT_LINK.findall(text))
            marked = {
                address
                for _, raw in (_ATTRIBUTES.findall(text) if markup else ())
                if (address := html.unescape(raw)) in self.markers
            }
            # An address written out (a Markdown copy's links, a text file): a protected
            # one is found as such; its words (a heading's anchor) prove nothing more.
            if "://" in text or "](" in text:
                written, text = _take_addresses(text)
                marked.update(a for a in written if a in self.markers)
            judged: dict[Words, None] = {}
            for segment in set(_segments(text, markup)):
                value = self.short.get(segment)
                if value is None:
                    visible = _visible(segment) if "<" in segment or "&" in segment else segment
                    tokens = words(visible)
                    # Of a text with an "@", only its addresses: a page of code can
                    # hold many, and its text is not needed again.
                    found = " ".join(_EMAIL.findall(visible.lower())) if "@" in visible else ""
                    value = (" ".join(tokens), found or None)
                    known = self.distinct.get(value)
                    if known is None:
                        self.distinct[value] = value
                        self.scanned += max(0, len(tokens) - SHINGLE + 1)
                        if self._hit(value, None):
                            self.suspects.add(value)
                    else:
                        value = known
                    if len(segment) <= SHORT_SEGMENT:
                        self.short[segment] = value
                judged[value] = None
            reading.append((name, list(judged), titles, marked))
        return reading

    def scan(self, site: Path, skip: Iterable[str] = ()) -> list[Leak]:
        """Read every file of `site` but those in `skip` (paths relative to it)."""
        skipped = set(skip)
        readings = []
        for relative in _files(site):
            if relative in skipped:
                continue
            data = _contents(os.path.join(site, relative))
            if data is None:
                continue
            known = self.readings.get(relative)
            if known is not None and known[0] == _digest(data):
                readings.append(known[1])
            else:  # written or changed after it was read ahead
                readings.append(self._reading(relative, data))
        # Judged before something more became protected: judged again.
        stale, self.fresh_from = itertools.islice(self.distinct, self.fresh_from), 0
        self.suspects.update(segment for segment in stale if self._hit(segment, None))
        # Shingles read that are protected and not public: rarely any. Then the
        # segments that hold one are suspects.
        found = self._protected_among_read()
        self.protected_shingles = found - self._public_among(found) if found else set()
        if self.protected_shingles:
            self.suspects.update(
                segment
                for segment in self.distinct
                if not self.protected_shingles.isdisjoint(shingle_keys(segment[0].split()))
            )
        # Protected text that is also public (a heading both above and below a divider,
        # a sentence in a snippet that a public page uses too) is not a leak. That is
        # asked of the suspects alone, rarely any: not of everything protected.
        public = _PublicText(self.public_text)
        hits = {s: what for s in self.suspects if (what := self._hit(s, public))}
        return self._judge(readings, public, hits)

    def _public_among(self, keys: set[int]) -> set[int]:
        """Those of `keys` that public text holds too."""
        return set().union(*(keys.intersection(chunk) for chunk in self.public.chunks()))

    def _protected_among_read(self) -> set[int]:
        """The shingle keys of the distinct segments read that are protected keys too:
        a set of the smaller side, the other side streamed past it (in C)."""
        read = (
            shingle_keys(tokens)
            for joined, _ in self.distinct
            if len(tokens := joined.split()) >= SHINGLE
        )
        if self.scanned <= len(self.protected):  # a members' site: its text is sealed
            among = set(itertools.chain.from_iterable(read))
            return set().union(*(among.intersection(chunk) for chunk in self.protected.chunks()))
        protected = set(itertools.chain.from_iterable(self.protected.chunks()))
        return protected.intersection(itertools.chain.from_iterable(read))

    def _judge(
        self, readings: list[Reading], public: _PublicText, hits: dict[Words, str]
    ) -> list[Leak]:
        """The leaks in what was read: a protected heading used as a title, or a text
        that gives something away (`hits`)."""
        leaks: list[Leak] = []
        for reading in readings:
            for name, segments, titles, marked in reading:
                found = {
                    f"protected heading {self.headings[t]!r}"
                    for t in titles
                    if t in self.headings and not public.holds(t)
                }
                common = hits.keys() & set(segments) if hits else set()
                found.update(hits[segment] for segment in common)
                found.update(
                    self.markers[value] for value in marked if value not in self.public_markers
                )
                leaks += [Leak(name, what) for what in sorted(found)]
        return leaks

    def _hit(self, segment: Words, public: _PublicText | None) -> str | None:
        """What a segment (its words, and its text if it holds an "@") gives away.

        Without `public`, a phrase (a long heading, a name) counts wherever it stands:
        what may give something away. A shingle counts once the scan has found the
        protected ones among those read (`protected_shingles`).
        """
        joined, text = segment
        tokens = joined.split()
        phrases, protected = self.phrases, self.protected_shingles
        # Set operations run in C; only a segment that holds something is looked at again.
        starts = phrases.lengths.keys()
        found = starts & itertools.pairwise(tokens)
        if not starts.isdisjoint((token,) for token in tokens):
            found |= {(token,) for token in tokens}
        for start, token in enumerate(tokens) if found else ():
            for key in (tuple(tokens[start : start + 2]), (token,)):
                for phrase, what in phrases.at(tokens, start, key) if key in found else ():
                    if not (public and public.holds(phrase)):
                        return what
        if protected and len(tokens) >= SHINGLE and not protected.isdisjoint(shingle_keys(tokens)):
            for shingle in shingles(tokens):
                if hash(shingle) in protected:
                    return f"protected text {' '.join(shingle)!r}"
        if self.emails and text is not None:
            for address in _EMAIL.findall(text.lower()):
                if address in self.emails:
                    return self.emails[address]
        return None


def report(leaks: list[Leak]) -> str:
    """Every finding, grouped by file, as a text an owner can work through."""
    by_file: dict[str, list[str]] = {}
    for leak in leaks:
        by_file.setdefault(leak.file, []).append(leak.what)
    lines = [f"{len(leaks)} finding(s) in {len(by_file)} file(s) of the built site.", ""]
    for name in sorted(by_file):
        lines.append(name)
        lines += [f"  - {what}" for what in by_file[name]]
    return "\n".join(lines) + "\n"


class _PublicText:
    """Whether a run of words (normalised, as `words` gives them) stands in public text."""

    def __init__(self, texts: list[str]) -> None:
        self._texts = texts
        self._joined: str | None = None
        self._known: dict[str, bool] = {}

    def holds(self, phrase: str) -> bool:
        known = self._known.get(phrase)
        if known is None:
            if self._joined is None:  # made once, and only if something was found
                self._joined = " " + " ".join(self._texts) + " "
            known = self._known[phrase] = f" {phrase} " in self._joined
        return known


def _take_addresses(text: str) -> tuple[list[str], str]:
    """The addresses written out in `text` (stripped of a sentence's last stop), and
    the text with each replaced by a space.

    An address holds no whitespace, nor does what marks it (`://`, a preceding `](`):
    `_ADDRESS` runs only on the runs of non-space around those marks, the same matches
    as on the whole text at a fraction of the cost (it would try every position of a
    page, a millisecond each).
    """
    found: list[str] = []
    pieces: list[str] = []
    done = 0  # text[:done] is in pieces
    for mark in _ADDRESS_MARK.finditer(text):
        if mark.start() < done:
            continue  # inside the run just taken
        # The run starts after the nearest space (or where the last one ended: at a
        # space too); looked for in the 4 KiB before the mark only, not back to `done`.
        near = max(done, mark.start() - 4096)
        start = max(done, *(text.rfind(space, near, mark.start()) + 1 for space in " \n\t"))
        end = _SPACE.search(text, mark.end())
        stop = end.start() if end else len(text)
        run = text[start:stop]
        found += (address.rstrip(".,;:!?") for address in _ADDRESS.findall(run))
        pieces += (text[done:start], _ADDRESS.sub(" ", run))
        done = stop
    pieces.append(text[done:])
    return found, "".join(pieces)


_ADDRESS_MARK = re.compile(r"://|\]\(")
_SPACE = re.compile(r"\s")


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
    """Every file of the site, as paths relative to it, in order. Linked folders are
    followed, each once (a link to a folder above it cannot make this go round)."""
    found: list[str] = []
    linked: set[str] = set()
    folders = [(str(site), "")]
    while folders:
        folder, prefix = folders.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir():
                    if entry.is_symlink():
                        real = os.path.realpath(entry.path)
                        if real in linked:
                            continue
                        linked.add(real)
                    folders.append((entry.path, f"{prefix}{entry.name}/"))
                elif entry.is_file():
                    found.append(prefix + entry.name)
    return sorted(found)


def _contents(path: str) -> bytes | None:
    """A file's bytes, or None for an MK1 envelope (not read beyond its first bytes)."""
    with open(path, "rb") as file:
        if path.endswith(CIPHERTEXT_SUFFIX):
            start = file.read(len(ENVELOPE_MAGIC))
            return None if start == ENVELOPE_MAGIC else start + file.read()
        return file.read()


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _titles(text: str) -> Iterator[str]:
    """The "title" values of a JSON document such as a search index."""
    for match in re.finditer(r'"title"\s*:\s*"((?:[^"\\]|\\.)*)"', text):
        with contextlib.suppress(ValueError):
            yield json.loads(f'"{match.group(1)}"')


def _read(name: str, data: bytes) -> Iterator[tuple[str, str, bool]]:
    suffix = Path(name).suffix.lower()
    if suffix == CIPHERTEXT_SUFFIX and data.startswith(ENVELOPE_MAGIC):
        return
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
