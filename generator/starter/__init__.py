"""Starter: the sources of a new site, as `memberkit new` writes them.

Owns the starter site (`files/`: mkdocs.yml with the plugin set up, a home page, a
public article, one members' guide, two document templates, a snippet, the join and
about pages), the bundled example site (`example/`: the repository's own site, which
the wheel and the sdist carry as package data, see pyproject.toml), and writing either
into an owner's new or empty folder (`writer`).

May import: `generator.errors`. Nothing of MkDocs: what is written is plain files.
"""
