"""Very long input (issue 9): a megabyte on one line, in a practice script, piped to practice, or given to
`classify`, is refused or cut in one line and never hangs; replies up to the limit go through the whole
path (understanding, the customer, scoring, the log) as any other."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

from tests.faults.cli_run import CLI, assert_one_line_error, clean_env, run_cli
from voice_trainer.practice.text import MAX_REPLY_CHARS, MAX_SCRIPT_BYTES

WORDS = "здравствуйте извините за разрывы какой у вас модем когда вы подключились спасибо".split()


def words(chars: int, seed: int = 1) -> str:
    rng = random.Random(seed)
    picked = rng.choices(WORDS, k=chars // 4 + 1)  # words here are longer than 3 letters
    return " ".join(picked)[:chars].strip()


MEGA = words(1_000_000)  # a megabyte of characters (twice that in UTF-8 bytes)


def test_a_megabyte_line_in_a_script_is_refused_with_its_line_before_anything_starts(tmp_path):
    script = tmp_path / "replies.txt"
    script.write_text(f"здравствуйте извините за разрывы\n\n{MEGA}\nспасибо\n", encoding="utf-8")
    data_dir = tmp_path / "data"
    message = assert_one_line_error(run_cli("practice", "--script", str(script), "--data-dir", str(data_dir),
                                            env=clean_env(data_dir), timeout=120), 2)
    assert message.startswith(f"{script}:3: a reply of {len(MEGA)} characters")
    assert f"({MAX_REPLY_CHARS} characters" in message
    assert not data_dir.exists()  # refused before a session (or the data dir) was made


def test_a_script_of_many_megabytes_is_refused_by_its_size(tmp_path):
    script = tmp_path / "replies.txt"
    line = (words(500) + "\n").encode("utf-8")
    script.write_bytes(line * (MAX_SCRIPT_BYTES // len(line) + 1))
    message = assert_one_line_error(run_cli("practice", "--script", str(script), "--data-dir", str(tmp_path / "d"),
                                            env=clean_env(tmp_path / "d"), timeout=120), 2)
    assert message.startswith(f"{script}: a script of") and "at most" in message


def test_a_megabyte_line_piped_to_practice_is_cut_with_a_notice_and_the_call_goes_on(tmp_path):
    data_dir = tmp_path / "data"
    replies = ["здравствуйте извините за разрывы", MEGA, "какой у вас модем"]
    done = subprocess.run([str(CLI), "practice", "--text", "--seed", "1", "--data-dir", str(data_dir), "--json"],
                          input="".join(r + "\n" for r in replies), capture_output=True, text=True, timeout=300,
                          env=clean_env(data_dir))
    assert done.returncode == 0, done.stderr[-2000:]
    notices = [line for line in done.stdout.splitlines() if line.startswith("[input] ")]
    assert notices == [f"[input] a reply of {len(MEGA)} characters, longer than a reply can be "
                       f"({MAX_REPLY_CHARS} characters; 30 seconds of speech are about 600): only its first "
                       f"{MAX_REPLY_CHARS} are kept"]
    assert max(len(line) for line in done.stdout.splitlines()[:-1]) < MAX_REPLY_CHARS + 100
    result = json.loads(done.stdout.splitlines()[-1])
    said = [t["trainee"] for t in result["turns"]]
    assert said[0] == replies[0] and said[1] == MEGA[:MAX_REPLY_CHARS]
    assert len(said) == 3 or result["outcome"] != "abandoned"  # the call went on after it (or ended on it)
    (folder,) = (data_dir / "sessions").iterdir()
    log = [json.loads(line) for line in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(e["type"] == "notice" and e["kind"] == "input" for e in log)  # the reviewer sees it too


def test_a_megabyte_line_given_to_classify_is_one_line(tmp_path):
    done = subprocess.run([str(CLI), "classify", "-"], input=f"здравствуйте\n{MEGA}\nспасибо\n",
                          capture_output=True, text=True, timeout=120, env=clean_env(tmp_path))
    message = assert_one_line_error(done, 2)
    assert message.startswith(f"stdin:2: a reply of {len(MEGA)} characters")
    assert json.loads(done.stdout.splitlines()[0])["text"] == "здравствуйте"  # the lines before were answered

    long_argument = words(50_000)  # an argument may not be a megabyte (Linux caps one at 128 KiB)
    message = assert_one_line_error(run_cli("classify", "здравствуйте", long_argument, env=clean_env(tmp_path),
                                            timeout=120), 2)
    assert message.startswith(f"utterance 2: a reply of {len(long_argument)} characters")


def test_a_reply_as_long_as_allowed_goes_through_the_whole_call(tmp_path):
    script = tmp_path / "replies.txt"
    longest = [words(MAX_REPLY_CHARS, seed) for seed in range(4)]
    script.write_text("\n".join(longest) + "\n", encoding="utf-8")
    data_dir = tmp_path / "data"
    done = run_cli("practice", "--script", str(script), "--seed", "2", "--json", "--data-dir", str(data_dir),
                   env=clean_env(data_dir), timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert [t["trainee"] for t in result["turns"]] == longest[: len(result["turns"])] and result["turns"]
