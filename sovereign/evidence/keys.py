"""The organisation's signing key pair: Ed25519 in PEM files (PKCS#8 private key, SubjectPublicKeyInfo public key),
the formats ``openssl genpkey -algorithm ed25519`` and ``openssl pkey -pubout`` write, so a key made elsewhere works
and a regulator can inspect the public key with standard tools.

A private key may be encrypted; its passphrase comes from ``$SOVEREIGN_EVIDENCE_KEY_PASSPHRASE`` (never a flag:
command lines end up in shell histories and CI logs). ``keygen`` encrypts with it when it is set.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sovereign.core.errors import InputError

PASSPHRASE_ENV = "SOVEREIGN_EVIDENCE_KEY_PASSPHRASE"
PRIVATE_KEY_FILE = "evidence-key.pem"
PUBLIC_KEY_FILE = "evidence-key.pub.pem"
MAX_KEY_BYTES = 64 * 1024
"""A PEM key is a few hundred bytes; anything larger is not a key (and is not read whole)."""


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def _read(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise InputError(path, (), f"a readable {what} (PEM file)", found_text="no such file" if not path.exists()
                         else "not a regular file")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_KEY_BYTES + 1)
    except OSError as exc:
        raise InputError(path, (), f"a readable {what} (PEM file)", found_text=exc.strerror or str(exc)) from None
    if len(data) > MAX_KEY_BYTES:
        raise InputError(path, (), f"a {what} (PEM file of a few hundred bytes)", found_text="a larger file")
    return data


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in ``path``; InputError naming the file when it is anything else."""
    data = _read(path, "Ed25519 private key")
    try:
        key = serialization.load_pem_private_key(data, password=_passphrase())
    except TypeError as exc:  # encrypted without a passphrase, or a passphrase for a plain key
        raise InputError(path, (), f"an Ed25519 private key (an encrypted one with ${PASSPHRASE_ENV} set)",
                         found_text=str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - the library raises several types for a malformed key
        raise InputError(path, (), "an Ed25519 private key in PEM (PKCS#8)", found_text=str(exc)[:200]) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(path, (), "an Ed25519 private key", found_text=type(key).__name__)
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in ``path``; InputError naming the file when it is anything else."""
    data = _read(path, "Ed25519 public key")
    try:
        key = serialization.load_pem_public_key(data)
    except Exception as exc:  # noqa: BLE001 - the library raises several types for a malformed key
        raise InputError(path, (), "an Ed25519 public key in PEM (SubjectPublicKeyInfo)",
                         found_text=str(exc)[:200]) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError(path, (), "an Ed25519 public key", found_text=type(key).__name__)
    return key


def generate_key_pair(directory: Path, *, force: bool) -> tuple[Path, Path]:
    """Write a new key pair into ``directory`` (private key mode 0600, created so, never widened first); an
    existing key file is bad input unless ``force`` (a signing key is not overwritten by accident)."""
    private, public = directory / PRIVATE_KEY_FILE, directory / PUBLIC_KEY_FILE
    if not force:
        for path in (private, public):
            if path.exists() or path.is_symlink():
                raise InputError(path, (), "no existing key file (pass --force to replace the key pair)",
                                 found_text="an existing file")
    if directory.exists() and not directory.is_dir():
        raise InputError(directory, (), "a directory for the key pair", found_text="not a directory")
    key = Ed25519PrivateKey.generate()
    passphrase = _passphrase()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption())
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _write(private, private_pem, 0o600)
        _write(public, public_pem, 0o644)
    except OSError as exc:
        raise InputError(directory, (), "a writable directory for the key pair",
                         found_text=exc.strerror or str(exc)) from None
    return private, public


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write through a new file created with ``mode`` (O_EXCL on a temporary name, then renamed into place)."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)  # the umask may have narrowed it further; never wider than asked
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
