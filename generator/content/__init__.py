"""Content: what a page is, and for whom.

Owns who may read what (`access`: tiers, folder defaults, front matter, the teaser
divider), a page's dates (`dates`), scheduled release (`schedule`), the invitation to
join beside a members' part (`join`) and the checklist Markdown extension
(`checklists`).

May import: `generator.errors`. Nothing of MkDocs: the engine hands in a page's source
text and path, and gets back plain records or a `MemberkitError` naming the file.
"""
