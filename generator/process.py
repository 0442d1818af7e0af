"""Helper processes of the build: a fresh interpreter running one of this package's
modules. No MkDocs import."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def helper_command(module: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run `module` (`generator.…`) in a helper.

    `-P`: not the working directory first on the path, where a project could hold a
    "generator" folder of its own; the build's own package first instead, so the
    helper runs the very code of the build that started it.
    """
    package_parent = str(Path(__file__).resolve().parent.parent)
    paths = [package_parent, *filter(None, [os.environ.get("PYTHONPATH")])]
    return (
        [sys.executable, "-P", "-m", module],
        {**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
    )
