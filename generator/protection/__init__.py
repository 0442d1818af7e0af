"""Protection: MK1, the format of everything encrypted (PROTOCOL.md in the design notes).

Owns the primitives and envelopes (`mk1`), the keystore's published layouts
(`keystore`), sealing a page, download or search shard (`envelopes`), the search text
of sealed pages (`searchtext`), the proof that a built site holds no protected
plaintext (`leakcheck`), the helper process that does that work on a second core
(`worker`), and the temporary file both keep what they read back once in (`spill`).

May import: `generator.errors`, `generator.process`. Nothing of MkDocs, the roster or
the command line: another engine or an independent reader can use it as it is.
"""
