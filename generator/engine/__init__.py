"""Engine: the MkDocs adapter, the only code that imports MkDocs.

Owns the plugin's hooks (`plugin`) and its typed settings (`config`), and the objects
the hooks hand their work to: members' pages and their envelopes (`sealing`), head
tags, feed and sitemap dates (`discovery`), the owner's links (`links`), the security
policy made from what the site loads (`policy`), the live preview (`preview`), and
building a site in-process with a failed build leaving the last good one (`build`).

May import every other concern of the package; only `generator.cli` imports it.
"""
