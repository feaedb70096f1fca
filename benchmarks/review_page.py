"""The review site's session list with 100,000 sessions: time per page, as a browser gets it over HTTP.

    .venv/bin/python -m benchmarks.review_page                 # SQLite (this machine's library), 100,000 rows
    .venv/bin/python -m benchmarks.review_page --postgres      # a throw-away PostgreSQL cluster (Debian's server)
    .venv/bin/python -m benchmarks.review_page --sessions 20000 --requests 100

Synthetic rows (200 trainees, a year of calls, five outcomes, ten rubric items each) are stored through
the library's own `put`; the real review site (uvicorn, every middleware, the HTML) serves them; one
keep-alive HTTP connection asks for each page `--requests` times after a warm-up. Prints p50/p95/max in ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

from voice_trainer.trainer.library import LocalLibrary, RubricMark, SessionRecord, SessionSummary
from voice_trainer.web.app import create_app
from voice_trainer.web.server import ReviewServer
from voice_trainer.web.settings import CENTRE, ReviewSettings

OUTCOMES = ("understood", "office_visit", "contract_hangup", "customer_hung_up", "abandoned")
ITEMS = tuple((f"item_{n}", f"Rubric item {n}") for n in range(10))
PASSWORD = "bench-password-1"


def synthetic_rows(n: int, trainees: int, seed: int = 1):
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    for i in range(n):
        when = start + timedelta(seconds=rng.randrange(365 * 24 * 3600))
        trainee = f"Trainee{rng.randrange(trainees):03d}"
        summary = SessionSummary(
            session_id=f"{when:%Y%m%d-%H%M%S}-{trainee.lower()}-{i:06x}", folder=None, trainee=trainee,
            started_at=when.isoformat(timespec="milliseconds"), scenario="razryv", lang="ru",
            persona=rng.choice(("reasonable", "stubborn")), policy=rng.choice(("keep_client", "let_go")),
            mode="voice", outcome=rng.choice(OUTCOMES), score=rng.randrange(101), interrupted=False,
            duration_s=round(rng.uniform(60, 600), 1),
            items=tuple(RubricMark(k, t, rng.random() < 0.6) for k, t in ITEMS), has_recording=False,
        )
        yield SessionRecord(summary, [], None)


def fill(library, n: int, trainees: int) -> float:
    started = time.perf_counter()
    for record in synthetic_rows(n, trainees):
        library.put(record)
    return time.perf_counter() - started


class Client:
    """One keep-alive connection, cookies kept, as a browser tab."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # the site closes a keep-alive connection idle for 5 s, and a browser opens a new one
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        text = response.read().decode("utf-8")
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return response.status, text


def sign_in(client: Client, centre: bool, url: str, name: str) -> None:
    if not centre:
        status, _ = client.request("GET", url[url.index("/", 8):])  # the printed address with its key
        assert status == 200, status
        return
    status, page = client.request("GET", "/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    status, _ = client.request("POST", "/login", {"name": name, "password": PASSWORD, "csrf": csrf, "next": "/"})
    assert status == 303, status


def measure(client: Client, path: str, requests: int, expect: str) -> list[float]:
    for _ in range(10):
        status, page = client.request("GET", path)
        assert status == 200 and expect in page, (path, status, page[:300])
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        status, _ = client.request("GET", path)
        times.append((time.perf_counter() - started) * 1000)
        assert status == 200
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run(args) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix="vt-review-bench-"))
    pg = None
    try:
        if args.postgres:
            from tests.fixtures.postgres import PostgresServer
            from voice_trainer.trainer.library.centre import CentreLibrary

            root = Path(tempfile.mkdtemp(prefix="vt-pg-"))  # short: a unix socket path is limited
            if os.geteuid() == 0:  # the server runs as the postgres user
                shutil.chown(root, "postgres", "postgres")
            root.chmod(0o700)
            pg = PostgresServer(root)
            pg.init()
            pg.start()
            (tmp / "share").mkdir()
            library = CentreLibrary(pg.create_database(), tmp / "share", pool_max=8)
            backend = "PostgreSQL 15 (unix socket, fsync off)"
        else:
            library = LocalLibrary(tmp / "data")
            backend = "SQLite (this machine's library, WAL)"
        fill_s = fill(library, args.sessions, args.trainees)
        library.accounts.add("tanya", "trainer", PASSWORD)
        library.accounts.add("trainee007", "trainee", PASSWORD)  # sessions say "Trainee007": any case matches
        centre = args.postgres
        server = ReviewServer(ReviewSettings(mode=CENTRE if centre else "local"),
                              lambda bound: create_app(bound, library)).start()
        trainer, trainee = Client(server.settings.port), Client(server.settings.port)
        sign_in(trainer, centre, server.url, "tanya")
        if centre:
            sign_in(trainee, centre, server.url, "trainee007")
        last_page = max(1, (args.sessions + 49) // 50)
        pages = [
            ("first page, everyone's (trainer)", trainer, "/", f"{args.sessions} sessions"),
            (f"page {min(100, last_page)} (offset {50 * (min(100, last_page) - 1):,})", trainer,
             f"/?page={min(100, last_page)}", "sessions"),
            ("one trainee's first page (trainer, filter)", trainer, "/?trainee=Trainee042", "sessions"),
            ("one outcome's first page (trainer, filter)", trainer, "/?outcome=understood", "sessions"),
            (f"the last page (offset {50 * (last_page - 1):,})", trainer, f"/?page={last_page}", "sessions"),
        ]
        if centre:
            pages.append(("a trainee's own list (account name in another case)", trainee, "/", "Trainee007"))
        results = []
        for label, client, path, expect in pages:
            times = measure(client, path, args.requests, expect)
            results.append({"page": label, "path": path, "p50_ms": round(statistics.median(times), 1),
                            "p95_ms": round(percentile(times, 0.95), 1), "max_ms": round(max(times), 1)})
        server.stop()
        library.close()
        return [{"backend": backend, "sessions": args.sessions, "trainees": args.trainees,
                 "fill_s": round(fill_s, 1), "requests_per_page": args.requests}] + results
    finally:
        if pg is not None:
            pg.stop()
            shutil.rmtree(pg.root, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=100_000)
    parser.add_argument("--trainees", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL cluster instead of SQLite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = run(args)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    head, *pages = rows
    print(f"{head['backend']}: {head['sessions']} sessions of {head['trainees']} trainees (stored in {head['fill_s']} s); "
          f"{head['requests_per_page']} requests per page over HTTP; {platform.processor() or platform.machine()}")
    print("| page | p50 ms | p95 ms | max ms |\n|---|---|---|---|")
    for r in pages:
        print(f"| {r['page']} | {r['p50_ms']} | {r['p95_ms']} | {r['max_ms']} |")


if __name__ == "__main__":
    main()
