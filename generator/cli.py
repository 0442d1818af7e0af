"""The `memberkit` command: thin click commands over the core and MkDocs."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from . import __version__
from .errors import MemberkitError

# Material prints an end-of-life banner on every build that the owner cannot act
# on; the README explains the date and the plan instead.
os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")

F = TypeVar("F", bound=Callable[..., Any])


class _Echo(logging.Handler):
    """Prints a log record as `warning: …` / `error: …`, plain text at INFO."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            click.secho(f"error: {message}", fg="red", err=True)
        elif record.levelno >= logging.WARNING:
            click.secho(f"warning: {message}", fg="yellow", err=True)
        else:
            click.echo(message, err=True)


def config_option(func: F) -> F:
    return click.option(
        "-f",
        "--config-file",
        type=click.Path(dir_okay=False),
        default=None,
        help="The site's mkdocs.yml (default: ./mkdocs.yml).",
    )(func)


def verbose_option(func: F) -> F:
    return click.option("-v", "--verbose", is_flag=True, help="Show every build message.")(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="memberkit")
def cli() -> None:
    """Build and preview a members-only site from docs/, templates/ and snippets/."""


@cli.command()
@config_option
@verbose_option
@click.option(
    "-d",
    "--site-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where to put the site (default: site_dir of mkdocs.yml, usually ./site).",
)
@click.option(
    "--strict/--no-strict",
    default=None,
    help="Treat warnings as errors (default: the 'strict' setting of mkdocs.yml).",
)
def build(
    config_file: str | None, verbose: bool, site_dir: str | None, strict: bool | None
) -> None:
    """Build the site into site/, replacing it only if the build succeeds."""
    from .build import BuildFailed, build_site, console_logging

    with console_logging(_Echo(), logging.DEBUG if verbose else logging.WARNING):
        try:
            result = build_site(config_file, site_dir=site_dir, strict=strict)
        except MemberkitError as error:
            raise click.ClickException(str(error)) from None
        except BuildFailed as error:
            # The reasons were printed as they were logged; add only the warning count.
            counted = re.match(r"Aborted with (.+) in strict mode", str(error))
            reason = f" ({counted.group(1)} in strict mode)" if counted else ""
            raise click.ClickException(
                f"build failed{reason}; the previous site was left unchanged"
            ) from None
    click.echo(
        f"Built {result.pages} pages into {_shown(result.site_dir)} in {result.seconds:.1f} s"
    )


@cli.command()
@config_option
@verbose_option
@click.option(
    "-a",
    "--dev-addr",
    default="127.0.0.1:8000",
    show_default=True,
    metavar="IP:PORT",
    help="Address to serve the preview on.",
)
@click.option("--open", "open_in_browser", is_flag=True, help="Open the preview in a browser.")
def serve(config_file: str | None, verbose: bool, dev_addr: str, open_in_browser: bool) -> None:
    """Preview the site with live reload while you edit."""
    from mkdocs.commands.serve import serve as mkdocs_serve
    from mkdocs.exceptions import Abort, ConfigurationError

    from .build import console_logging, find_config

    try:
        path = find_config(config_file)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    with console_logging(_Echo(), logging.DEBUG if verbose else logging.INFO):
        try:
            mkdocs_serve(
                str(path),
                dev_addr=dev_addr,
                open_in_browser=open_in_browser,
            )
        except (Abort, ConfigurationError) as error:
            raise click.ClickException(f"preview stopped: {error}") from None
        except OSError as error:
            raise click.ClickException(
                f"cannot serve on {dev_addr}: {error.strerror}; pick another with --dev-addr"
            ) from None


def _shown(path: os.PathLike[str] | str) -> str:
    try:
        return os.path.relpath(path) + os.sep
    except ValueError:
        return str(path)


def main() -> None:  # pragma: no cover - `python -m generator`
    cli(prog_name="memberkit")


if __name__ == "__main__":  # pragma: no cover
    main()
