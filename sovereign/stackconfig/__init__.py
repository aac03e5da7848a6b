"""Stack configuration: the schema-validated, catalog-checked view of ``stacks/Pulumi.<stack>.yaml``."""

from sovereign.core.labels import CONFIG_NAMESPACE
from sovereign.stackconfig.loader import (
    DEFAULT_RENDER_DIR,
    config_keys,
    list_stacks,
    load_stack,
    load_stack_file,
    parse_stack_config,
    stack_schema,
)
from sovereign.stackconfig.model import StackConfig

__all__ = [
    "CONFIG_NAMESPACE",
    "DEFAULT_RENDER_DIR",
    "StackConfig",
    "config_keys",
    "list_stacks",
    "load_stack",
    "load_stack_file",
    "parse_stack_config",
    "stack_schema",
]
