"""The browser code as pages load it: memberkit's modules joined into one file, and every
file named by a hash of its content.

The modules of `assets/memberkit/` are plain ES modules that import each other by
relative name. Loaded one by one, a page asked for each of them in turn, as the
browser found the imports: a dozen requests after the page's own. Joined at build
time they are one request; named by their content (`main.3f9a0c2e71.js`), they are
cached for a year and never asked for again until they change.

The join keeps each module's names its own: each becomes a function, called once in
the order of the imports (as the browser runs modules), its `export`s returned and its
`import`s read from the modules before it. It reads only the forms these modules are
written in (`import { a, b as c } from "./x.js";`, `import * as x from "./x.js";`,
`export function|async function|const|let|class NAME`, `export { a, b };`), and
refuses anything else, naming the file and line. No MkDocs import.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from generator.errors import MemberkitError

#: The script inline in every page's <head>, the classic script run before the theme's
#: bundle, the module that starts the rest, the stylesheet.
MARK = "mark.js"
BOOT = "boot.js"
ENTRY = "main.js"
STYLESHEET = "memberkit.css"
#: Hex characters of the content's SHA-256 in a file's name.
HASH_CHARS = 10

_IMPORT = re.compile(
    r"^import\s*(?:\{(?P<names>[^}]*)\}|\*\s*as\s+(?P<star>[\w$]+))\s*"
    r'from\s*"\./(?P<module>[\w-]+\.js)";[ \t]*$',
    re.MULTILINE,
)
_EXPORTED = re.compile(
    r"^export\s+(?:async\s+)?(?:function\*?\s*|const\s+|let\s+|class\s+)(?P<name>[\w$]+)",
    re.MULTILINE,
)
_EXPORT_WORD = re.compile(
    r"^export\s+(?=(?:async\s+)?function|const\s|let\s|class\s)", re.MULTILINE
)
_EXPORT_LIST = re.compile(r"^export\s*\{(?P<names>[^}]*)\};?[ \t]*$", re.MULTILINE)
_LEFT = re.compile(r"^(?:import|export)\b.*$", re.MULTILINE)
#: Where the joined modules keep each other's exports.
_REGISTRY = "memberkit$modules"


@dataclass(frozen=True)
class BrowserCode:
    """The files pages load, by the name each is published under."""

    mark: str  # the inline script: mark.js without its opening comment
    boot: str  # boot.<hash>.js
    main: str  # main.<hash>.js: every module joined
    stylesheet: str  # memberkit.<hash>.css
    files: dict[str, bytes]  # name: content

    @classmethod
    def from_folder(cls, folder: Path) -> BrowserCode:
        return _from_folder(folder, _stamp(folder))


def _stamp(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a file of the folder does: each file's name, size and time."""
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir()))


@functools.lru_cache(maxsize=4)
def _from_folder(folder: Path, stamp: tuple[tuple[str, int, int], ...]) -> BrowserCode:
    """`stamp` only keys the cache: the folder is read again when a file changed."""
    named = {}
    for original, content in (
        (BOOT, (folder / BOOT).read_bytes()),
        (ENTRY, join_modules(folder).encode()),
        (STYLESHEET, (folder / STYLESHEET).read_bytes()),
    ):
        stem, suffix = original.rsplit(".", 1)
        digest = hashlib.sha256(content).hexdigest()[:HASH_CHARS]
        named[original] = (f"{stem}.{digest}.{suffix}", content)
    mark = (folder / MARK).read_text(encoding="utf-8")
    if mark.startswith("/*"):
        mark = mark[mark.index("*/") + 2 :]
    return BrowserCode(
        mark=mark.strip(),
        boot=named[BOOT][0],
        main=named[ENTRY][0],
        stylesheet=named[STYLESHEET][0],
        files=dict(named.values()),
    )


def join_modules(folder: Path, entry: str = ENTRY) -> str:
    """The module `entry` of `folder` and every module it imports, as one module."""
    order: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            cycle = " -> ".join([*visiting[visiting.index(name) :], name])
            raise MemberkitError(f"{folder / name}: the modules import each other ({cycle})")
        visiting.append(name)
        path = folder / name
        if not path.is_file():
            raise MemberkitError(f"{path}: imported by {visiting[-2]}, but there is no such file")
        for found in _IMPORT.finditer(path.read_text(encoding="utf-8")):
            visit(found["module"])
        visiting.pop()
        order.append(name)

    visit(entry)
    parts = [
        "/* memberkit's browser code: the modules of assets/memberkit, joined into one. */\n",
        f"const {_REGISTRY} = {{}};\n",
    ]
    for name in order:
        parts.append(_wrapped(folder / name, last=name == entry))
    return "".join(parts)


def _wrapped(path: Path, *, last: bool) -> str:
    """One module as a function of its own: its imports read from the modules before
    it, its exports returned."""
    source = path.read_text(encoding="utf-8")
    exported = [m["name"] for m in _EXPORTED.finditer(source)]
    for listed in _EXPORT_LIST.finditer(source):
        exported += [n.strip() for n in listed["names"].split(",") if n.strip()]

    def imported(found: re.Match[str]) -> str:
        module = json.dumps(found["module"])
        if found["star"]:
            return f"const {found['star']} = {_REGISTRY}[{module}];"
        names = [n.split() for n in found["names"].replace("\n", " ").split(",") if n.strip()]
        bound = [n[0] if len(n) == 1 else f"{n[0]}: {n[2]}" for n in names]
        return f"const {{ {', '.join(bound)} }} = {_REGISTRY}[{module}];"

    body = _IMPORT.sub(imported, source)
    body = _EXPORT_LIST.sub("", body)
    body = _EXPORT_WORD.sub("", body)
    left = _LEFT.search(body)
    if left is not None:
        line = body.count("\n", 0, left.start()) + 1
        raise MemberkitError(
            f"{path}, line {line}: {left.group(0).strip()!r} is a form of import or export "
            "the join does not read; write it as the other modules do"
        )
    name = json.dumps(path.name)
    if last:
        return f"/* {path.name} */\n(() => {{\n{body}}})();\n"
    returned = f"return {{ {', '.join(exported)} }};\n"
    return f"/* {path.name} */\n{_REGISTRY}[{name}] = (() => {{\n{body}{returned}}})();\n"
