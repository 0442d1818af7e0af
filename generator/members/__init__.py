"""Members: the owner's private state and everything that changes the roster.

Owns the model (`state`: site id, tier keys, members, login links), what the roster
accepts (`checks`), the form it keeps an email with an international domain in
(`addresses`), how the state is read and written (`store`: its files, the folder that
holds them, the lock), the state sealed in one file for a repository (`sealed`: the
format; `keeping`: which way it is kept, and sealing or unsealing it), imports and
exports (`roster`), checkout exports (`checkout`), reading the checkout's API
(`sync`: applying what it says, once; `purchases`: what each purchase gave a member;
`stripe_checkout`, `lemonsqueezy_checkout`: each API), the keystore a build publishes
from the roster (`keystore_writer`) and the emails to members (`mail`).

May import: `generator.errors`, `generator.process`, `generator.protection`. Nothing
of MkDocs or the command line.
"""
