"""Stack configuration: the schema-validated, catalog-checked view of ``stacks/Pulumi.<stack>.yaml``.

``stack_file.py`` reads the file; ``loader.py`` validates it (``load_stack``, ``parse_stack_config``,
``config_keys``, ``list_stacks``) into ``model.py``'s ``StackConfig``. Import from those modules: the package itself
imports nothing, so code that needs only the model (the connectivity engine) does not load the validator.
"""
