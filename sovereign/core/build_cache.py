"""Built data kept between runs, keyed by everything it was built from: the catalog and the registry of kinds.

Why: every command reads, schema-validates and freezes the same catalog and registry of kinds (about a tenth of
a second, plus importing the JSON Schema validator), which dominates a check of a few dozen objects. A build is
kept, pickled, under a key that is the SHA-256 of the Python version, the source code that builds it (every
module of the packages named) and every input file's bytes: any change to the data or to the code builds it anew,
so a kept build is exactly what the build would give. A failed build (bad input) is never kept: it is built, and
fails with its own error, every time.

Where: ``$SOVEREIGN_CACHE_DIR``, else ``$XDG_CACHE_HOME/sovereign-clusters``, else
``~/.cache/sovereign-clusters``; ``SOVEREIGN_CACHE_DIR=off`` builds every time. A kept file is used only if this
user owns it and nobody else may write it (a pickle runs code when read); one that cannot be read is built anew.
At most ``MAX_KEPT`` builds of each name are kept (the oldest go first).
"""

from __future__ import annotations

import copyreg
import functools
import hashlib
import os
import pickle
import stat
import sys
import tempfile
import types
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

CACHE_ENV = "SOVEREIGN_CACHE_DIR"
FORMAT = "1"
MAX_KEPT = 32
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


def _mapping_proxy(items: dict[object, object]) -> types.MappingProxyType[object, object]:
    return types.MappingProxyType(items)


copyreg.pickle(types.MappingProxyType, lambda proxy: (_mapping_proxy, (dict(proxy),)))
"""The frozen models hold read-only mappings, which pickle does not know by itself."""


def cache_dir() -> Path | None:
    chosen = os.environ.get(CACHE_ENV)
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "no") else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sovereign-clusters"


@functools.cache
def _code_digest(packages: tuple[str, ...]) -> bytes:
    digest = hashlib.sha256(f"{FORMAT}|{sys.version}|{sys.implementation.cache_tag}".encode())
    for package in packages:
        for path in sorted((_PACKAGE_ROOT / package).rglob("*.py")):
            digest.update(str(path.relative_to(_PACKAGE_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def built(name: str, inputs: Iterable[Path], build: Callable[[], T], *, code: Sequence[str]) -> T:
    """``build()``, or what it returned before for the same inputs and code. ``inputs``: the files it reads (all
    regular files; anything else, or any trouble reading one, and the build simply runs); ``code``: the
    ``sovereign`` packages whose modules make the build (``core``, ``catalog``...)."""
    directory = cache_dir()
    key = _key(name, inputs, code) if directory is not None else None
    if directory is None or key is None:
        return build()
    path = directory / f"{name}-{key}.pickle"
    kept = _read(path)
    if kept is not None:
        return kept  # type: ignore[return-value]
    value = build()
    _write(directory, name, path, value)
    return value


def _key(name: str, inputs: Iterable[Path], code: Sequence[str]) -> str | None:
    digest = hashlib.sha256(_code_digest(tuple(code)) + name.encode())
    try:
        for path in inputs:
            info = os.stat(path)
            if not stat.S_ISREG(info.st_mode):
                return None
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    except OSError:
        return None
    return digest.hexdigest()


def _read(path: Path) -> object | None:
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                return None
            return pickle.load(handle)  # noqa: S301 - our own file: owned by this user, written by no one else
    except Exception:  # noqa: BLE001 - absent, damaged or unreadable: build it anew
        return None


def _write(directory: Path, name: str, path: Path, value: object) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        kept = sorted(directory.glob(f"{name}-*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-MAX_KEPT]:
            old.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001, S110 - a cache that cannot be written only costs the next run time
        pass
