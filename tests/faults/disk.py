"""A disk that fills up, for real: a small tmpfs mounted for the test, or a file size limit (ulimit -f)."""

from __future__ import annotations

import os
import resource
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def small_disk(path: Path, size: str, inodes: int | None = None):
    """A tmpfs of `size` mounted at `path`; skips where mounting is not allowed (not root, no CAP_SYS_ADMIN)."""
    path.mkdir(parents=True)
    options = f"size={size}" + (f",nr_inodes={inodes}" if inodes else "")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); the ulimit -f tests cover a full disk")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def leave_free(disk: Path, free: int) -> Path:
    """Fill `disk` with one file until `free` bytes are left (to the page); returns the file (delete it
    to give the room back)."""
    filler = disk / "filler"
    with open(filler, "wb") as f:
        f.write(bytes(max(0, free_bytes(disk) - free)))
    return filler


def file_size_limit(limit_bytes: int):
    """A preexec_fn: the child may not write any file past `limit_bytes` (writes fail with EFBIG)."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return limit
