"""memberkit: a members-only static site generator built on MkDocs and Material.

One subpackage per concern, each saying in its docstring what it owns and may import:
`protection` (MK1), `members` (the private state and the roster), `content` (who may
read what, and when), `documents` (the templates and their files), `publish` (what a
static host and search engines get), `engine` (the MkDocs adapter, the only code that
imports MkDocs), `starter` (the sources `memberkit new` writes) and `cli` (the
`memberkit` command), over `errors` and `process`.
"""

from __future__ import annotations

__version__ = "0.1.0"
