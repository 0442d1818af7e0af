"""The browser code joined into one module, and named by its content."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.errors import MemberkitError
from generator.publish import browsercode

from ..conftest import ROOT


def modules(folder: Path, **sources: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in sources.items():
        (folder / f"{name}.js").write_text(text)
    return folder


def test_modules_are_joined_in_import_order_with_their_names_kept_apart(tmp_path: Path) -> None:
    folder = modules(
        tmp_path / "code",
        main='import { twice as double } from "./b.js";\nimport * as a from "./a.js";\n'
        "const local = 1;\ndouble(a.one + local);\n",
        b='import {\n  one,\n} from "./a.js";\nconst local = 2;\n'
        "export function twice(x) { return 2 * x + one - one; }\n",
        a="const local = 3;\nexport const one = local - 2;\nexport async function later() {}\n"
        "class Box {}\nexport { Box };\n",
    )
    joined = browsercode.join_modules(folder)
    order = re.findall(r"^/\* (\w+)\.js \*/$", joined, re.MULTILINE)
    assert order == ["a", "b", "main"]
    assert 'const { one } = memberkit$modules["a.js"];' in joined
    assert 'const { twice: double } = memberkit$modules["b.js"];' in joined
    assert 'const a = memberkit$modules["a.js"];' in joined
    assert "return { one, later, Box };" in joined
    assert "return { twice };" in joined
    assert not re.search(r"^\s*(import|export)\b", joined, re.MULTILINE)
    # Each module's own names stay in its own function: three `local`s, no clash.
    assert joined.count("const local") == 3 and joined.count("(() => {") == 3


def test_forms_the_join_does_not_read_are_refused_naming_file_and_line(tmp_path: Path) -> None:
    folder = modules(tmp_path / "code", main='import "./a.js";\n', a="export default 1;\n")
    with pytest.raises(MemberkitError, match=r"main\.js, line 1: 'import \"\./a\.js\";'"):
        browsercode.join_modules(folder)
    modules(folder, main='import { x } from "./a.js";\nx();\n')
    with pytest.raises(MemberkitError, match=r"a\.js, line 1: 'export default 1;'"):
        browsercode.join_modules(folder)


def test_modules_that_import_each_other_are_refused(tmp_path: Path) -> None:
    folder = modules(
        tmp_path / "code",
        main='import { a } from "./a.js";\na();\n',
        a='import { b } from "./b.js";\nexport function a() { b(); }\n',
        b='import { a } from "./a.js";\nexport function b() { a(); }\n',
    )
    with pytest.raises(MemberkitError, match=r"a\.js -> b\.js -> a\.js"):
        browsercode.join_modules(folder)
    modules(folder, main='import { z } from "./missing.js";\nz();\n')
    with pytest.raises(MemberkitError, match=r"missing\.js: imported by main\.js"):
        browsercode.join_modules(folder)


def test_files_are_named_by_their_content(tmp_path: Path) -> None:
    folder = modules(
        tmp_path / "code", main="const x = 1;\n", boot="var y;\n", mark="/* What. */\nvar z;\n"
    )
    (folder / "memberkit.css").write_text("a { color: red; }\n")
    first = browsercode.BrowserCode.from_folder(folder)
    assert first.mark == "var z;"  # inline in every page: without its comment
    assert re.fullmatch(r"main\.[0-9a-f]{10}\.js", first.main)
    assert re.fullmatch(r"boot\.[0-9a-f]{10}\.js", first.boot)
    assert re.fullmatch(r"memberkit\.[0-9a-f]{10}\.css", first.stylesheet)
    assert set(first.files) == {first.main, first.boot, first.stylesheet}
    assert browsercode.BrowserCode.from_folder(folder) == first
    (folder / "memberkit.css").write_text("a { color: blue; }\n")
    second = browsercode.BrowserCode.from_folder(folder)
    assert second.stylesheet != first.stylesheet and second.main == first.main


def test_every_page_loads_the_joined_code_that_the_site_holds(bundled_site: Path) -> None:
    mark = (ROOT / "generator/assets/memberkit/mark.js").read_text().split("*/", 1)[1].strip()
    for page in (bundled_site / "index.html", bundled_site / "guides/task-briefs/index.html"):
        html = page.read_text()
        head, body = html.split("</head>", 1)
        main = re.findall(
            r'<script type="module" async src="(?:\.\./)*(assets/memberkit/[^"]+)"', head
        )
        assert len(main) == 1 and re.fullmatch(r"assets/memberkit/main\.[0-9a-f]{10}\.js", main[0])
        assert f"<script>{mark}</script>" in head  # nothing to fetch before the first paint
        # The classic script right before the theme's bundle, in the body: not blocking.
        boot = re.search(
            r'<script src="(?:\.\./)*(assets/memberkit/boot\.[0-9a-f]{10}\.js)"></script>'
            r'<script src="(?:\.\./)*assets/javascripts/bundle\.',
            body,
        )
        assert boot is not None
        assert all((bundled_site / path).is_file() for path in (main[0], boot.group(1)))
        assert re.search(r'href="(?:\.\./)*assets/memberkit/memberkit\.[0-9a-f]{10}\.css"', head)
        # First in <head>, after the character set and the policy: the parser reaches the
        # keystore's link (naming the modules) and the inline script before any
        # stylesheet; the modules' own tag ends <head>, after the stylesheets.
        order = [
            head.index(tag)
            for tag in (
                '<meta charset="utf-8">',
                '<meta http-equiv="Content-Security-Policy"',
                '<meta name="mk1-keystore"',
                f"<script>{mark}</script>",
                '<link rel="stylesheet"',
                '<script type="module" async',
            )
        ]
        assert order == sorted(order), order
        named = re.search(
            r'<meta name="mk1-keystore" content="[^"]+" data-modules="([^"]+)">', head
        )
        assert named and named.group(1).endswith(main[0])
