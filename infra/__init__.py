"""The Pulumi program: one sovereign cluster estate per stack (see docs/program.md).

``infra/__main__.py`` is the entry point the Pulumi language host runs; the modules next to it are importable
as ``infra.<module>`` because the repository is pip-installed (editable) into the project's virtualenv.
"""
