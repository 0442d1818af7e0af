"""Documents: the copy-and-paste templates members fill in, copy and download.

Owns the template model (`model`: front matter, fields, blanks, spreadsheet specs),
the blocks every renderer walks (`blocks`), the Markdown, text and HTML renderers
(`render`), Word (`word`) and Excel and CSV (`spreadsheet`) files, the library of
generated pages (`library`) and every downloadable file (`downloads`).

May import: `generator.errors`, `generator.content`. Nothing of MkDocs.
"""
