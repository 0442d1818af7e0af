"""Publish: what a static host, search engines and feed readers get besides the pages.

Owns the host files and the nginx server block (`hosting`), the Atom feed (`feed`),
the tags search engines and link previews read (`seo`) and the access report an owner
reviews before publishing (`report`).

May import: `generator.errors`, `generator.content`, `generator.documents`. Nothing of
MkDocs: the engine hands in settings and public HTML.
"""
