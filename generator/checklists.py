"""The checklist extension as mkdocs.yml files list it (`markdown_extensions:
- generator.checklists`), with a guard: it renders nothing unless the memberkit plugin
runs in the same build.

An engine that reads mkdocs.yml but runs no MkDocs plugin (Zensical) would publish
every members' page in plaintext. It does load Markdown extensions: this one stops the
first page it renders, so such a build fails instead. The extension itself lives in
`generator.content.checklists`.
"""

from __future__ import annotations

from typing import Any

from markdown import Markdown
from markdown.preprocessors import Preprocessor

from generator.content.checklists import ChecklistExtension, plugin_running

NOT_RUNNING = (
    "memberkit: this build does not run the memberkit plugin, so it would publish "
    "members' pages in plaintext; build with 'memberkit build' or 'mkdocs build' (an "
    "engine that skips MkDocs plugins, such as Zensical, cannot build a memberkit site)"
)


class PluginMissing(RuntimeError):
    """A page rendered by a build without the memberkit plugin."""


class _Guard(Preprocessor):  # type: ignore[misc]  # Markdown ships no types
    def run(self, lines: list[str]) -> list[str]:
        if not plugin_running():
            raise PluginMissing(NOT_RUNNING)
        return lines


class GuardedChecklistExtension(ChecklistExtension):
    def extendMarkdown(self, md: Markdown) -> None:
        super().extendMarkdown(md)
        md.preprocessors.register(_Guard(md), "memberkit-guard", 1000)  # before all


def makeExtension(**kwargs: Any) -> GuardedChecklistExtension:  # the name Markdown looks for
    return GuardedChecklistExtension(**kwargs)


__all__ = ["GuardedChecklistExtension", "PluginMissing", "makeExtension"]
