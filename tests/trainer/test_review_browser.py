"""The review site served for real (uvicorn) and used in real headless Chromium, driven over DevTools."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.web.chromium import Chromium
from tests.web.conftest import library, recorded_library  # noqa: F401 - the same recorded sessions
from voice_trainer.session_folder import RESULT_FILE
from voice_trainer.web.app import create_app
from voice_trainer.web.server import ReviewServer
from voice_trainer.web.settings import ReviewSettings

AUDIO_LOADS = """new Promise(done => {
  const a = document.getElementById('player');
  if (!a) return done('no player');
  if (a.readyState >= 1) return done('loaded');
  a.onloadedmetadata = () => done('loaded');
  a.onerror = () => done('error');
})"""


@pytest.fixture
def local_site(library):
    server = ReviewServer(ReviewSettings(data_dir=library.data_dir), create_app).start()
    yield server
    server.stop()


@pytest.fixture
def chromium(tmp_path):
    # evil.example resolves to this machine, as a DNS-rebinding attacker would make it.
    with Chromium(tmp_path / "profile", "--host-resolver-rules=MAP evil.example 127.0.0.1") as browser:
        yield browser


class AttackerSite:
    """Another web server on this machine, serving one page that tries to use the review site."""

    def __init__(self, page: str):
        body = page.encode("utf-8")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_local_mode_lets_the_browser_in_with_the_printed_address_only(local_site, chromium, library):
    page = chromium.new_page()
    assert page.goto(local_site.base_url) == 401
    assert "carries the key" in page.text()
    page.goto(local_site.url)
    assert page.wait_for_url(local_site.base_url) == 200  # the key is not left in the address bar
    text = page.text()
    assert library.anna in text and library.boris in text and "2 sessions" in text
    (cookie,) = page.cookies()
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["session"]
    assert page.evaluate("document.cookie") == ""  # scripts cannot read it


def test_the_browser_opener_file_leads_in_too(local_site, chromium, tmp_path):
    from voice_trainer.cli.review import opener_file

    with opener_file(local_site.url) as path:
        assert path.stat().st_mode & 0o077 == 0 and path.parent.stat().st_mode & 0o077 == 0
        page = chromium.new_page()
        page.goto(path.as_uri())  # what the browser is given on its command line: no key in sight of `ps`
        assert page.wait_for_url(local_site.base_url) == 200
    assert "Practice sessions" in page.text()
    assert not path.exists()


def test_local_mode_session_page_plays_the_recording(local_site, chromium, library):
    page = chromium.new_page()
    page.goto(local_site.url)
    page.wait_for_url(local_site.base_url)
    assert page.goto(f"{local_site.base_url}session/{library.anna}") == 200
    assert page.evaluate("document.body.dataset.ready") == "1"  # the report's script ran under the CSP
    assert page.evaluate("document.querySelectorAll('button.play').length") == 3
    assert page.evaluate(AUDIO_LOADS) == "loaded"
    assert page.goto(f"{local_site.base_url}progress/anna") == 200
    assert library.anna in page.text()


def test_local_mode_refuses_a_foreign_host(local_site, chromium):
    page = chromium.new_page()
    page.goto(local_site.url)
    page.wait_for_url(local_site.base_url)
    rebound = local_site.base_url.replace("127.0.0.1", "evil.example")
    assert page.goto(rebound) == 403
    assert "Host header is refused" in page.text()
    assert page.goto(rebound + "?token=" + local_site.app.state.key) == 403  # even with the key


def test_a_web_page_in_the_trainers_browser_cannot_read_or_change_anything(local_site, chromium, library):
    base = local_site.base_url
    result = library.data_dir / "sessions" / library.anna / RESULT_FILE
    before = result.read_bytes()
    attack = f"""<!DOCTYPE html><html><body><script>
      const out = {{}};
      const audio = new Audio();
      const loaded = new Promise(done => {{ audio.onloadedmetadata = () => done('loaded'); audio.onerror = () => done('error'); }});
      audio.src = '{base}session/{library.anna}/audio.wav';
      const read = fetch('{base}session/{library.anna}/audio.wav', {{credentials: 'include'}})
        .then(r => 'read ' + r.status).catch(() => 'blocked');
      Promise.all([loaded, read]).then(([a, f]) => {{ document.title = JSON.stringify({{audio: a, fetch: f}}); }});
    </script>
    <form id="f" method="post" action="{base}session/{library.anna}/fix">
      <input name="turn" value="1"><input name="text" value="forged"><button type="submit">go</button></form>
    </body></html>"""
    attacker = AttackerSite(attack)
    try:
        page = chromium.new_page()
        page.goto(local_site.url)  # the trainer has the review page open: the browser holds its cookie
        page.wait_for_url(local_site.base_url)
        # Same site (127.0.0.1, another port) and another site (evil.example): neither may read the recording.
        for origin in (f"http://127.0.0.1:{attacker.port}/", f"http://evil.example:{attacker.port}/"):
            page.goto(origin)
            outcome = json.loads(page.evaluate(
                "new Promise(r => { const t = () => document.title ? r(document.title) : setTimeout(t, 20); t(); })"))
            assert outcome == {"audio": "error", "fetch": "blocked"}, origin
            status = page.submit("#f", {})
            assert status in (401, 403), origin
    finally:
        attacker.close()
    assert result.read_bytes() == before
