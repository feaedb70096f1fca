"""Centre mode in-process: sign-in, roles, CSRF, the audit log, failed-login throttling, signing out."""

import re
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from tests.web.conftest import ACCOUNTS, BASE, PORT
from voice_trainer.web.app import create_app
from voice_trainer.web.settings import CENTRE, ReviewSettings

PASSWORDS = {name: password for name, (_, password) in ACCOUNTS.items()}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def centre(centre_library, clock):
    """The app in centre mode over the library (SQLite here, or PostgreSQL with the published sessions)."""
    app = create_app(ReviewSettings(mode=CENTRE, port=PORT), centre_library, clock=clock)
    return app, centre_library.accounts, centre_library.audit


def stored_result(library, session_id) -> dict:
    return library.record(session_id).result


def client(app, base=BASE) -> TestClient:
    return TestClient(app, base_url=base)


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


def sign_in(app, name: str, password: str | None = None, base=BASE) -> TestClient:
    c = client(app, base)
    form = c.get("/login")
    response = c.post("/login", data={"name": name, "password": password or PASSWORDS[name], "next": "/",
                                      "csrf": csrf_of(form.text)}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return c


def actions(audit) -> list[tuple[str, str, str]]:
    return [(e.actor, e.action, e.target) for e in reversed(audit.entries(limit=1000))]


# --- signing in -------------------------------------------------------------------------------------------


def test_without_signing_in_pages_lead_to_the_login_and_recordings_are_401(centre, sessions):
    app, _, _ = centre
    c = client(app)
    response = c.get(f"/session/{sessions.anna}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=" + quote(f"/session/{sessions.anna}", safe="")
    for path in (f"/session/{sessions.anna}/audio.wav",):
        assert c.get(path).status_code == 401
    assert c.post(f"/session/{sessions.anna}/fix", data={"turn": "1", "text": "x"}).status_code == 401
    page = c.get("/login").text
    assert "name you practise under" in page and "any mix of capitals" in page


def test_login_sets_a_strict_httponly_cookie_and_goes_where_asked(centre, sessions):
    app, _, audit = centre
    c = client(app)
    form = c.get(f"/login?next=/session/{sessions.anna}")
    response = c.post("/login", data={"name": "anna", "password": PASSWORDS["anna"], "csrf": csrf_of(form.text),
                                      "next": f"/session/{sessions.anna}"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/session/{sessions.anna}"
    cookie = [v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith("vt_login=")][0]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http on this machine; see the https test
    assert c.get(f"/session/{sessions.anna}").status_code == 200
    assert ("anna", "sign in", "anna") in actions(audit)


def test_behind_tls_the_cookie_is_secure(centre):
    app, _, _ = centre
    c = client(app, f"https://127.0.0.1:{PORT}")
    form = c.get("/login")
    response = c.post("/login", data={"name": "tanya", "password": PASSWORDS["tanya"], "csrf": csrf_of(form.text)},
                      follow_redirects=False)
    assert "Secure" in response.headers["set-cookie"]


def test_a_wrong_password_is_refused_and_audited(centre):
    app, _, audit = centre
    c = client(app)
    for name, password in (("anna", "nope-nope"), ("nobody", "whatever1"), ("ANNA", PASSWORDS["anna"] + "x")):
        response = c.post("/login", data={"name": name, "password": password, "csrf": csrf_of(c.get("/login").text)})
        assert response.status_code == 401 and "Wrong name or password" in response.text
    assert [a for a in actions(audit) if a[1] == "sign in failed"] == [
        ("anna", "sign in failed", "anna"), ("nobody", "sign in failed", "nobody"), ("ANNA", "sign in failed", "ANNA")]
    assert c.get("/", follow_redirects=False).status_code == 303  # still not signed in


def test_the_login_form_needs_its_csrf_token(centre):
    app, _, _ = centre
    c = client(app)
    c.get("/login")
    response = c.post("/login", data={"name": "tanya", "password": PASSWORDS["tanya"]})
    assert response.status_code == 403 and "CSRF" in response.text
    other = client(app)  # a token from another browser is no good either
    token = csrf_of(other.get("/login").text)
    assert c.post("/login", data={"name": "tanya", "password": PASSWORDS["tanya"], "csrf": token}).status_code == 403


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "evil", "/\r\nx"])
def test_after_login_only_a_local_path_is_followed(centre, target):
    app, _, _ = centre
    c = client(app)
    response = c.post("/login", data={"name": "tanya", "password": PASSWORDS["tanya"], "next": target,
                                      "csrf": csrf_of(c.get("/login").text)}, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_failed_logins_are_throttled_per_account_then_allowed_again(centre, clock):
    app, _, audit = centre
    attacker = client(app)
    for _ in range(5):
        attacker.post("/login", data={"name": "tanya", "password": "guess-guess", "csrf": csrf_of(attacker.get("/login").text)})
    # Now even the right password waits: guessing is slowed down, and no password is hashed meanwhile.
    trainer = client(app)
    response = trainer.post("/login", data={"name": "tanya", "password": PASSWORDS["tanya"],
                                            "csrf": csrf_of(trainer.get("/login").text)})
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in response.text
    assert ("tanya", "sign in throttled", "tanya") in actions(audit)
    # Another account from another place is not held up...
    assert sign_in(app, "anna")
    clock.now += 901  # ...and after the window the account may sign in again.
    assert sign_in(app, "tanya")


def test_failed_logins_are_throttled_per_address(centre):
    app, _, _ = centre
    c = client(app)
    for n in range(30):
        c.post("/login", data={"name": f"user{n}", "password": "guess-guess", "csrf": csrf_of(c.get("/login").text)})
    response = c.post("/login", data={"name": "anna", "password": PASSWORDS["anna"], "csrf": csrf_of(c.get("/login").text)})
    assert response.status_code == 429


# --- roles ------------------------------------------------------------------------------------------------


def test_a_trainee_sees_only_their_own_sessions(centre, sessions):
    app, _, _ = centre
    anna = sign_in(app, "anna")
    page = anna.get("/").text
    assert sessions.anna in page and sessions.boris not in page and "1 sessions" in page
    assert sessions.boris not in anna.get("/?trainee=Boris").text
    assert anna.get(f"/session/{sessions.anna}").status_code == 200
    assert anna.get(f"/session/{sessions.anna}/audio.wav").status_code == 200
    assert anna.get("/progress/anna").status_code == 200
    assert "Correct a misheard turn" not in anna.get(f"/session/{sessions.anna}").text


def test_a_trainee_cannot_open_another_trainees_session_recording_or_progress(centre, sessions):
    app, _, _ = centre
    boris = sign_in(app, "boris")
    for path in (f"/session/{sessions.anna}", f"/session/{sessions.anna}/audio.wav", "/progress/anna", "/progress/ANNA",
                 "/audit"):
        response = boris.get(path)
        assert response.status_code == 403, path
        assert str(sessions.data_dir) not in response.text
    assert boris.head(f"/session/{sessions.anna}/audio.wav").status_code == 403


def test_the_account_name_matches_the_trainee_name_in_any_case(centre, sessions):
    app, _, _ = centre
    boris = sign_in(app, "boris")  # the session says "Boris"
    page = boris.get("/").text
    assert sessions.boris in page and sessions.anna not in page
    assert boris.get(f"/session/{sessions.boris}").status_code == 200
    assert boris.get("/progress/Boris").status_code == 200


def test_a_trainee_cannot_correct_a_turn(centre, centre_library, sessions):
    app, _, _ = centre
    anna = sign_in(app, "anna")
    token = csrf_of(anna.get("/").text)  # the sign-out form carries it
    before = stored_result(centre_library, sessions.anna)
    response = anna.post(f"/session/{sessions.anna}/fix", data={"turn": "1", "text": "hello", "csrf": token})
    assert response.status_code == 403
    assert stored_result(centre_library, sessions.anna) == before


def test_a_trainer_sees_everyone_and_each_view_and_play_is_audited(centre, sessions, clock):
    app, _, audit = centre
    tanya = sign_in(app, "tanya")
    page = tanya.get("/").text
    assert sessions.anna in page and sessions.boris in page
    assert tanya.get(f"/session/{sessions.boris}").status_code == 200
    for header in ("bytes=0-", "bytes=1000-", "bytes=5000-6000"):  # one play, seeking: one entry
        assert tanya.get(f"/session/{sessions.anna}/audio.wav", headers={"range": header}).status_code == 206
    assert tanya.head(f"/session/{sessions.anna}/audio.wav").status_code == 200  # not a play
    clock.now += 301
    tanya.get(f"/session/{sessions.anna}/audio.wav")  # a new play later
    seen = actions(audit)
    assert seen.count(("tanya", "view session", sessions.boris)) == 1
    assert seen.count(("tanya", "play recording", sessions.anna)) == 2
    audit_page = tanya.get("/audit")
    assert audit_page.status_code == 200 and "play recording" in audit_page.text


def test_a_trainer_corrects_a_turn_the_session_is_rescored_and_audited(centre, centre_library, sessions):
    app, _, audit = centre
    tanya = sign_in(app, "tanya")
    session_page = tanya.get(f"/session/{sessions.anna}").text
    assert "Correct a misheard turn" in session_page
    assert stored_result(centre_library, sessions.anna).get("rescored") is None
    response = tanya.post(f"/session/{sessions.anna}/fix", follow_redirects=False, data={
        "turn": "1", "text": "здравствуйте извините за разрывы", "csrf": csrf_of(session_page)})
    assert response.status_code == 303
    after = stored_result(centre_library, sessions.anna)
    assert after["rescored"]["reason"] == "correction"
    assert after["rescored"]["corrections"][0]["text"] == "здравствуйте извините за разрывы"
    assert centre_library.get(sessions.anna).score == after["score"]  # the row follows the new result
    page = tanya.get(response.headers["location"]).text
    assert "<ins>здравствуйте извините за разрывы</ins>" in page
    (entry,) = [e for e in audit.entries(limit=100) if e.action == "fix turn"]
    assert entry.actor == "tanya" and entry.target == sessions.anna and "turn 1" in entry.detail
    assert "score" in entry.detail


def test_correcting_without_the_csrf_token_is_refused(centre, sessions):
    app, _, audit = centre
    tanya = sign_in(app, "tanya")
    response = tanya.post(f"/session/{sessions.anna}/fix", data={"turn": "1", "text": "forged"})
    assert response.status_code == 403
    assert not [e for e in audit.entries(limit=100) if e.action == "fix turn"]


# --- signing out, removed accounts, hosts -----------------------------------------------------------------


def test_signing_out_ends_the_login_for_good(centre):
    app, _, audit = centre
    tanya = sign_in(app, "tanya")
    stolen = dict(tanya.cookies)
    token = csrf_of(tanya.get("/").text)
    assert tanya.post("/logout", data={"csrf": ""}).status_code == 403  # sign-out is a change too: it needs the token
    response = tanya.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login"
    replay = client(app)
    replay.cookies.update(stolen)
    assert replay.get("/", follow_redirects=False).status_code == 303  # the old cookie is worthless now
    assert ("tanya", "sign out", "tanya") in actions(audit)


def test_a_removed_account_is_signed_out(centre, clock):
    app, accounts, _ = centre
    anna = sign_in(app, "anna")
    assert anna.get("/").status_code == 200
    accounts.remove("anna")
    assert anna.get("/", follow_redirects=False).status_code == 303


def test_an_account_whose_role_changed_signs_in_again(centre, centre_library):
    app, accounts, _ = centre
    boris = sign_in(app, "boris")
    accounts.remove("boris")
    accounts.add("boris", "trainer", "boris-pass-2")
    assert boris.get("/", follow_redirects=False).status_code == 303


def test_a_forged_login_cookie_is_refused(centre):
    app, _, _ = centre
    c = client(app)
    c.cookies.set("vt_login", "made-up.value")
    assert c.get("/", follow_redirects=False).status_code == 303


def test_centre_mode_refuses_hosts_it_was_not_told_about(centre_library):
    app = create_app(ReviewSettings(mode=CENTRE, port=PORT, allowed_hosts=("review.example.org",)), centre_library)
    assert client(app, "https://review.example.org").get("/login").status_code == 200
    assert client(app).get("/login").status_code == 403
    assert client(app, "https://evil.example").get("/login").status_code == 403


def test_centre_mode_may_listen_beyond_this_machine_local_mode_may_not():
    from voice_trainer.errors import UsageError

    assert ReviewSettings(mode=CENTRE, host="0.0.0.0").checked()
    with pytest.raises(UsageError, match="only listens on this machine"):
        ReviewSettings(host="0.0.0.0").checked()
