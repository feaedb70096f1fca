"""A read-only data dir (issue 9): the reading commands still work and write nothing.

The data dir is mounted read-only (a read-only bind mount when the tests run as root, whom file
permissions do not stop; `chmod a-w` otherwise). It holds finished sessions, one with a torn result.json
and one never indexed: `sessions list`, `sessions show`, `sessions export` and `report` by id answer from
the folders, the torn result is rebuilt in memory, and not a byte on disk changes.
"""

from __future__ import annotations

import json
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.faults.cli_run import assert_one_line_error, clean_env, run_cli
from tests.fixtures.sessions import SHORT_CALL, record_session
from voice_trainer.session_folder import RESULT_FILE
from voice_trainer.trainer.library import INDEX_FILE


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(root.rglob("*"))}


@contextmanager
def read_only(path: Path):
    """`path` read-only for this test, whoever runs it."""
    if os.geteuid() == 0:
        subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(path)], check=True)
            yield
        finally:
            subprocess.run(["umount", str(path)], check=True)
    else:
        modes = {p: p.stat().st_mode for p in [path, *path.rglob("*")]}
        for p in modes:
            p.chmod(modes[p] & ~0o222)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)


@pytest.mark.parametrize("indexed", [True, False], ids=["indexed before", "never indexed"])
def test_reading_commands_work_on_a_read_only_data_dir_and_write_nothing(data_dir, tmp_path, indexed):
    env = clean_env(data_dir)
    good = record_session(data_dir, SHORT_CALL, seed=1, trainee="anna")
    torn = record_session(data_dir, SHORT_CALL, seed=2, trainee="boris")
    scored = json.loads((torn / RESULT_FILE).read_text(encoding="utf-8"))
    if indexed:
        assert run_cli("sessions", "list", env=env).returncode == 0
    (torn / RESULT_FILE).write_text('{"score": 5', encoding="utf-8")  # torn after it was indexed
    late = record_session(data_dir, SHORT_CALL, seed=3, trainee="clara")  # recorded after the last index
    before = _snapshot(data_dir)
    out = tmp_path / "out"
    out.mkdir()

    with read_only(data_dir):
        listed = run_cli("sessions", "list", "--json", env=env, cwd=out)
        assert listed.returncode == 0, listed.stderr
        assert "Traceback" not in listed.stderr
        rows = {s["session_id"]: s for s in json.loads(listed.stdout)}
        assert set(rows) == {good.name, torn.name, late.name}
        assert rows[torn.name]["score"] == scored["score"]  # rebuilt from the log, in memory

        shown = run_cli("sessions", "show", late.name[:-2], env=env, cwd=out)
        assert shown.returncode == 0 and f"session:   {late.name}" in shown.stdout

        exported = run_cli("sessions", "export", "--format", "csv", env=env, cwd=out)
        assert exported.returncode == 0 and len(exported.stdout.strip().splitlines()) == 4

        md = run_cli("report", torn.name, "--format", "md", env=env, cwd=out)
        assert md.returncode == 0 and md.stdout.startswith("# ")
        html = run_cli("report", good.name, env=env, cwd=out)  # its folder cannot take report.html
        assert html.returncode == 0, html.stderr
        assert (out / html.stdout.strip()).read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

        changed = run_cli("sessions", "delete", good.name, "--yes", env=env, cwd=out)
        assert "read-only" in assert_one_line_error(changed)

    assert _snapshot(data_dir) == before
    assert (data_dir / INDEX_FILE).exists() == indexed
