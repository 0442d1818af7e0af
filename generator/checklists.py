"""The name under which mkdocs.yml files list the checklist extension
(`markdown_extensions: - generator.checklists`); it lives in `generator.content.checklists`."""

from generator.content.checklists import ChecklistExtension, makeExtension

__all__ = ["ChecklistExtension", "makeExtension"]
