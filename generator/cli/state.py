"""`memberkit state`: the key of the sealed state, and sealing or unsealing it.

The work is `members.keeping`'s; these commands find the site, read the key from
MEMBERKIT_STATE_KEY and say what moved where.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

import click

from generator.cli.options import config_option, shown_place
from generator.errors import MemberkitError
from generator.members import keeping, sealed, store


@click.group()
def state() -> None:
    """Keep the private state sealed in memberkit.state, a file to commit (with the key in
    MEMBERKIT_STATE_KEY), or in .memberkit/ again."""


@state.command("key")
def state_key() -> None:
    """Print a new random key for MEMBERKIT_STATE_KEY (shown once, kept nowhere)."""
    click.echo(sealed.new_key())
    click.echo(
        f"Keep it secret and safe: in your password manager, and as the {sealed.KEY_ENV} "
        "secret of your CI. memberkit keeps it nowhere, and without it nobody (you "
        "included) can open the sealed state.",
        err=True,
    )


@state.command("seal")
@config_option
def state_seal(config_file: str | None) -> None:
    """Seal the private state of .memberkit/ into memberkit.state beside mkdocs.yml.

    The folder's files are removed once memberkit.state is written and reads back as
    them. From then on, with MEMBERKIT_STATE_KEY set, every command reads and changes
    memberkit.state: commit it.
    """
    folder, sealed_file, content = _move(config_file, keeping.seal)
    click.echo(
        f"Sealed the private state ({content}) into {sealed_file} and removed it from "
        f"{folder}. Commit {sealed.SEALED_FILE}; memberkit reads it while "
        f"{sealed.KEY_ENV} holds its key."
    )


@state.command("unseal")
@config_option
def state_unseal(config_file: str | None) -> None:
    """Turn memberkit.state back into the files of .memberkit/, and remove it.

    The files are written and read back before memberkit.state is removed. Then unset
    MEMBERKIT_STATE_KEY, and commit the removal (git rm memberkit.state).
    """
    folder, sealed_file, content = _move(config_file, keeping.unseal)
    click.echo(
        f"Unsealed the private state ({content}) into {folder} and removed {sealed_file}: "
        f"commit its removal (git rm {sealed.SEALED_FILE}), keep {folder} out of git, and "
        f"unset {sealed.KEY_ENV}."
    )


def _move(config_file: str | None, move: keeping.Move) -> tuple[str, str, str]:
    """Seal or unseal the state of the site: (the folder, the sealed file, what moved)."""
    from generator.engine.build import find_config

    try:
        root = find_config(config_file).parent
        key = sealed.key_from(os.environ)
        if key is None:
            raise MemberkitError(
                f"set {sealed.KEY_ENV} first: to seal, to a new key ('memberkit state key' "
                "prints one); to unseal, to the key the state was sealed with"
            )
        folder, sealed_file, files = move(root, key)
    except MemberkitError as error:
        raise click.ClickException(str(error)) from None
    return shown_place(folder.label()), shown_place(sealed_file.label()), _content(files)


def _content(files: Mapping[str, bytes]) -> str:
    """What moved, in the owner's words (a roster unsealed to be mended is not checked)."""
    from generator.members.mail import OUTBOX_DIR

    waiting = sum(name.startswith(f"{OUTBOX_DIR}/") for name in files)
    try:
        members = f"{len(json.loads(files[store.STATE_FILE])['members'])} member(s)"
    except (KeyError, TypeError, ValueError):
        members = "the roster"
    return f"{members}, {waiting} welcome email(s) waiting to be sent"
