"""The review page served for real and opened in real headless Chromium."""

import re
import subprocess
import threading
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest

from tests.fixtures.sessions import SHORT_CALL, record_session
from voice_trainer.errors import UsageError
from voice_trainer.session_folder import RECORDING_FILE
from voice_trainer.trainer.library import LocalLibrary as Library
from voice_trainer.trainer.progress import chromium_binary
from voice_trainer.trainer.review import make_server


@pytest.fixture
def server(data_dir, voiced_session):
    record_session(data_dir, SHORT_CALL, seed=7, trainee="boris")
    with Library(data_dir) as library:
        srv = make_server(library, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(10)


def _get(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    cmd = [chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_list_page_loads_in_chromium_and_shows_the_sessions(server, voiced_session, tmp_path):
    dom = _chromium(tmp_path, "--dump-dom", server.url).stdout
    assert f'href="/session/{voiced_session.name}"' in dom
    assert "boris" in dom and "2 sessions" in dom


def test_list_page_filters_by_trainee_and_day(server, voiced_session):
    _, _, body = _get(server.url + "?trainee=boris")
    page = body.decode()
    assert "1 sessions" in page and voiced_session.name not in page
    _, _, body = _get(server.url + "?since=2999-01-01")
    assert "0 sessions" in body.decode()
    _, _, body = _get(server.url + "?since=yesterday")
    assert "not a date" in body.decode() and "2 sessions" in body.decode()


def test_session_page_plays_the_recording_in_chromium(server, voiced_session, tmp_path):
    url = f"{server.url}session/{voiced_session.name}"
    dom = _chromium(tmp_path, "--dump-dom", url).stdout
    audio = re.search(r"<audio[^>]*>", dom)
    assert audio, dom[:500]
    src = re.search(r'src="([^"]+)"', audio.group(0)).group(1)
    assert src == f"/session/{voiced_session.name}/audio.wav"
    assert 'data-ready="1"' in dom  # the inline script ran without error
    assert len(re.findall(r'<button class="play"', dom)) == 3
    status, headers, body = _get(server.url.rstrip("/") + src)
    assert status == 200 and body == (voiced_session / RECORDING_FILE).read_bytes()

    shot = tmp_path / "session.png"
    done = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,900", url)
    assert done.returncode == 0, done.stderr[-500:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_recording_is_served_in_byte_ranges_for_seeking(server, voiced_session):
    url = f"{server.url}session/{voiced_session.name}/audio.wav"
    whole = (voiced_session / RECORDING_FILE).read_bytes()
    status, headers, body = _get(url, {"Range": "bytes=1000-1999"})
    assert status == 206 and body == whole[1000:2000]
    assert headers["Content-Range"] == f"bytes 1000-1999/{len(whole)}"
    status, _, body = _get(url, {"Range": "bytes=-100"})
    assert status == 206 and body == whole[-100:]
    status, headers, _ = _get(url, {"Range": f"bytes={len(whole) + 5}-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(whole)}"


def test_progress_page_links_each_attempt(server, voiced_session):
    status, _, body = _get(server.url + "progress/anna")
    assert status == 200 and f'href="/session/{voiced_session.name}"' in body.decode()
    status, _, body = _get(server.url + "progress/nobody")
    assert status == 404 and "no scored sessions" in body.decode()


@pytest.mark.parametrize("path", [
    "session/..%2F..%2F..%2Fetc%2Fpasswd",
    "session/%2Fetc%2Fpasswd/audio.wav",
    "session/..",
    "session/2",  # prefixes are for the command line; a URL names one session
    "session/nope/audio.wav",
    "etc/passwd",
])
def test_urls_cannot_reach_outside_the_library(server, path):
    status, _, body = _get(server.url + path)
    assert status == 404
    assert b"root:" not in body


def test_session_id_with_url_quoting_still_resolves(server, voiced_session):
    status, _, body = _get(f"{server.url}session/{quote(voiced_session.name)}")
    assert status == 200 and b"<audio" in body


def test_server_refuses_to_listen_beyond_this_machine(data_dir):
    with Library(data_dir) as library:
        for host in ("0.0.0.0", "192.168.1.5", "example.org"):
            with pytest.raises(UsageError, match="only listens on this machine"):
                make_server(library, host, 0)
