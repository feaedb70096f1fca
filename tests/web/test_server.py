"""The review site served for real by uvicorn: slow and half-open connections, limits, and the command."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from voice_trainer.web.app import create_app
from voice_trainer.web.server import ReviewServer
from voice_trainer.web.settings import ReviewSettings

VT = Path(sys.executable).with_name("voice-trainer")


@pytest.fixture
def server(local_library):
    settings = ReviewSettings(request_head_timeout_s=0.5, request_body_timeout_s=0.5, keep_alive_s=1,
                              max_connections=4)
    srv = ReviewServer(settings, lambda bound: create_app(bound, local_library)).start()
    yield srv
    srv.stop()


def _connect(srv) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", srv.settings.port), timeout=60)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (the socket timeout fails the test)."""
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def _cookie(srv) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(srv.url, timeout=60) as response:
        assert response.status == 200
    (cookie,) = list(jar)
    return f"{cookie.name}={cookie.value}"


def test_a_half_open_request_head_is_closed_by_the_server(server):
    sock = _connect(server)
    sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.settings.port}\r\nX-Slow: ".encode())
    assert _read_all(sock) == b""  # closed without an answer
    sock.close()


def test_dribbling_a_request_head_does_not_keep_the_connection(server):
    sock = _connect(server)
    sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.settings.port}\r\n".encode())
    closed = False
    for _ in range(600):  # a byte every 50 ms for up to 30 s; the head's deadline is 0.5 s
        try:
            sock.sendall(b"X")
        except (BrokenPipeError, ConnectionResetError):
            closed = True
            break
        sock.settimeout(0.05)
        try:
            if sock.recv(1) == b"":
                closed = True
                break
        except socket.timeout:
            pass
    assert closed
    sock.close()


def test_a_connection_that_never_speaks_is_closed(server):
    sock = _connect(server)
    assert _read_all(sock) == b""
    sock.close()


def test_a_form_body_that_stops_arriving_is_408_and_closed(server, sessions):
    cookie = _cookie(server)
    sock = _connect(server)
    sock.sendall((f"POST /session/{sessions.boris}/fix HTTP/1.1\r\nHost: 127.0.0.1:{server.settings.port}\r\n"
                  f"Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  "Content-Length: 100\r\n\r\nturn=1&te").encode())
    answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408 ")
    sock.close()


def test_an_idle_keep_alive_connection_is_closed_after_its_answer(server):
    sock = _connect(server)
    sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.settings.port}\r\n\r\n".encode())
    answer = _read_all(sock)
    assert answer.startswith(b"HTTP/1.1 401 ")  # no key, and then the idle connection is closed
    sock.close()


def test_a_huge_request_head_is_refused(server):
    sock = _connect(server)
    answer = b""
    try:
        sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.settings.port}\r\nX-Big: ".encode())
        for _ in range(64):  # 4 MiB of one header, more than a single read takes in
            sock.sendall(b"a" * 65536)
        answer = _read_all(sock)
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed on us mid-send: refused
    assert answer == b"" or answer.startswith(b"HTTP/1.1 400 ")
    sock.close()


def test_connections_beyond_the_limit_get_503(local_library):
    settings = ReviewSettings(max_connections=2)
    srv = ReviewServer(settings, lambda bound: create_app(bound, local_library)).start()
    idle = [_connect(srv) for _ in range(2)]
    try:
        # The idle connections are counted once the server has accepted them: retry until it has.
        for _ in range(200):
            sock = _connect(srv)
            sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{srv.settings.port}\r\nConnection: close\r\n\r\n".encode())
            answer = _read_all(sock)
            sock.close()
            if answer.startswith(b"HTTP/1.1 503 "):
                break
        assert answer.startswith(b"HTTP/1.1 503 ")
    finally:
        for sock in idle:
            sock.close()
        srv.stop()


# --- the command --------------------------------------------------------------------------------------


def _run(data_dir, *args):
    env = {**os.environ, "VOICE_TRAINER_DATA": str(data_dir)}
    return subprocess.run([str(VT), "review", "--no-browser", *args], capture_output=True, text=True, env=env,
                          timeout=120, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("args,message", [
    (["--port", "99999"], "--port 99999: a port is a number from 1 to 65535"),
    (["--port", "-1"], "--port -1"),
    (["--host", "0.0.0.0"], "only listens on this machine"),
    (["--host", "192.168.1.5"], "only listens on this machine"),
    (["--host", "example.org"], "only listens on this machine"),
])
def test_bad_addresses_are_one_line_and_a_non_zero_exit(data_dir, args, message):
    done = _run(data_dir, *args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_busy_port_is_one_line(data_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        done = _run(data_dir, "--port", str(taken.getsockname()[1]))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "cannot listen on 127.0.0.1" in done.stderr and "choose another --port" in done.stderr


def test_review_prints_the_address_with_its_key_and_serves_it(sessions):
    env = {**os.environ, "VOICE_TRAINER_DATA": str(sessions.data_dir)}
    proc = subprocess.Popen([str(VT), "review", "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=[\w-]{40,}", line).group(0)
        bare = url.split("?")[0]
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bare, timeout=60)
        assert refused.value.code == 401
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with opener.open(url, timeout=60) as response:
            assert 'content="0;url=/"' in response.read().decode()  # on to the address without the key
        with opener.open(bare, timeout=60) as response:  # with the cookie now
            page = response.read().decode()
        assert sessions.anna in page and sessions.boris in page
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        proc.wait(30)
    assert proc.returncode == 0
    assert "Traceback" not in proc.stderr.read()


def _serve_until_first_line(env, *args):
    proc = subprocess.Popen([str(VT), "review", "--no-browser", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    return proc, proc.stdout.readline()


def _stop(proc) -> str:
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    err = proc.stderr.read()
    assert proc.returncode == 0 and "Traceback" not in err, err
    return err


def test_review_in_centre_mode_prints_no_key_and_asks_to_sign_in(sessions, tmp_path):
    env = {**os.environ, "VOICE_TRAINER_DATA": str(sessions.data_dir), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    proc, line = _serve_until_first_line(env, "--centre")
    try:
        assert "centre mode" in line and "token=" not in line
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url, timeout=60) as response:  # sent on to the login page
            assert response.url.startswith(url + "login") and "Sign in" in response.read().decode()
    finally:
        err = _stop(proc)
    assert "no accounts yet" in err and "voice-trainer users add" in err


def test_a_configured_centre_database_means_centre_mode(postgres_url, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    env = {**os.environ, "VOICE_TRAINER_DATA": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "VOICE_TRAINER_DATABASE": postgres_url, "VOICE_TRAINER_RECORDINGS": str(share)}
    proc, line = _serve_until_first_line(env)
    try:
        assert "centre mode" in line and "token=" not in line
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url + "login", timeout=60) as response:
            assert "Sign in" in response.read().decode()
    finally:
        _stop(proc)
    done = _run(tmp_path / "data", "--host", "0.0.0.0", "--port", "99999")  # the port is checked first
    assert done.returncode == 2 and "--port 99999" in done.stderr
