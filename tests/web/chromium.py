"""Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`): no driver binary,
no websocket library. Enough to open pages, fill and submit forms, run a script and read what came back.

    with Chromium(tmp_path) as browser:
        page = browser.new_page()
        status = page.goto("http://127.0.0.1:8000/login")
        status = page.submit("form.login", {"name": "anna", "password": "..."})
        page.text()  # the page as the user sees it
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import queue
import subprocess
import threading
from pathlib import Path
from typing import Any

from voice_trainer.trainer.progress import chromium_binary

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         "--disable-default-apps", "--no-default-browser-check", "--mute-audio")
TIMEOUT_S = 120  # a wait for the browser; the busy shared machine can be slow, a hang still fails


class BrowserError(Exception):
    pass


class Chromium:
    def __init__(self, profile_dir: Path, *extra_flags: str):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Above 9, so that moving them onto 3 and 4 in the child cannot overwrite one with the other (bash, not sh,
        # takes fd numbers past 9).
        to_browser_r, from_browser_w = (_high(fd) for fd in (to_browser_r, from_browser_w))
        # Chromium reads commands on fd 3 and writes answers on fd 4.
        args = [chromium_binary(), *FLAGS, f"--user-data-dir={profile_dir}", "--remote-debugging-pipe",
                *extra_flags, "about:blank"]
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w}', "bash", *args],
            pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._ids = itertools.count(1)
        self._answers: dict[int, queue.Queue] = {}
        self._events: dict[str, queue.Queue] = {}
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._stderr: list[str] = []
        threading.Thread(target=lambda: self._stderr.extend(line.decode('utf-8', 'replace') for line in self.proc.stderr),
                         daemon=True).start()

    # --- the protocol ---------------------------------------------------------------------------------

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._from_browser, 65536)
            if not chunk:
                break
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        answer = self._answers.get(message["id"])
                    if answer is not None:
                        answer.put(message)
                else:
                    self._event_queue(message.get("sessionId", "")).put(message)
        with self._lock:
            for answer in self._answers.values():
                answer.put({"error": {"message": "the browser closed"}})

    def _event_queue(self, session: str) -> queue.Queue:
        with self._lock:
            return self._events.setdefault(session, queue.Queue())

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        command_id = next(self._ids)
        answer: queue.Queue = queue.Queue()
        with self._lock:
            self._answers[command_id] = answer
        message: dict[str, Any] = {"id": command_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode("utf-8") + b"\0")
        try:
            reply = answer.get(timeout=TIMEOUT_S)
        except queue.Empty:
            raise BrowserError(f"{method}: no answer from Chromium; stderr: {''.join(self._stderr)[-500:]}") from None
        finally:
            with self._lock:
                self._answers.pop(command_id, None)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')}; stderr: {''.join(self._stderr)[-800:]}")
        return reply.get("result", {})

    def wait_event(self, session: str, method: str) -> dict:
        events = self._event_queue(session)
        while True:
            try:
                event = events.get(timeout=TIMEOUT_S)
            except queue.Empty:
                raise BrowserError(f"no {method} from Chromium within {TIMEOUT_S} s") from None
            if event.get("method") == method:
                return event.get("params", {})

    # --- pages ----------------------------------------------------------------------------------------

    def new_page(self) -> "Page":
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=session)
        return Page(self, session)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (BrowserError, OSError):
            pass
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _high(fd: int) -> int:
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return moved


class Page:
    def __init__(self, browser: Chromium, session: str):
        self.browser = browser
        self.session = session

    def _send(self, method: str, params: dict | None = None) -> dict:
        return self.browser.send(method, params, self.session)

    def goto(self, url: str) -> int:
        """Open the address and wait until it has loaded; the HTTP status of the page."""
        self._drain()
        reply = self._send("Page.navigate", {"url": url})
        if reply.get("errorText"):
            raise BrowserError(f"{url}: {reply['errorText']}")
        self.browser.wait_event(self.session, "Page.loadEventFired")
        try:
            return self.status()
        except BrowserError:
            return 0  # the page sent the browser on at once (a meta refresh); see wait_for_url

    def wait_for_url(self, url: str) -> int:
        """After a page that sends the browser on (a meta refresh): wait for the page at `url`; its status."""
        while True:
            try:
                if self.url() == url:
                    return self.status()
            except BrowserError:
                pass  # asked mid-navigation; the next load tells
            self.browser.wait_event(self.session, "Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        reply = self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in reply:
            raise BrowserError(f"{expression[:80]}: {reply['exceptionDetails'].get('text')}")
        return reply.get("result", {}).get("value")

    def submit(self, form: str, fields: dict[str, str]) -> int:
        """Fill the form's fields as a user types them, press its submit button, wait for the next page."""
        self._drain()
        script = (f"(() => {{ const f = document.querySelector({json.dumps(form)});"
                  f" const values = {json.dumps(fields)};"
                  " for (const [k, v] of Object.entries(values)) { f.elements[k].value = v; }"
                  " f.querySelector('[type=submit]').click(); return true; })()")
        self.evaluate(script)
        self.browser.wait_event(self.session, "Page.loadEventFired")
        return self.status()

    def status(self) -> int:
        return int(self.evaluate("performance.getEntriesByType('navigation')[0].responseStatus") or 0)

    def url(self) -> str:
        return self.evaluate("location.href")

    def html(self) -> str:
        return self.evaluate("document.documentElement.outerHTML")

    def text(self) -> str:
        return self.evaluate("document.body ? document.body.innerText : ''")

    def cookies(self) -> list[dict]:
        return self._send("Network.getCookies").get("cookies", [])

    def _drain(self) -> None:
        events = self.browser._event_queue(self.session)
        while not events.empty():
            events.get_nowait()
