"""The parts of ``Pulumi.yaml`` the language host uses to launch the program (docs/pulumi-runtime.md §1)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sovereign.core.errors import InputError
from sovereign.core.paths import project_root
from sovereign.core.yamlio import load_yaml_file


@dataclass(frozen=True)
class Project:
    root: Path
    name: str
    pwd: Path
    """Working directory of the program: ``main`` if it is a directory, else its parent."""
    entry: str
    """What ``runpy.run_path`` runs: ``"."`` for a directory ``main``, else the file's basename."""
    stack_config_dir: Path

    def stack_file(self, stack: str) -> Path:
        """``<stackConfigDir>/Pulumi.<stack>.yaml``; "/" in a stack name becomes "-" (workspace/paths.go)."""
        return self.stack_config_dir / f"Pulumi.{stack.replace('/', '-')}.yaml"

    def stack_names(self) -> list[str]:
        """Every stack with a file in the stack config dir, sorted."""
        names = [p.name[len("Pulumi.") : -len(".yaml")] for p in self.stack_config_dir.glob("Pulumi.*.yaml")]
        return sorted(n for n in names if n)


def load_project(root: Path | None = None) -> Project:
    root = (root or project_root()).resolve()
    path = root / "Pulumi.yaml"
    data = load_yaml_file(path)
    if not isinstance(data, dict):
        raise InputError(path, (), "a mapping", data)
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise InputError(path, ("name",), "a non-empty project name", name)
    main = data.get("main", ".")
    if not isinstance(main, str):
        raise InputError(path, ("main",), "a path relative to the project root", main)
    main_path = (root / main).resolve()
    if main_path.is_dir():
        pwd, entry = main_path, "."
    elif main_path.is_file():
        pwd, entry = main_path.parent, main_path.name
    else:
        raise InputError(path, ("main",), "an existing directory or file", main)
    config_dir = data.get("stackConfigDir", ".")
    if not isinstance(config_dir, str):
        raise InputError(path, ("stackConfigDir",), "a directory relative to the project root", config_dir)
    return Project(root=root, name=name, pwd=pwd, entry=entry, stack_config_dir=(root / config_dir).resolve())
