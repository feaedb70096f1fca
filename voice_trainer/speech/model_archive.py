"""A downloaded model archive (zip, or tar optionally gzip/bzip2/xz-compressed): checked, then unpacked.

An archive is untrusted input. Before a byte is written, every member is listed and checked: no more
than MAX_MEMBERS of them, no path leaving the model folder (absolute, `..`), no link pointing out of
it, no device or pipe, and the unpacked size the archive declares within a cap (at most MAX_RATIO
times the archive, and MAX_UNPACKED_BYTES in all), so a zip bomb is refused from its listing. While
unpacking, no member may grow past the size it declared; only the model folder is unpacked.
"""

from __future__ import annotations

import lzma
import os
import posixpath
import stat
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

MAX_MEMBERS = 2000  # a Vosk model has 20-60 files
MAX_UNPACKED_BYTES = 16 * 1024**3  # the biggest official Vosk models unpack to a few GB
MAX_RATIO = 20  # model files barely compress (about 3:1); a zip bomb reaches 1000:1
RATIO_FLOOR_BYTES = 64 * 1024**2  # below this the ratio does not matter: nothing big can come of it
FILE_OVERHEAD_BYTES = 4096  # a file takes at least a block on disk
_COPY_BYTES = 1 << 20
# What reading a damaged archive raises: the formats' own errors and their decompressors'.
_READ_ERRORS = (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError, zlib.error, lzma.LZMAError)


class ArchiveProblem(Exception):
    """Why an archive cannot be installed. `unsafe`: refused on purpose (fetching it again will not help)."""

    def __init__(self, message: str, unsafe: bool = False):
        super().__init__(message)
        self.unsafe = unsafe


@dataclass(frozen=True)
class Member:
    name: str  # posix path inside the archive, no trailing slash
    size: int  # unpacked bytes as the archive declares them
    kind: str  # "file", "dir", "symlink", "hardlink" or "special"
    target: str = ""  # what a link points at


class ModelArchive:
    """An open archive whose listing passed the checks; `unpack` writes its model folder."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._zip: zipfile.ZipFile | None = None  # a tar is opened afresh for each pass instead
        try:
            if zipfile.is_zipfile(self.path):
                self._zip = zipfile.ZipFile(self.path)
            self.members = self._listed()
        except ArchiveProblem:
            self.close()
            raise
        except _READ_ERRORS as err:
            self.close()
            raise ArchiveProblem(f"not a readable zip or tar archive: {err}") from None
        self.root = _model_root([m.name for m in self.members if m.kind == "file"])
        if self.root is None:
            self.close()
            raise ArchiveProblem("no am/final.mdl inside")
        self._check_links()

    @property
    def unpacked_bytes(self) -> int:
        """What the model folder takes on disk once unpacked, as the archive declares it."""
        return sum(m.size + FILE_OVERHEAD_BYTES for m in self.members if self._in_root(m.name))

    def verify(self) -> None:
        """Reads all the data to check it: each zip member's CRC, or a compressed tar's stream to its checksum."""
        try:
            if self._zip is not None:
                broken = self._zip.testzip()
                if broken is not None:
                    raise ArchiveProblem(f"corrupt member {broken}")
                return
            # The stream may not run on past the tar it holds: a gigabyte of zeros after it is a bomb too.
            limit = sum(m.size + 2 * tarfile.BLOCKSIZE for m in self.members) + 2 * tarfile.RECORDSIZE + _COPY_BYTES
            read = 0
            with _decompressed(self.path) as stream:
                while block := stream.read(_COPY_BYTES):
                    read += len(block)
                    if read > limit:
                        raise ArchiveProblem("more compressed data than the archive's files account for", unsafe=True)
        except _READ_ERRORS as err:
            raise ArchiveProblem(f"damaged data: {err}") from None

    def unpack(self, dest: Path) -> Path:
        """Writes the model folder's files into `dest` (which must not exist) and returns it."""
        dest.mkdir(mode=0o755)
        members = {m.name: m for m in self.members}
        files = self._file_data()
        while True:
            try:
                name, data = next(files)
            except StopIteration:
                break
            except _READ_ERRORS as err:
                raise ArchiveProblem(f"damaged data: {err}") from None
            if not self._in_root(name):
                continue
            out = self._dest_path(dest, name)
            out.parent.mkdir(parents=True, exist_ok=True)
            with open(out, "xb") as sink:
                _copy_at_most(data, sink, members[name].size, name)
        for member in self.members:  # links last, so nothing is ever written through one
            if self._in_root(member.name) and member.kind == "dir":
                self._dest_path(dest, member.name).mkdir(parents=True, exist_ok=True)
            elif self._in_root(member.name) and member.kind in ("symlink", "hardlink"):
                self._link(dest, member)
        return dest

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> "ModelArchive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- listing and checks ----

    def _listed(self) -> list[Member]:
        cap = max(RATIO_FLOOR_BYTES, MAX_RATIO * self.path.stat().st_size)
        cap = min(cap, MAX_UNPACKED_BYTES)
        members: list[Member] = []
        names: set[str] = set()
        declared = 0
        for member in self._zip_listing() if self._zip is not None else self._tar_listing():
            if member.name in names and member.kind != "dir":
                raise ArchiveProblem(f"{_shown(member.name)} appears twice in the archive", unsafe=True)
            names.add(member.name)
            members.append(member)
            declared += member.size
            if len(members) > MAX_MEMBERS:
                raise ArchiveProblem(f"more than {MAX_MEMBERS} files, where a Vosk model has a few dozen", unsafe=True)
            if declared > cap:
                raise ArchiveProblem(
                    f"it would unpack to more than {_mb(cap)} MB from {_mb(self.path.stat().st_size)} MB, "
                    f"a zip bomb: a model unpacks to at most {MAX_RATIO} times its archive", unsafe=True,
                )
            if member.kind == "special":
                raise ArchiveProblem(f"{_shown(member.name)} is a device or pipe, not a model file", unsafe=True)
            if _unsafe(member.name):
                raise ArchiveProblem(f"unsafe path {_shown(member.name)} leaves the model folder", unsafe=True)
        return members

    def _zip_listing(self) -> Iterator[Member]:
        for info in self._zip.infolist():
            name = _normal(info.filename)
            mode = info.external_attr >> 16
            if info.is_dir():
                yield Member(name, 0, "dir")
            elif stat.S_ISLNK(mode):
                if info.file_size > 4096:
                    raise ArchiveProblem(f"link {_shown(name)} has a {info.file_size}-byte target", unsafe=True)
                yield Member(name, 0, "symlink", self._zip.read(info).decode("utf-8", "replace"))
            elif mode and not stat.S_ISREG(mode) and stat.S_IFMT(mode):
                yield Member(name, 0, "special")
            else:
                yield Member(name, info.file_size, "file")

    def _tar_listing(self) -> Iterator[Member]:
        for _, info in self._tar_pass():
            name = _normal(info.name)
            if info.isfile():
                yield Member(name, info.size, "file")
            elif info.isdir():
                yield Member(name, 0, "dir")
            elif info.issym():
                yield Member(name, 0, "symlink", info.linkname)
            elif info.islnk():
                yield Member(name, 0, "hardlink", _normal(info.linkname))
            else:
                yield Member(name, 0, "special")

    def _tar_pass(self) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
        # Iterating (not getmembers()) reads one header at a time, so a listing over the caps stops early.
        with tarfile.open(self.path, "r:*") as tar:
            for info in tar:
                yield tar, info

    def _check_links(self) -> None:
        files = {m.name for m in self.members if m.kind == "file"}
        for member in self.members:
            if member.kind not in ("symlink", "hardlink") or not self._in_root(member.name):
                continue
            if member.kind == "symlink":
                pointed = posixpath.normpath(posixpath.join(posixpath.dirname(member.name), member.target))
                absolute = member.target.startswith("/")
            else:
                pointed, absolute = member.target, False
            if absolute or not self._in_root(pointed) or _unsafe(pointed):
                raise ArchiveProblem(
                    f"link {_shown(member.name)} points outside the model, to {_shown(member.target)}", unsafe=True
                )
            if member.kind == "hardlink" and pointed not in files:
                raise ArchiveProblem(f"hard link {_shown(member.name)} points at no file in the archive")

    def _in_root(self, name: str) -> bool:
        return self.root == "" or name.startswith(self.root) or name + "/" == self.root

    # ---- unpacking ----

    def _file_data(self) -> Iterator[tuple[str, IO[bytes]]]:
        if self._zip is not None:
            for info in self._zip.infolist():
                name = _normal(info.filename)
                if not info.is_dir() and not stat.S_ISLNK(info.external_attr >> 16):
                    with self._zip.open(info) as data:
                        yield name, data
            return
        for tar, info in self._tar_pass():
            if info.isfile():
                with tar.extractfile(info) as data:  # type: ignore[union-attr]
                    yield _normal(info.name), data

    def _dest_path(self, dest: Path, name: str) -> Path:
        relative = name[len(self.root):] if self.root else name
        out = dest / relative
        if not os.path.realpath(out.parent).startswith(os.path.realpath(dest)):
            raise ArchiveProblem(f"{_shown(name)} would be written outside the model folder", unsafe=True)
        return out

    def _link(self, dest: Path, member: Member) -> None:
        out = self._dest_path(dest, member.name)
        out.parent.mkdir(parents=True, exist_ok=True)
        if member.kind == "symlink":
            os.symlink(member.target, out)
        else:
            os.link(self._dest_path(dest, member.target), out)


def _decompressed(path: Path) -> IO[bytes]:
    """The archive's bytes after gzip, bzip2 or xz (each checks its own checksum at the end), or as they are."""
    import bz2
    import gzip

    with open(path, "rb") as head:
        magic = head.read(6)
    if magic.startswith(b"\x1f\x8b"):
        return gzip.open(path, "rb")
    if magic.startswith(b"BZh"):
        return bz2.open(path, "rb")
    if magic.startswith(b"\xfd7zXZ\x00"):
        return lzma.open(path, "rb")
    return open(path, "rb")


def _copy_at_most(data: IO[bytes], sink: IO[bytes], declared: int, name: str) -> None:
    written = 0
    while True:
        try:
            block = data.read(_COPY_BYTES)
        except _READ_ERRORS as err:  # only reading: a failed write is the disk's problem, reported as such
            raise ArchiveProblem(f"damaged data in {_shown(name)}: {err}") from None
        if not block:
            return
        written += len(block)
        if written > declared:
            raise ArchiveProblem(f"{_shown(name)} holds more data than the {declared} bytes it declares", unsafe=True)
        sink.write(block)


def _model_root(names: list[str]) -> str | None:
    """The folder inside the archive that holds the model ('' for the archive's top level)."""
    for name in sorted(names, key=len):
        for marker in ("am/final.mdl", "final.mdl"):
            if name == marker or name.endswith("/" + marker):
                return name[: -len(marker)]
    return None


def _normal(name: str) -> str:
    """Posix separators, no leading './' or trailing '/'."""
    name = name.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/")


def _unsafe(name: str) -> bool:
    parts = name.split("/")
    return not name or name.startswith("/") or ".." in parts or (len(parts[0]) == 2 and parts[0][1] == ":")


def _shown(name: str, limit: int = 80) -> str:
    printable = "".join(c if c.isprintable() else "?" for c in name)
    return repr(printable if len(printable) <= limit else printable[:limit] + "…")


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f}"
