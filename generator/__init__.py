"""memberkit: a members-only static site generator built on MkDocs and Material."""

from __future__ import annotations

__version__ = "0.1.0"
