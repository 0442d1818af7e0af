"""Build the site in-process, into a temporary folder swapped in only on success.

A failed build must never leave a half-written `site/` behind: the owner may be
about to upload it. MkDocs writes into a sibling folder; when everything passed,
the old `site/` is renamed away, the new one renamed into place, the old removed.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import MemberkitError


@dataclass(frozen=True)
class BuildResult:
    site_dir: Path
    pages: int
    seconds: float


class BuildFailed(Exception):
    """The build stopped; its reasons were already reported through logging."""


class ConsoleHandler(logging.Handler):
    """Shows MkDocs' warnings and errors as short lines; hides chatter and duplicates."""

    def __init__(self, echo: logging.Handler, level: int) -> None:
        super().__init__(level)
        self.echo = echo
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            # "Error reading page 'x.md':" alone announces the error logged next.
            if message.startswith("Error reading page") and message.endswith(":"):
                return
            if message.startswith("Error reading page '"):
                page, _, rest = message[len("Error reading page '") :].partition("': ")
                message = f"{page}: {rest}"
            self.errors.append(message)
        record.msg, record.args = message, None
        self.echo.handle(record)


@contextmanager
def console_logging(
    echo: logging.Handler, level: int = logging.WARNING
) -> Iterator[ConsoleHandler]:
    """Route the `mkdocs` logger (plugins included) to `echo` for the duration."""
    logger = logging.getLogger("mkdocs")
    handler = ConsoleHandler(echo, level)
    saved = (logger.handlers[:], logger.level, logger.propagate)
    logger.handlers = [handler]
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.handlers, logger.level, logger.propagate = saved


def find_config(config_file: str | os.PathLike[str] | None) -> Path:
    path = Path(config_file) if config_file else Path("mkdocs.yml")
    if not path.is_file():
        raise MemberkitError(
            f"{path}: no such file; run memberkit in the folder that holds mkdocs.yml "
            "or pass --config-file"
        )
    return path.resolve()


def load_site_config(
    config_file: str | os.PathLike[str] | None = None, *, strict: bool | None = None
) -> tuple[Path, Any]:
    """mkdocs.yml, read and validated by MkDocs: (its path, the config)."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    path = find_config(config_file)
    try:
        return path, load_config(str(path), strict=strict)
    except ConfigurationError as error:
        raise MemberkitError(f"{path.name}: {error}") from None
    except Abort as error:
        raise BuildFailed(str(error)) from None


def _build_into(config: Any, folder: Path) -> None:
    """Run the whole MkDocs build, plugins included, into `folder`."""
    from mkdocs.commands.build import build
    from mkdocs.exceptions import Abort

    config.site_dir = str(folder)
    config.plugins.on_startup(command="build", dirty=False)
    try:
        build(config)
    except Abort as error:
        raise BuildFailed(str(error)) from None
    except Exception as error:
        # Markdown extensions (a missing snippet, say) raise plain exceptions
        # after MkDocs logged which page they came from.
        raise BuildFailed(str(error)) from error
    finally:
        config.plugins.on_shutdown()


def build_site(
    config_file: str | os.PathLike[str] | None = None,
    *,
    site_dir: str | os.PathLike[str] | None = None,
    strict: bool | None = None,
) -> BuildResult:
    """Build into a temporary sibling of the site folder and swap it in on success.

    Raises `MemberkitError` for bad input found before MkDocs runs, `BuildFailed`
    when MkDocs stopped (its reasons are in the log), and leaves the previous
    site folder exactly as it was in both cases.
    """
    started = time.monotonic()
    _, config = load_site_config(config_file, strict=strict)
    final = Path(site_dir).resolve() if site_dir else Path(config.site_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".site-build-", dir=final.parent))
    try:
        _build_into(config, staging)
        _swap_into_place(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pages = sum(1 for _ in final.rglob("*.html"))
    return BuildResult(final, pages, time.monotonic() - started)


def _swap_into_place(staging: Path, final: Path) -> None:
    staging.chmod(0o755)  # mkdtemp makes it owner-only; the site is meant to be read
    if not final.exists():
        staging.rename(final)
        return
    old = final.with_name(f".site-old-{os.getpid()}-{final.name}")
    final.rename(old)
    try:
        staging.rename(final)
    except BaseException:
        old.rename(final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def check_site(
    config_file: str | os.PathLike[str] | None = None,
    *,
    site_dir: str | os.PathLike[str] | None = None,
) -> tuple[Path, list[str]]:
    """Run the leak check on an existing site folder; returns (folder, leaks found).

    What is protected is learned by building the sources again into a temporary
    folder (deleted afterwards); the existing site is only read.
    """
    path, config = load_site_config(config_file)
    target = Path(site_dir).resolve() if site_dir else Path(config.site_dir)
    if not target.is_dir():
        raise MemberkitError(f"{target}: no such folder; build the site first (memberkit build)")
    plugin = config.plugins.get("memberkit")
    if plugin is None:
        raise MemberkitError(f"{path.name}: add '- memberkit' under plugins")
    plugin.keep_work_open = True  # type: ignore[attr-defined]
    try:
        with tempfile.TemporaryDirectory(prefix=".site-check-", dir=target.parent) as scratch:
            _build_into(config, Path(scratch))
            leaks = plugin.work.scan(target, skip=plugin.public_files)  # type: ignore[attr-defined]
    finally:
        plugin.work.close()  # type: ignore[attr-defined]
    return target, [str(leak) for leak in leaks]


def serve_site(path: Path, *, dev_addr: str, open_in_browser: bool) -> None:
    """MkDocs' live preview of the site whose mkdocs.yml is `path`, until stopped.

    Raises `BuildFailed` when MkDocs stops it, `OSError` when the address is taken."""
    from mkdocs.commands.serve import serve
    from mkdocs.exceptions import Abort, ConfigurationError

    try:
        serve(str(path), dev_addr=dev_addr, open_in_browser=open_in_browser)
    except (Abort, ConfigurationError) as error:
        raise BuildFailed(str(error)) from None


def page_sources(config: Any) -> list[tuple[str, Path]]:
    """(path under docs/, file) of every Markdown page the site builds, by path."""
    from mkdocs.structure.files import get_files

    return [
        (file.src_uri, Path(file.abs_src_path))
        for file in sorted(get_files(config), key=lambda f: f.src_uri)
        if file.is_documentation_page()
        and not file.inclusion.is_excluded()
        and file.abs_src_path is not None
    ]
