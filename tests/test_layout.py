"""The package's folders are its architecture: each concern imports only the concerns
below it, and only the engine imports MkDocs."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import ROOT

PACKAGE = ROOT / "generator"
#: What each concern may import of the package, besides itself (as each folder's
#: `__init__.py` says).
MAY_IMPORT = {
    "protection": {"errors", "process"},
    "content": {"errors"},
    "members": {"errors", "process", "protection"},
    "documents": {"errors", "content"},
    "publish": {"errors", "content", "documents"},
    "engine": {"errors", "process", "protection", "members", "content", "documents", "publish"},
    "starter": {"errors"},
    "cli": {
        *("errors", "members", "protection", "content", "documents", "publish", "engine"),
        "starter",
    },
}
OUTSIDE_ENGINE_FORBIDDEN = ("mkdocs", "material")


def imports(path: Path) -> set[str]:
    """Every module `path` imports, wherever in the file (function bodies too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            if node.module == "generator":  # from generator import x
                found.update(f"generator.{alias.name}" for alias in node.names)
    return found


def concern_files(concern: str) -> list[Path]:
    return sorted((PACKAGE / concern).rglob("*.py"))


@pytest.mark.parametrize("concern", sorted(MAY_IMPORT))
def test_each_concern_imports_only_what_its_docstring_allows(concern: str) -> None:
    assert (PACKAGE / concern / "__init__.py").read_text().startswith('"""'), concern
    wrong = []
    for path in concern_files(concern):
        for module in imports(path):
            parts = module.split(".")
            if parts[0] != "generator" or len(parts) < 2 or parts[1] in ("__version__",):
                continue
            if parts[1] != concern and parts[1] not in MAY_IMPORT[concern]:
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_only_the_engine_imports_mkdocs() -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if "engine" not in path.relative_to(PACKAGE).parts
        for module in imports(path)
        if module.split(".")[0] in OUTSIDE_ENGINE_FORBIDDEN
    ]
    assert not wrong, "\n".join(wrong)


def test_every_module_is_in_a_concern_but_the_shared_few() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    # errors and process are shared by every concern; checklists is the name
    # mkdocs.yml files give the checklist extension (generator.content.checklists).
    assert top == ["__init__.py", "__main__.py", "checklists.py", "errors.py", "process.py"]
