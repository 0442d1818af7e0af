"""Members: the owner's private state and everything that changes the roster.

Owns the model (`state`: site id, tier keys, members, login links), what the roster
accepts (`checks`), where the state is kept and how it is written (`store`), imports
and exports (`roster`), checkout exports (`checkout`), the keystore a build publishes
from the roster (`keystore_writer`) and the emails to members (`mail`).

May import: `generator.errors`, `generator.process`, `generator.protection`. Nothing
of MkDocs or the command line.
"""
