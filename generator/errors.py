"""The one error type the owner sees.

Core modules raise `MemberkitError` for mistakes in the owner's input. The plugin
turns it into a MkDocs `PluginError`; the CLI prints it as one line, no traceback.
"""

from __future__ import annotations


class MemberkitError(Exception):
    """A mistake in the owner's input: says where it is and how to fix it."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        self.detail = message
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.path or ""
        if where and self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.detail}" if where else self.detail
