"""How every output of ours shows a secret value: ``[secret]``, as ``pulumi preview --json`` displays one.

Renders, stack configs given to the pack, diffs, findings and evidence all use this one text, so a reader (and a
test) can tell a redacted value anywhere.
"""

SECRET_TEXT = "[secret]"
