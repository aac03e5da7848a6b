"""Checkov in its own virtualenv (``bench/.venv-checkov``), created on first use.

Checkov pins dozens of libraries (boto3, networkx, ...) that must never leak into the project venv: the
benchmark compares against it, it is not a dependency. The venv is made with the system ``python3 -m venv``
and ``pip install checkov==CHECKOV_VERSION``; a stamp file records the pin so a changed pin rebuilds it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

CHECKOV_VERSION = "3.3.30"
VENV_DIR = Path(__file__).resolve().parent / ".venv-checkov"
STAMP = VENV_DIR / ".checkov-version"


def checkov_bin() -> Path:
    return VENV_DIR / "bin" / "checkov"


def ensure_checkov(*, log: Callable[[str], object] = print) -> Path:
    """Path of the ``checkov`` executable, installing it first when missing or pinned differently."""
    if checkov_bin().is_file() and STAMP.is_file() and STAMP.read_text().strip() == CHECKOV_VERSION:
        return checkov_bin()
    python = shutil.which("python3") or sys.executable
    if VENV_DIR.exists():
        shutil.rmtree(VENV_DIR)
    log(f"creating {VENV_DIR} with checkov=={CHECKOV_VERSION} (first use; a few minutes)")
    subprocess.run([python, "-m", "venv", str(VENV_DIR)], check=True)
    pip = [str(VENV_DIR / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", f"checkov=={CHECKOV_VERSION}"], check=True)
    STAMP.write_text(CHECKOV_VERSION + "\n")
    return checkov_bin()


def checkov_version() -> str:
    proc = subprocess.run([str(ensure_checkov()), "--version"], capture_output=True, text=True, check=True)
    return proc.stdout.strip()


if __name__ == "__main__":
    print(ensure_checkov())
    print(checkov_version())
