"""Local mode, each rule of the guards, in-process (Starlette's TestClient drives the real app)."""

import re

import pytest
from starlette.testclient import TestClient

from tests.web.conftest import KEY, PORT, local_app
from voice_trainer.session_folder import RESULT_FILE
from voice_trainer.web.app import create_app
from voice_trainer.web.settings import ReviewSettings


def _pages(sessions) -> list[str]:
    return ["/", f"/session/{sessions.anna}", f"/session/{sessions.anna}/audio.wav", "/progress/anna",
            "/no/such/page", f"/session/{sessions.anna}/fix"]


def test_without_the_key_every_page_and_recording_answers_401(anonymous, sessions):
    for path in _pages(sessions):
        response = anonymous.get(path)
        assert response.status_code == 401, path
        assert "carries the key" in response.text
    assert anonymous.post(f"/session/{sessions.anna}/fix", data={"turn": "1", "text": "x"}).status_code == 401
    assert anonymous.head(f"/session/{sessions.anna}/audio.wav").status_code == 401


def test_a_wrong_key_is_refused(anonymous):
    response = anonymous.get("/?token=guessed", follow_redirects=False)
    assert response.status_code == 403 and "set-cookie" not in response.headers


def test_the_key_sets_a_strict_httponly_cookie_and_leaves_the_address(anonymous, sessions):
    response = anonymous.get(f"/progress/anna?token={KEY}&x=1", follow_redirects=False)
    assert response.status_code == 200  # a page that sends the browser on to the address without the key
    assert '<meta http-equiv="refresh" content="0;url=/progress/anna?x=1">' in response.text
    assert KEY not in response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"vt_review_{PORT}=") and KEY not in cookie
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Max-Age" not in cookie and "expires" not in cookie.lower()  # ends with the browser session
    for path in _pages(sessions)[:4]:
        assert anonymous.get(path).status_code == 200, path


def test_a_cookie_from_an_earlier_run_is_refused(browser, local_library):
    restarted = TestClient(create_app(ReviewSettings(port=PORT), local_library),  # a new random key
                           base_url=f"http://127.0.0.1:{PORT}")
    restarted.cookies.update(browser.cookies)
    response = restarted.get("/")
    assert response.status_code == 403 and "earlier run" in response.text


@pytest.mark.parametrize("host", [
    "evil.example", f"evil.example:{PORT}", f"127.0.0.1:{PORT + 1}", "127.0.0.1", f"10.0.0.5:{PORT}",
    f"127.0.0.1.nip.io:{PORT}", "",
])
def test_a_foreign_host_is_refused_even_with_the_cookie(browser, host):
    response = browser.get("/", headers={"host": host})
    assert response.status_code == 403
    assert "Host" in response.text
    response = browser.get(f"/?token={KEY}", headers={"host": host}, follow_redirects=False)
    assert response.status_code == 403 and "set-cookie" not in response.headers


def test_localhost_with_the_port_is_the_same_site(browser):
    assert browser.get("/", headers={"host": f"localhost:{PORT}"}).status_code == 200


def test_ipv6_loopback_hosts():
    from voice_trainer.web.guards import local_hosts

    assert local_hosts("::1", 9000) == {"[::1]:9000", "localhost:9000"}
    assert local_hosts("localhost", 9000) == {"localhost:9000", "127.0.0.1:9000", "[::1]:9000"}


# --- CSRF ---------------------------------------------------------------------------------------------


def _csrf(client, session_id) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(f"/session/{session_id}").text).group(1)


def test_a_correction_without_the_csrf_token_is_refused_and_changes_nothing(browser, sessions):
    result = sessions.data_dir / "sessions" / sessions.boris / RESULT_FILE
    before = result.read_bytes()
    url = f"/session/{sessions.boris}/fix"
    for form in ({"turn": "1", "text": "здравствуйте извините за разрывы"},
                 {"turn": "1", "text": "здравствуйте", "csrf": "forged"},
                 {"turn": "1", "text": "здравствуйте", "csrf": ""}):
        response = browser.post(url, data=form)
        assert response.status_code == 403 and "CSRF" in response.text
    assert result.read_bytes() == before


def test_a_post_from_another_origin_is_refused_even_with_the_token(browser, sessions):
    token = _csrf(browser, sessions.boris)
    response = browser.post(f"/session/{sessions.boris}/fix", data={"turn": "1", "text": "a", "csrf": token},
                            headers={"origin": "http://evil.example"})
    assert response.status_code == 403
    response = browser.post(f"/session/{sessions.boris}/fix", data={"turn": "1", "text": "a", "csrf": token},
                            headers={"origin": "null"})
    assert response.status_code == 403


def test_a_form_that_is_too_large_or_not_a_form_is_refused(browser, sessions):
    token = _csrf(browser, sessions.boris)
    url = f"/session/{sessions.boris}/fix"
    assert browser.post(url, data={"turn": "1", "text": "a" * 70_000, "csrf": token}).status_code == 413
    assert browser.post(url, json={"turn": 1, "text": "a", "csrf": token}).status_code == 415
    assert browser.post(url, content=b"x" * 70_000, headers={
        "content-type": "application/x-www-form-urlencoded", "transfer-encoding": "chunked"}).status_code == 413


def test_a_trainer_corrects_a_turn_with_the_token(browser, sessions):
    token = _csrf(browser, sessions.boris)
    response = browser.post(f"/session/{sessions.boris}/fix", follow_redirects=False,
                            data={"turn": "1", "text": "здравствуйте извините за разрывы", "csrf": token})
    assert response.status_code == 303
    assert response.headers["location"] == f"/session/{sessions.boris}?corrected=1#correct"
    page = browser.get(response.headers["location"]).text
    assert "<ins>здравствуйте извините за разрывы</ins>" in page and "Turn 1 corrected" in page


@pytest.mark.parametrize("form,status", [
    ({"turn": "x", "text": "hello"}, 400), ({"turn": "1", "text": "   "}, 400), ({"turn": "99", "text": "hi"}, 404),
    ({"turn": "1", "text": "a" * 2001}, 400),
])
def test_bad_corrections_are_one_clear_message(browser, sessions, form, status):
    response = browser.post(f"/session/{sessions.boris}/fix", data={**form, "csrf": _csrf(browser, sessions.boris)})
    assert response.status_code == status
    assert str(sessions.data_dir) not in response.text


# --- headers and error pages --------------------------------------------------------------------------


def test_every_answer_carries_the_security_headers(anonymous, browser, sessions):
    for response in (anonymous.get("/"), browser.get("/"), browser.get("/nope"),
                     browser.get(f"/session/{sessions.anna}/audio.wav", headers={"range": "bytes=0-9"})):
        headers = response.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY" and headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store" and headers["x-content-type-options"] == "nosniff"
        assert headers["cross-origin-resource-policy"] == "same-origin"
        assert "server" not in headers


@pytest.mark.parametrize("path", [
    "/session/..%2F..%2F..%2Fetc%2Fpasswd", "/session/%2Fetc%2Fpasswd/audio.wav", "/session/%2e%2e", "/session/2026",
    "/session/nope/audio.wav", "/etc/passwd", "/progress/nobody", "/session/" + "a" * 500,
])
def test_urls_cannot_reach_outside_the_library(browser, path):
    response = browser.get(path)
    assert response.status_code == 404
    assert "root:" not in response.text and "Traceback" not in response.text


def test_a_damaged_session_is_an_error_page_without_paths(browser, sessions):
    (sessions.data_dir / "sessions" / sessions.boris / RESULT_FILE).write_text('{"score": 4', encoding="utf-8")
    response = browser.get(f"/session/{sessions.boris}")
    assert response.status_code in (200, 404, 500)  # the library may show what it could read of it
    assert str(sessions.data_dir) not in response.text and "Traceback" not in response.text
    assert f"sessions/{sessions.boris}" not in response.text and "result.json" not in response.text


def test_a_bug_is_an_error_page_without_paths_or_traceback(sessions, local_library, monkeypatch):
    from voice_trainer.web.catalog import Catalog

    def broken(*args, **kwargs):
        raise RuntimeError(f"boom in {sessions.data_dir}")

    monkeypatch.setattr(Catalog, "list_page", broken)
    client = TestClient(local_app(local_library), base_url=f"http://127.0.0.1:{PORT}",
                        raise_server_exceptions=False)
    client.get(f"/?token={KEY}")
    response = client.get("/")
    assert response.status_code == 500
    assert "went wrong" in response.text
    assert str(sessions.data_dir) not in response.text and "Traceback" not in response.text
    assert response.headers["x-frame-options"] == "DENY"


def test_unknown_methods_are_refused_plainly(browser):
    for method in ("PUT", "DELETE", "PATCH"):
        response = browser.request(method, "/", data={"csrf": "x"})
        assert response.status_code in (403, 405) and "Traceback" not in response.text
