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

One mechanism for every kept artefact (these builds, and ``sovereign check``'s verdicts and renders in its own
directory, sovereign/check/verdict_cache.py): ``write_entry``/``read_entry`` keep bytes under a name and a key,
each file carrying the entry format, its name, its key and the SHA-256 of its bytes; a file whose header does not
match what is asked, or whose bytes do not match their digest (truncated, damaged, copied from another key), is
ignored, so the caller builds anew.
"""

from __future__ import annotations

import copyreg
import functools
import hashlib
import json
import os
import pickle
import re
import stat
import sys
import tempfile
import types
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

CACHE_ENV = "SOVEREIGN_CACHE_DIR"
FORMAT = "2"
ENTRY_FORMAT = "sovereign-cache-entry/1"
"""The header every kept file starts with (one JSON line); another format is another program's file: ignored."""
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
    kept = read_entry(directory, name, key, owner_only=True)
    if kept is not None:
        try:
            return pickle.loads(kept)  # noqa: S301 - our own file (owner_only)
        except Exception:  # noqa: BLE001, S110 - damaged in a way the digest cannot see: build it anew
            pass
    value = build()
    try:
        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - a build that cannot be kept is simply not kept
        return value
    write_entry(directory, name, key, data)
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


def _entry_path(directory: Path, name: str, key: str) -> Path:
    return directory / f"{name}-{key}.entry"


def read_entry(directory: Path, name: str, key: str, *, owner_only: bool = False) -> bytes | None:
    """The bytes kept under ``name`` and ``key``, or None: absent, unreadable, another format, another name or
    key in its header, or bytes that do not match their digest. ``owner_only``: also None unless this user owns
    the file and nobody else may write it (for bytes that run code when loaded, i.e. pickles)."""
    try:
        with _entry_path(directory, name, key).open("rb") as handle:
            if owner_only:
                info = os.fstat(handle.fileno())
                if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                    return None
            header = json.loads(handle.readline())
            data = handle.read()
    except Exception:  # noqa: BLE001 - absent, damaged or unreadable: build it anew
        return None
    expected = {"format": ENTRY_FORMAT, "name": name, "key": key, "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest()}
    return data if header == expected else None


def write_entry(directory: Path, name: str, key: str, data: bytes, *, keep: int = MAX_KEPT) -> None:
    """Keep ``data`` under ``name`` and ``key`` (atomically: a reader sees the old entry or the whole new one),
    then drop the oldest entries of ``name`` beyond ``keep``. A cache that cannot be written only costs the next
    run time: errors are swallowed."""
    header = {"format": ENTRY_FORMAT, "name": name, "key": key, "size": len(data),
              "sha256": hashlib.sha256(data).hexdigest()}
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{name}-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(json.dumps(header, sort_keys=True).encode() + b"\n")
                handle.write(data)
            os.replace(tmp, _entry_path(directory, name, key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        own = re.compile(re.escape(name) + r"-[0-9a-f]{64}\.entry")  # not another name's: "a-b" under name "a"
        kept = sorted((p for p in directory.glob(f"{name}-*.entry") if own.fullmatch(p.name)),
                      key=lambda p: p.stat().st_mtime)
        for old in kept[:-keep] if keep > 0 else kept:
            old.unlink(missing_ok=True)
    except Exception:  # noqa: BLE001, S110 - a cache that cannot be written only costs the next run time
        pass
