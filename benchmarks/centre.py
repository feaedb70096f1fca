"""Scale of the centre: `sessions list` and the review site's list page over 100,000 sessions in
PostgreSQL, and publishing a 5-minute session (its 19 MB recording into the share, its row and timeline
into the database).

    .venv/bin/python benchmarks/centre.py                        # a throw-away PostgreSQL cluster (Debian's), 100,000 rows
    .venv/bin/python benchmarks/centre.py --rows 20000 --runs 20
    .venv/bin/python benchmarks/centre.py --database postgresql://... --recordings /mnt/share   # an existing centre
    .venv/bin/python benchmarks/centre.py --write docs/benchmarks.md   # replace the section "Scale" there

A throw-away cluster needs the PostgreSQL server binaries (`initdb`, `pg_ctl`); as root they run as
the `postgres` user. Synthetic rows are copies of one real scored session with other ids, trainees and
days; the recording is 5 minutes of 16 kHz stereo noise, the size a real one has.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile as sf

from voice_trainer.clock import ManualClock
from voice_trainer.scenario.loader import load
from voice_trainer.session import Session
from voice_trainer.session_folder import RECORDING_FILE, RECORDING_RATE_HZ, SessionFolder
from voice_trainer.trainer.library import read_folder
from voice_trainer.trainer.library.centre import CentreLibrary
from voice_trainer.trainer.library.interface import SessionRecord
from voice_trainer.trainer.publish import publish_folder

SECTION = "## Scale: the centre's library and review site"
REPLIES = [
    "здравствуйте приношу извинения за разрывы сейчас растаял снег и подземные узлы залило водой",
    "я вас понял давайте уточним какого числа вы подключились",
    "а до какого числа у вас не было разрывов",
    "скажите пожалуйста какой у вас модем",
    "правильно ли я понимаю что с момента подключения вы не наблюдали ни одного разрыва",
    "скажите все это время ваш компьютер был включен и подключен к интернету",
    "вы всегда скачиваете файлы или иногда просто просматриваете страницы",
    "когда вы читаете страницу разрыв невозможно заметить модем сам переподключается за двадцать секунд",
    "не переживайте такие короткие разрывы почти никто не замечает",
]


# --- a database to measure --------------------------------------------------------------------------------


def pg_bin() -> Path:
    """The newest PostgreSQL server binaries Debian/Ubuntu installed (/usr/lib/postgresql/N/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not found:
        raise SystemExit("no PostgreSQL server binaries in /usr/lib/postgresql; install postgresql "
                         "(./quickstart test does) or give --database")
    return found[-1].parent


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    bin_dir = pg_bin()
    root = Path(tempfile.mkdtemp(prefix="vt-bench-pg-"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    root.chmod(0o700)

    def pg(*args: str) -> None:
        subprocess.run([*as_postgres, str(bin_dir / args[0]), *args[1:]], check=True, capture_output=True)

    pg("initdb", "-D", str(root / "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8")
    pg("pg_ctl", "-D", str(root / "data"), "-l", str(root / "log"), "-w", "-o",
       f"-k {root} -c listen_addresses='' -c shared_buffers=128MB", "start")
    try:
        yield f"postgresql://postgres@/postgres?host={root}"
    finally:
        pg("pg_ctl", "-D", str(root / "data"), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


# --- sessions ----------------------------------------------------------------------------------------------


def five_minute_session(data_dir: Path, seed: int) -> Path:
    """A real scored call stretched over 5 minutes, with a 5-minute recording beside it."""
    clock = ManualClock(1_000_000.0)
    session = Session(load("razryv", "ru"), seed=seed, trainee=f"bench{seed}", mode="voice", data_dir=data_dir,
                      clock=clock, observers=[])
    session.start()
    for reply in REPLIES:
        if session.ended:
            break
        clock.advance(300_000 / (len(REPLIES) + 1))
        session.trainee_says(reply)
    clock.advance(300_000 - session.clock.now_ms())
    session.finish()
    noise = (np.random.default_rng(seed).standard_normal((300 * RECORDING_RATE_HZ, 2)) * 2000).astype(np.int16)
    sf.write(session.folder.path / RECORDING_FILE, noise, RECORDING_RATE_HZ, subtype="PCM_16")
    return session.folder.path


def synthetic_rows(template: SessionRecord, n: int) -> Iterator[SessionRecord]:
    rng = random.Random(1)
    start = datetime(2023, 1, 1, 8, tzinfo=timezone.utc)
    trainees = [f"trainee{k:03d}" for k in range(200)]
    for i in range(n):
        when = start + timedelta(minutes=7 * i + rng.randrange(5))
        trainee = rng.choice(trainees)
        session_id = f"{when:%Y%m%d-%H%M%S}-{trainee}-{i:06x}"
        summary = replace(template.summary, session_id=session_id, trainee=trainee, started_at=when.isoformat(),
                          score=rng.randrange(0, 101), station=f"room{i % 10}-pc{i % 20:02d}",
                          recording_name=f"{when:%Y/%m}/{session_id}.wav")
        yield SessionRecord(summary, template.events, template.result)


def fill(library: CentreLibrary, template: SessionRecord, n: int, batch: int = 2000) -> float:
    started = time.perf_counter()
    rows = synthetic_rows(template, n)
    while True:
        chunk = [library._row(r) for _, r in zip(range(batch), rows)]
        if not chunk:
            break
        with library.db.write() as tx:
            tx.cursor.executemany(library.sql.INSERT_SESSION, chunk)
    with library.db.write() as tx:
        tx.run("ANALYZE sessions")
    return time.perf_counter() - started


# --- the review site -------------------------------------------------------------------------------------


def measure_review(library: CentreLibrary, total: int, runs: int) -> dict[str, list[float]]:
    """The review site in centre mode (uvicorn, every middleware, the HTML) over one keep-alive HTTP
    connection per person, as a browser tab asks for each list page."""
    from voice_trainer.web.app import create_app
    from voice_trainer.web.server import ReviewServer
    from voice_trainer.web.settings import CENTRE, ReviewSettings

    try:
        from benchmarks.review_page import PASSWORD, Client, sign_in
    except ImportError:  # run as a script: benchmarks/ itself is on the path
        from review_page import PASSWORD, Client, sign_in

    for name, role in (("tanya", "trainer"), ("trainee042", "trainee")):
        if library.accounts.get(name) is None:
            library.accounts.add(name, role, PASSWORD)
    server = ReviewServer(ReviewSettings(mode=CENTRE), lambda bound: create_app(bound, library)).start()
    try:
        trainer, trainee = Client(server.settings.port), Client(server.settings.port)
        sign_in(trainer, True, server.url, "tanya")
        sign_in(trainee, True, server.url, "trainee042")
        pages = max(1, total // 50)
        rng = random.Random(3)
        asks = {
            "first page, everyone's (trainer)": (trainer, lambda: "/"),
            "a random page of 50 (trainer)": (trainer, lambda: f"/?page={1 + rng.randrange(pages)}"),
            "the middle page, the worst (trainer)": (trainer, lambda: f"/?page={1 + pages // 2}"),
            "one trainee's sessions (trainer, filter)": (trainer, lambda: "/?trainee=trainee007"),
            "a trainee's own list": (trainee, lambda: "/"),
        }
        times: dict[str, list[float]] = {key: [] for key in asks}
        for key, (client, path) in asks.items():
            for _ in range(3):  # warm-up
                status, _ = client.request("GET", path())
                if status != 200:
                    raise SystemExit(f"review site answered {status} to {key}")
            for _ in range(runs):
                started = time.perf_counter()
                status, _ = client.request("GET", path())
                times[key].append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise SystemExit(f"review site answered {status} to {key}")
        return times
    finally:
        server.stop()


# --- measuring ---------------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed_cli(env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([str(Path(sys.executable).with_name("voice-trainer")), *args], env=env,
                          capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"voice-trainer {' '.join(args)} failed: {done.stderr}")
    return took * 1000


def measure(url: str, recordings: Path, rows: int, runs: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="vt-bench-"))
    try:
        station_dir = work / "station"
        sessions = [five_minute_session(station_dir, seed) for seed in range(1, 6)]
        with CentreLibrary(url, recordings) as library:
            template = read_folder(sessions[0]).record
            fill_s = fill(library, template, rows) if library.count() < rows else 0.0
            total = library.count()
            publish_ms = []
            for folder in sessions:
                started = time.perf_counter()
                assert publish_folder(library, SessionFolder(folder), "bench-station") == "published"
                publish_ms.append((time.perf_counter() - started) * 1000)
            recording_mb = (sessions[0] / RECORDING_FILE).stat().st_size / 1e6
            events_kb = (sessions[0] / "events.jsonl").stat().st_size / 1e3
            pages = max(1, total // 50)
            query_ms = {"first page": [], "a random page (read from the nearer end)": [],
                        "the middle page (the worst)": [], "newest first": [], "one trainee": [], "count": []}
            rng = random.Random(2)
            for _ in range(runs):
                for key, call in (
                    ("first page", lambda: library.list(limit=50)),
                    ("a random page (read from the nearer end)",
                     lambda: library.page(total, 50 * rng.randrange(pages), 50)),
                    ("the middle page (the worst)", lambda: library.page(total, 50 * (pages // 2), 50)),
                    ("newest first", lambda: library.list(limit=50, newest_first=True)),
                    ("one trainee", lambda: library.list(trainee="trainee042", limit=50)),
                    ("count", lambda: library.count()),
                ):
                    started = time.perf_counter()
                    call()
                    query_ms[key].append((time.perf_counter() - started) * 1000)
            review_ms = measure_review(library, total, runs)
            with library.db.read() as tx:
                database_mb = tx.one("SELECT pg_database_size(current_database())")[0] / 1e6
                server_version = tx.one("SHOW server_version")[0].split()[0]
        env = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_TRAINER_")}
        env.update(VOICE_TRAINER_DATABASE=url, VOICE_TRAINER_RECORDINGS=str(recordings),
                   VOICE_TRAINER_DATA=str(work / "trainer"), XDG_CONFIG_HOME=str(work / "config"))
        cli_ms = {"sessions list --limit 50": [], "sessions list --limit 50 --page N": [],
                  "sessions list --limit 50 --newest": []}
        for _ in range(runs):
            cli_ms["sessions list --limit 50"].append(timed_cli(env, "sessions", "list", "--limit", "50"))
            page = str(1 + rng.randrange(pages))
            cli_ms["sessions list --limit 50 --page N"].append(
                timed_cli(env, "sessions", "list", "--limit", "50", "--page", page))
            cli_ms["sessions list --limit 50 --newest"].append(
                timed_cli(env, "sessions", "list", "--limit", "50", "--newest"))
        sync_folder = five_minute_session(station_dir, 99)
        sync_ms = timed_cli({**env, "VOICE_TRAINER_DATA": str(station_dir)}, "sessions", "sync")
        return {
            "rows": total, "fill_s": fill_s, "publish_ms": publish_ms, "sync_ms": sync_ms,
            "recording_mb": recording_mb, "events_kb": events_kb, "query_ms": query_ms, "cli_ms": cli_ms,
            "review_ms": review_ms, "database_mb": database_mb, "server_version": server_version,
            "runs": runs, "sync_session": sync_folder.name,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(m: dict, command: str) -> str:
    load1 = os.getloadavg()
    lines = [
        SECTION,
        "",
        f"Re-run: `{command}` (PostgreSQL {m['server_version']}, a throw-away cluster on a unix "
        "socket unless `--database` is given; the share a local folder).",
        f"{platform.platform()}, {os.cpu_count()} cores, load average at the end {load1[0]:.2f} "
        "(the machine is shared); numbers are wall-clock milliseconds.",
        "",
        f"{m['rows']:,} sessions in PostgreSQL (synthetic rows: one real scored call under 200 trainees, 7 minutes "
        f"apart over {m['rows'] * 7 // (60 * 24 * 365) or 1} year(s)); {m['runs']} runs each. The database then "
        f"takes {m['database_mb']:.0f} MB on disk (rows with their timelines, indexes, accounts, audit log).",
        "",
        "| `sessions list`, 50 per page | p50 ms | p95 ms |",
        "|---|---|---|",
    ]
    for key, values in m["cli_ms"].items():
        lines.append(f"| `voice-trainer {key}` (whole command: start-up, connect, query, print) | "
                     f"{statistics.median(values):.0f} | {percentile(values, 95):.0f} |")
    for key, values in m["query_ms"].items():
        lines.append(f"| the library query alone: {key} | {statistics.median(values):.1f} | "
                     f"{percentile(values, 95):.1f} |")
    lines += ["", "| the review site's session list, 50 per page, over HTTP | p50 ms | p95 ms |", "|---|---|---|"]
    for key, values in m["review_ms"].items():
        lines.append(f"| {key} | {statistics.median(values):.1f} | {percentile(values, 95):.1f} |")
    lines += [
        "",
        f"Publishing a 5-minute session (recording {m['recording_mb']:.1f} MB, timeline {m['events_kb']:.0f} kB): "
        f"{', '.join(f'{v:.0f}' for v in m['publish_ms'])} ms (median {statistics.median(m['publish_ms']):.0f} ms) "
        "for the copy into the share with its SHA-256, fsync and rename, then the row and timeline in one "
        f"transaction; `voice-trainer sessions sync` for one such session, the whole command: {m['sync_ms']:.0f} ms.",
        "",
        "Reading these numbers: the first and the newest page are a range scan of 50 index entries "
        "(`ORDER BY started_utc, session_id` on its index). A page deep in the list makes the database step over "
        "every row before it (SQL `OFFSET`), so both `sessions list --page N` and the review site read a page past "
        "the middle from the other end, in the opposite order: the middle page is the worst case. Each list page "
        "also counts its rows for the page total (`count(*)`). The whole command is mostly Python start-up, "
        "imports and the connection, and grows with the machine's load. Over a real network share the copy "
        "takes the recording's size over the link's speed (19 MB: about 0.2 s on 1 Gbit/s); it happens after "
        "the call has ended, never during it.",
        "",
    ]
    return "\n".join(lines)


def write_section(path: Path, text: str) -> None:
    doc = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.S | re.M)
    doc = pattern.sub(text, doc) if pattern.search(doc) else doc.rstrip("\n") + "\n\n" + text
    path.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="postgresql:// URL of an existing centre (default: a throw-away cluster)")
    parser.add_argument("--recordings", type=Path, help="the share (default: a temp folder)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--write", type=Path, help="replace this section in a markdown file (docs/benchmarks.md)")
    args = parser.parse_args(argv)
    command = ".venv/bin/python benchmarks/centre.py" + (f" --rows {args.rows}" if args.rows != 100_000 else "") + \
        (f" --write {args.write}" if args.write else "")
    share = args.recordings or Path(tempfile.mkdtemp(prefix="vt-bench-share-"))
    try:
        if args.database:
            m = measure(args.database, share, args.rows, args.runs)
        else:
            with throwaway_cluster() as url:
                m = measure(url, share, args.rows, args.runs)
    finally:
        if args.recordings is None:
            shutil.rmtree(share, ignore_errors=True)
    text = report(m, command)
    print(text)
    print(json.dumps({k: v for k, v in m.items() if k not in ("query_ms", "review_ms")}, default=str)[:2000],
          file=sys.stderr)
    if args.write:
        write_section(args.write, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
