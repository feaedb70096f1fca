"""`voice-trainer models install` against hostile archives and a full disk, served from a local HTTP server.

Issue 9: cap the unpacked size and member count against what the archive declares, refuse paths
and links that leave the model folder, check free space before unpacking, one line on ENOSPC, the
data dir 0700, and a 300-character URL without a traceback. Archives are real zip and tar.gz files
built here; the disk is a small tmpfs (mounted when the test runs as root) or a file size limit.
"""

from __future__ import annotations

import http.server
import io
import os
import resource
import stat
import subprocess
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from tests.faults.cli_run import assert_one_line_error, clean_env, run_cli
from tests.faults.disk import small_disk
from tests.fixtures.speech import model_shaped
from voice_trainer.speech.model_archive import MAX_MEMBERS

TOP = "vosk-model-small-ko-test"


class ArchiveServer:
    """Serves files from memory on 127.0.0.1; `sized=False` sends no Content-Length (the size is unknown)."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.sized = True
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self):
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                if server.sized:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (its disk is full)
                    pass

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, name: str, body: bytes) -> str:
        self.files["/" + name] = body
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    running = ArchiveServer()
    yield running
    running.close()


@pytest.fixture(scope="module")
def model_files(tmp_path_factory, ko_model_path) -> dict[str, bytes]:
    """A model-shaped folder's files by relative path: the real layout, files cut short."""
    folder = model_shaped(tmp_path_factory.mktemp("model") / "m", ko_model_path)
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def zip_of(model_files: dict[str, bytes], extra: dict[str, bytes] | None = None, *, symlinks: dict[str, str] | None = None,
           big_zeros: tuple[str, int] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in model_files.items():
            archive.writestr(f"{TOP}/{name}", data)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
        if big_zeros:
            with archive.open(big_zeros[0], "w", force_zip64=True) as member:
                block = bytes(1 << 20)
                for _ in range(big_zeros[1] // len(block)):
                    member.write(block)
    return out.getvalue()


class _Zeros(io.RawIOBase):
    def __init__(self, size: int):
        self.left = size

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.left)
        buffer[:n] = bytes(n)
        self.left -= n
        return n


def tar_gz_of(model_files: dict[str, bytes], *, links: dict[str, tuple[bytes, str]] | None = None,
              raw_names: dict[str, bytes] | None = None, big_zeros: tuple[str, int] | None = None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in {**{f"{TOP}/{n}": d for n, d in model_files.items()}, **(raw_names or {})}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, (kind, target) in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            archive.addfile(info)
        if big_zeros:
            info = tarfile.TarInfo(big_zeros[0])
            info.size = big_zeros[1]
            archive.addfile(info, io.BufferedReader(_Zeros(big_zeros[1])))
    return out.getvalue()


def install(url: str, data_dir: Path, **kwargs) -> "subprocess.CompletedProcess":
    return run_cli("models", "install", "ko", "--data-dir", str(data_dir), "--url", url, env=clean_env(data_dir), **kwargs)


def assert_nothing_installed(data_dir: Path) -> None:
    models = data_dir / "models"
    if models.exists():
        assert [p.name for p in models.iterdir() if p.name != ".downloads"] == []  # no model, no .unpack-* left


def files_under(folder: Path) -> set[str]:
    return {str(p) for p in folder.rglob("*")}


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_a_zip_bomb_is_refused_from_its_listing_without_unpacking(kind, server, model_files, tmp_path):
    bomb = (TOP + "/graph/padding.bin", 200 * 1024 * 1024)
    body = zip_of(model_files, big_zeros=bomb) if kind == "zip" else tar_gz_of(model_files, big_zeros=bomb)
    assert len(body) < 2_000_000  # 200 MB of zeros in well under 2 MB
    data_dir = tmp_path / "data"

    message = assert_one_line_error(install(server.serve(f"{TOP}.{kind}", body), data_dir), 4)

    assert "zip bomb" in message and "nothing was installed" in message
    assert_nothing_installed(data_dir)
    assert sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file()) < 2_000_000


def test_a_tar_gz_that_runs_on_past_its_files_is_refused(server, model_files, tmp_path):
    import gzip

    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w") as archive:
        for name, data in model_files.items():
            info = tarfile.TarInfo(f"{TOP}/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(fileobj=packed, mode="wb") as out:
        out.write(plain.getvalue())
        for _ in range(300):  # 300 MB of zeros after the tar's end: no member declares them
            out.write(bytes(1 << 20))
    data_dir = tmp_path / "data"

    message = assert_one_line_error(install(server.serve(f"{TOP}.tar.gz", packed.getvalue()), data_dir), 4)

    assert "more compressed data than the archive's files account for" in message
    assert_nothing_installed(data_dir)


def test_a_damaged_tar_gz_is_refused_with_the_advice_to_fetch_it_again(server, model_files, tmp_path):
    body = bytearray(tar_gz_of(model_files))
    middle = len(body) // 2
    body[middle : middle + 200] = bytes(200)
    data_dir = tmp_path / "data"

    message = assert_one_line_error(install(server.serve(f"{TOP}.tar.gz", bytes(body)), data_dir), 4)

    assert "damaged data" in message and "models install ko` again" in message
    assert_nothing_installed(data_dir)


def test_an_archive_with_thousands_of_members_is_refused(server, model_files, tmp_path):
    crowd = {f"{TOP}/junk/{i}": b"" for i in range(MAX_MEMBERS + 10)}
    data_dir = tmp_path / "data"

    message = assert_one_line_error(install(server.serve(f"{TOP}.zip", zip_of(model_files, crowd)), data_dir), 4)

    assert f"more than {MAX_MEMBERS} files" in message
    assert_nothing_installed(data_dir)


@pytest.mark.parametrize(
    "kind, name",
    [("zip", "../../escaped.txt"), ("zip", f"{TOP}/../../escaped.txt"), ("tar.gz", "/tmp/escaped-by-voice-trainer.txt"),
     ("tar.gz", f"{TOP}/../../../escaped.txt")],
)
def test_paths_that_leave_the_model_folder_are_refused(kind, name, server, model_files, tmp_path):
    evil = {name: b"written outside"}
    body = zip_of(model_files, evil) if kind == "zip" else tar_gz_of(model_files, raw_names=evil)
    data_dir = tmp_path / "deep" / "er" / "data"
    before = files_under(tmp_path)

    message = assert_one_line_error(install(server.serve(f"{TOP}.{kind}", body), data_dir), 4)

    assert "unsafe path" in message
    assert_nothing_installed(data_dir)
    assert not Path("/tmp/escaped-by-voice-trainer.txt").exists()
    assert not [p for p in files_under(tmp_path) - before if p.endswith("escaped.txt")]


@pytest.mark.parametrize(
    "kind, link, target",
    [("tar.gz", tarfile.SYMTYPE, "/etc/passwd"), ("tar.gz", tarfile.SYMTYPE, "../../../../outside"),
     ("tar.gz", tarfile.LNKTYPE, "/etc/passwd"), ("zip", None, "/etc/passwd")],
    ids=["tar-symlink-absolute", "tar-symlink-up", "tar-hardlink", "zip-symlink"],
)
def test_links_pointing_out_of_the_model_are_refused(kind, link, target, server, model_files, tmp_path):
    name = f"{TOP}/graph/words.txt"
    if kind == "zip":
        body = zip_of(model_files, symlinks={name: target})
    else:
        body = tar_gz_of(model_files, links={name: (link, target)})
    data_dir = tmp_path / "data"

    message = assert_one_line_error(install(server.serve(f"{TOP}.{kind}", body), data_dir), 4)

    assert "points outside the model" in message
    assert_nothing_installed(data_dir)


def test_a_tar_gz_model_with_a_link_inside_it_installs_and_is_found(server, model_files, tmp_path):
    body = tar_gz_of(model_files, links={f"{TOP}/conf/copy.conf": (tarfile.SYMTYPE, "mfcc.conf")})
    data_dir = tmp_path / "data"

    installed = install(server.serve(f"{TOP}.tar.gz", body), data_dir)
    found = run_cli("models", "path", "ko", "--data-dir", str(data_dir), env=clean_env(data_dir))

    assert installed.returncode == 0, installed.stderr
    model = data_dir / "models" / TOP
    assert found.stdout.strip() == str(model)
    assert (model / "conf" / "copy.conf").read_bytes() == model_files["conf/mfcc.conf"]
    assert list((data_dir / "models" / ".downloads").iterdir()) == []


def test_a_data_dir_made_by_models_install_is_private(server, model_files, tmp_path):
    data_dir = tmp_path / "new" / "data"

    result = install(server.serve(f"{TOP}.zip", zip_of(model_files)), data_dir)

    assert result.returncode == 0, result.stderr
    for folder in (data_dir, data_dir / "models", data_dir / "models" / ".downloads"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_a_300_character_url_installs_under_a_short_folder_name(server, model_files, tmp_path):
    name = "vosk-model-small-ko-" + "x" * 300 + ".zip"
    data_dir = tmp_path / "data"

    result = install(server.serve(name, zip_of(model_files)), data_dir)

    assert result.returncode == 0, result.stderr
    [model] = [p for p in (data_dir / "models").iterdir() if not p.name.startswith(".")]
    assert len(model.name) <= 80


@pytest.mark.parametrize(
    "args",
    [["models", "install", "ko", "--url", "http://127.0.0.1:9/" + "y" * 300 + ".zip"],
     ["models", "install", "ko", "--url", "z" * 300],
     ["models", "install", "q" * 300],
     ["models", "path", "ko", "--model", "/tmp/" + "m" * 300],
     ["models", "path", "p" * 300]],
    ids=["unreachable-url", "not-a-url", "language", "model-path", "model-language"],
)
def test_a_300_character_url_or_spec_is_one_line(args, tmp_path):
    result = run_cli(*args, env=clean_env(tmp_path / "data"))

    message = assert_one_line_error(result, 4)
    assert len(message) < 600


# ---- a full disk ------------------------------------------------------------------------------


def test_too_little_space_to_download_is_refused_before_writing(server, model_files, tmp_path):
    padding = {f"{TOP}/graph/padding.bin": os.urandom(3 * 1024 * 1024)}  # incompressible: the archive is 3 MB
    url = server.serve(f"{TOP}.zip", zip_of(model_files, padding))
    with small_disk(tmp_path / "disk", "2m") as disk:
        data_dir = disk / "data"

        message = assert_one_line_error(install(url, data_dir), 4)

        assert "not enough free disk space to download the model" in message
        assert_nothing_installed(data_dir)
        assert list((data_dir / "models" / ".downloads").iterdir()) == []


def test_too_little_space_to_unpack_is_refused_before_unpacking(server, model_files, tmp_path):
    padding = {f"{TOP}/graph/padding.bin": bytes(3 * 1024 * 1024)}  # compresses to a few KB, unpacks to 3 MB
    url = server.serve(f"{TOP}.zip", zip_of(model_files, padding))
    with small_disk(tmp_path / "disk", "2m") as disk:
        data_dir = disk / "data"

        message = assert_one_line_error(install(url, data_dir), 4)

        assert "not enough free disk space to unpack the model" in message
        assert_nothing_installed(data_dir)


def test_disk_full_while_downloading_an_archive_of_unknown_size_is_one_line(server, model_files, tmp_path):
    server.sized = False
    url = server.serve(f"{TOP}.zip", zip_of(model_files, {f"{TOP}/graph/padding.bin": os.urandom(3 * 1024 * 1024)}))
    with small_disk(tmp_path / "disk", "2m") as disk:
        data_dir = disk / "data"

        message = assert_one_line_error(install(url, data_dir), 4)

        assert "disk full while downloading" in message and "partial download was removed" in message
        assert_nothing_installed(data_dir)
        assert list((data_dir / "models" / ".downloads").iterdir()) == []  # the disk is free again


def test_disk_full_while_unpacking_is_one_line_and_leaves_no_half_model(server, model_files, tmp_path):
    url = server.serve(f"{TOP}.zip", zip_of(model_files))
    with small_disk(tmp_path / "disk", "20m", inodes=12) as disk:  # space enough, but files run out
        data_dir = disk / "data"

        message = assert_one_line_error(install(url, data_dir), 4)

        assert "disk full while unpacking" in message
        assert_nothing_installed(data_dir)
        assert run_cli("models", "path", "ko", "--data-dir", str(data_dir), env=clean_env(data_dir)).stdout.strip() != str(
            data_dir / "models" / TOP
        )


def test_a_file_size_limit_while_downloading_is_one_line(server, model_files, tmp_path):
    url = server.serve(f"{TOP}.zip", zip_of(model_files, {f"{TOP}/graph/padding.bin": os.urandom(3 * 1024 * 1024)}))
    data_dir = tmp_path / "data"

    def limit_files_to_1_mb():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

    message = assert_one_line_error(install(url, data_dir, preexec_fn=limit_files_to_1_mb), 4)

    assert "file size limit" in message
    assert_nothing_installed(data_dir)
