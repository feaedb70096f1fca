"""Same --seed and the same replies give the same call; other seeds give a different customer."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

CLI = shutil.which("voice-trainer", path=str(Path(sys.executable).parent)) or "voice-trainer"
SCRIPT = Path(__file__).resolve().parent / "scripts" / "ru" / "good_understood.txt"

# Per-run identity and wall-clock timing (every field named *_ms); everything else must repeat exactly.
VOLATILE = {"session_id", "folder", "started_at"}


def play(data_dir: Path, *args: str) -> tuple[dict, list[dict]]:
    done = subprocess.run(
        [CLI, "practice", "--text", "--script", str(SCRIPT), "--data-dir", str(data_dir), "--json", *args],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    log = [json.loads(line) for line in (Path(result["folder"]) / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    return result, log


def stable(value):
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE and not k.endswith("_ms")}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def customer_lines(log: list[dict]) -> list[str]:
    return [e["text"] for e in log if e["type"] == "customer_line"]


def test_same_seed_and_replies_give_the_same_call(tmp_path):
    first, first_log = play(tmp_path / "a", "--seed", "11")
    second, second_log = play(tmp_path / "b", "--seed", "11")
    assert first["session_id"] != second["session_id"]
    assert customer_lines(first_log) == customer_lines(second_log)
    assert stable(first) == stable(second)
    assert stable(first_log) == stable(second_log)


def test_a_random_seed_is_recorded_and_replays_the_call(tmp_path):
    unseeded, unseeded_log = play(tmp_path / "a")
    replayed, replayed_log = play(tmp_path / "b", "--seed", str(unseeded["seed"]))
    assert customer_lines(unseeded_log) == customer_lines(replayed_log)
    assert stable(unseeded) == stable(replayed)


def test_different_seeds_give_a_different_customer(tmp_path):
    calls = [play(tmp_path / str(seed), "--seed", str(seed)) for seed in (1, 2, 3, 4)]
    variants = {
        (json.dumps(log[0]["facts"], sort_keys=True, ensure_ascii=False), tuple(customer_lines(log)))
        for _, log in calls
    }
    assert len(variants) > 1
    # The seed changes what he says, not how the call is judged: same replies, same path through the call.
    assert len({(r["outcome"], tuple(t["state"] for t in r["turns"])) for r, _ in calls}) == 1
