"""Data a build has made and reads back once, kept in a temporary file, not in memory:
a large site's envelopes and shingle keys are megabytes (tens at thousands of pages).

The file is unlinked as soon as it is made: it goes with its descriptor, whatever
ends the build. Writes and reads are positioned (`pwrite`, `pread`): a helper process
handed the descriptor shares its offset with the build, and neither uses it.
"""

from __future__ import annotations

import os
import tempfile

from generator.errors import MemberkitError

Where = tuple[int, int]  # offset and length in the file


class Spill:
    """One temporary file: what is put in it, and where."""

    def __init__(self, fd: int | None = None) -> None:
        # Given (a helper writes to the build's file), or made at the first write and
        # then ours to close.
        self._fd, self._owned = fd, False
        self._end = 0

    @property
    def fd(self) -> int:
        if self._fd is None:
            self._fd, name = tempfile.mkstemp(prefix="memberkit-")
            os.unlink(name)
            self._owned = True
        return self._fd

    def put(self, data: bytes) -> Where:
        """Append `data`; where it is."""
        where = (self._end, len(data))
        view = memoryview(data)
        while view:
            written = os.pwrite(self.fd, view, self._end)
            view, self._end = view[written:], self._end + written
        return where

    def get(self, where: Where) -> bytes:
        offset, length = where
        data = os.pread(self.fd, length, offset)
        if len(data) != length:
            raise MemberkitError("the build's temporary file lost what it held; build again")
        return data

    def close(self) -> None:
        if self._owned and self._fd is not None:
            os.close(self._fd)
        self._fd, self._owned = None, False
        self._end = 0
