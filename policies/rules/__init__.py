"""One package per rule: ``rule.py`` (RULE) plus ``samples/allowed/*.yaml`` and ``samples/disallowed/*.yaml``."""
