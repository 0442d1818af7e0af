"""What several commands share: their options, and how they print MkDocs' and the
plugin's messages."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class Echo(logging.Handler):
    """Prints a log record as `warning: …` / `error: …`, plain text at INFO."""

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            click.secho(f"error: {message}", fg="red", err=True)
        elif record.levelno >= logging.WARNING:
            click.secho(f"warning: {message}", fg="yellow", err=True)
        else:
            click.echo(message, err=True)


@contextmanager
def plugin_notes(verbose: bool) -> Iterator[None]:
    """Also show the plugin's notes (a member dropped at expiry, a wait for the state's
    lock): INFO lines, which `memberkit build` otherwise hides with MkDocs' chatter.
    Not warnings, so that they never fail a strict build."""
    if verbose:  # everything is shown already
        yield
        return
    logger = logging.getLogger("mkdocs.plugins.memberkit")
    handler = Echo(logging.INFO)
    handler.addFilter(lambda record: record.levelno < logging.WARNING)
    saved = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved)


def config_option(func: F) -> F:
    return click.option(
        "-f",
        "--config-file",
        type=click.Path(dir_okay=False),
        default=None,
        help="The site's mkdocs.yml (default: ./mkdocs.yml).",
    )(func)


def site_dir_option(what: str) -> Callable[[F], F]:
    return click.option(
        "-d",
        "--site-dir",
        type=click.Path(file_okay=False),
        default=None,
        help=f"{what} (default: site_dir of mkdocs.yml, usually ./site).",
    )


def verbose_option(func: F) -> F:
    return click.option("-v", "--verbose", is_flag=True, help="Show every build message.")(func)


def link_days_option(func: F) -> F:
    from generator.members.state import LINK_DAYS

    return click.option(
        "--link-days",
        default=LINK_DAYS,
        show_default=True,
        type=click.IntRange(1, 366),
        metavar="N",
        help="How many days the login link works (the password keeps working).",
    )(func)


def mail_options(func: F) -> F:
    func = click.option(
        "--dry-run",
        metavar="FOLDER",
        type=click.Path(file_okay=False),
        help="Write the emails as .eml files into FOLDER instead of sending them.",
    )(func)
    return click.option(
        "--send",
        is_flag=True,
        help="Email each member their login (server: MEMBERKIT_SMTP; template: emails/welcome.md).",
    )(func)


def shown(path: os.PathLike[str] | str) -> str:
    try:
        return os.path.relpath(path) + os.sep
    except ValueError:
        return str(path)


def shown_place(label: str) -> str:
    """A place of the private state as `StateStore.label` names it: a folder (ending
    in /), shown as `shown` shows one, or the sealed file."""
    if label.endswith("/"):
        return shown(label)
    try:
        return os.path.relpath(label)
    except ValueError:
        return label
