"""The review site served for real (uvicorn) and used in real headless Chromium, driven over DevTools."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.web.chromium import Chromium
from tests.web.conftest import ACCOUNTS
from voice_trainer.session_folder import RESULT_FILE
from voice_trainer.web.app import create_app
from voice_trainer.web.server import ReviewServer
from voice_trainer.web.settings import CENTRE, ReviewSettings

AUDIO_LOADS = """new Promise(done => {
  const a = document.getElementById('player');
  if (!a) return done('no player');
  if (a.readyState >= 1) return done('loaded');
  a.onloadedmetadata = () => done('loaded');
  a.onerror = () => done('error');
})"""


@pytest.fixture
def local_site(local_library):
    server = ReviewServer(ReviewSettings(), lambda bound: create_app(bound, local_library)).start()
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


def test_local_mode_lets_the_browser_in_with_the_printed_address_only(local_site, chromium, sessions):
    page = chromium.new_page()
    assert page.goto(local_site.base_url) == 401
    assert "carries the key" in page.text()
    page.goto(local_site.url)
    assert page.wait_for_url(local_site.base_url) == 200  # the key is not left in the address bar
    text = page.text()
    assert sessions.anna in text and sessions.boris in text and "2 sessions" in text
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


def test_local_mode_session_page_plays_the_recording(local_site, chromium, sessions):
    page = chromium.new_page()
    page.goto(local_site.url)
    page.wait_for_url(local_site.base_url)
    assert page.goto(f"{local_site.base_url}session/{sessions.anna}") == 200
    assert page.evaluate("document.body.dataset.ready") == "1"  # the report's script ran under the CSP
    assert page.evaluate("document.querySelectorAll('button.play').length") == 3
    assert page.evaluate(AUDIO_LOADS) == "loaded"
    assert page.goto(f"{local_site.base_url}progress/anna") == 200
    assert sessions.anna in page.text()


def test_local_mode_refuses_a_foreign_host(local_site, chromium):
    page = chromium.new_page()
    page.goto(local_site.url)
    page.wait_for_url(local_site.base_url)
    rebound = local_site.base_url.replace("127.0.0.1", "evil.example")
    assert page.goto(rebound) == 403
    assert "Host header is refused" in page.text()
    assert page.goto(rebound + "?token=" + local_site.app.state.key) == 403  # even with the key


def test_a_web_page_in_the_trainers_browser_cannot_read_or_change_anything(local_site, chromium, sessions):
    base = local_site.base_url
    result = sessions.data_dir / "sessions" / sessions.anna / RESULT_FILE
    before = result.read_bytes()
    attack = f"""<!DOCTYPE html><html><body><script>
      const out = {{}};
      const audio = new Audio();
      const loaded = new Promise(done => {{ audio.onloadedmetadata = () => done('loaded'); audio.onerror = () => done('error'); }});
      audio.src = '{base}session/{sessions.anna}/audio.wav';
      const read = fetch('{base}session/{sessions.anna}/audio.wav', {{credentials: 'include'}})
        .then(r => 'read ' + r.status).catch(() => 'blocked');
      Promise.all([loaded, read]).then(([a, f]) => {{ document.title = JSON.stringify({{audio: a, fetch: f}}); }});
    </script>
    <form id="f" method="post" action="{base}session/{sessions.anna}/fix">
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


# --- centre mode: a real PostgreSQL library, sessions published from a station ---------------------------


@pytest.fixture
def centre_site(centre_library):
    settings = ReviewSettings(mode=CENTRE, host="127.0.0.1")
    server = ReviewServer(settings, lambda bound: create_app(bound, centre_library)).start()
    yield server
    server.stop()


def sign_in(chromium, site, name: str, password: str | None = None):
    page = chromium.new_page()
    assert page.goto(site.base_url) == 200 and "/login" in page.url()  # sent to sign in first
    status = page.submit("form.login", {"name": name, "password": password or ACCOUNTS[name][1]})
    return page, status


pytestmark_centre = pytest.mark.parametrize("centre_library", ["postgres"], indirect=True)


@pytestmark_centre
def test_centre_login_in_chromium(centre_site, chromium, sessions):
    page, status = sign_in(chromium, centre_site, "anna", "wrong password")
    assert status == 401 and "Wrong name or password" in page.text()
    status = page.submit("form.login", {"name": "anna", "password": ACCOUNTS["anna"][1]})
    assert status == 200 and page.url() == centre_site.base_url
    text = page.text()
    assert "anna (trainee)" in text and sessions.anna in text and sessions.boris not in text
    (cookie,) = [c for c in page.cookies() if c["name"] == "vt_login"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page.submit("nav form", {})  # sign out
    assert "/login" in page.url()
    assert page.goto(centre_site.base_url + f"session/{sessions.anna}") == 200 and "/login" in page.url()


@pytestmark_centre
def test_a_trainee_cannot_open_another_trainees_session_or_recording(centre_site, chromium, sessions):
    page, status = sign_in(chromium, centre_site, "boris")
    assert status == 200
    assert page.goto(f"{centre_site.base_url}session/{sessions.anna}") == 403
    assert "another trainee" in page.text()
    assert page.goto(f"{centre_site.base_url}session/{sessions.anna}/audio.wav") == 403
    assert page.goto(f"{centre_site.base_url}progress/anna") == 403
    assert page.goto(f"{centre_site.base_url}session/{sessions.boris}") == 200  # his own (recorded as "Boris")


@pytestmark_centre
def test_a_trainer_opens_everyones_sessions_and_plays_the_recording(centre_site, chromium, sessions, centre_library):
    page, status = sign_in(chromium, centre_site, "tanya")
    assert status == 200 and sessions.anna in page.text() and sessions.boris in page.text()
    assert page.goto(f"{centre_site.base_url}session/{sessions.anna}") == 200
    assert page.evaluate(AUDIO_LOADS) == "loaded"  # from the centre's shared store, checksum verified
    actions = {(e.actor, e.action, e.target) for e in centre_library.audit.entries(limit=50)}
    assert ("tanya", "view session", sessions.anna) in actions
    assert ("tanya", "play recording", sessions.anna) in actions


@pytestmark_centre
def test_a_trainer_corrects_a_turn_from_the_page(centre_site, chromium, sessions, centre_library):
    score_before = centre_library.get(sessions.anna).score
    page, _ = sign_in(chromium, centre_site, "tanya")
    page.goto(f"{centre_site.base_url}session/{sessions.anna}")
    status = page.submit("section.correct form", {"turn": "2", "text": "я понимаю ваше раздражение давайте разберёмся"})
    assert status == 200 and "Turn 2 corrected" in page.text()
    assert page.evaluate("document.querySelector('#turn-2 ins').textContent") == \
        "я понимаю ваше раздражение давайте разберёмся"
    result = centre_library.record(sessions.anna).result
    assert result["rescored"]["corrections"] == [
        {"turn": 2, "text": "я понимаю ваше раздражение давайте разберёмся",
         "previous": result["rescored"]["corrections"][0]["previous"]}]
    (entry,) = [e for e in centre_library.audit.entries(limit=50) if e.action == "fix turn"]
    assert entry.actor == "tanya" and entry.target == sessions.anna
    assert f"score {score_before} -> {centre_library.get(sessions.anna).score}" in entry.detail


@pytestmark_centre
def test_a_form_without_its_csrf_token_is_refused(centre_site, chromium, sessions, centre_library):
    login = chromium.new_page()
    login.goto(centre_site.base_url + "login")
    login.evaluate("document.querySelector('form.login input[name=csrf]').value = 'guessed'")
    assert login.submit("form.login", {"name": "tanya", "password": ACCOUNTS["tanya"][1]}) == 403
    page, _ = sign_in(chromium, centre_site, "tanya")
    page.goto(f"{centre_site.base_url}session/{sessions.anna}")
    page.evaluate("document.querySelector('section.correct input[name=csrf]').remove()")
    status = page.submit("section.correct form", {"turn": "1", "text": "forged"})
    assert status == 403 and "CSRF" in page.text()
    page.goto(f"{centre_site.base_url}session/{sessions.anna}")
    page.evaluate("document.querySelector('section.correct input[name=csrf]').value = 'guessed'")
    assert page.submit("section.correct form", {"turn": "1", "text": "forged"}) == 403
    assert centre_library.record(sessions.anna).result.get("rescored") is None
