"""Serving the project under gunicorn for the benchmarks (bench/intake.py, bench/load.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def setup_django(database_url: str, media: str) -> None:
    """Django in this process against the benchmark's database, with persistent connections."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["CONN_MAX_AGE"] = "600"
    os.environ["MEDIA_ROOT"] = media
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "citygrid.settings")
    import django

    django.setup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(port: int, workers: int, media: str, database_url: str, *,
                   ready_path: str = "/healthz", backlog: int = 512,
                   timeout: int = 120) -> subprocess.Popen[bytes]:
    """gunicorn with sync workers and persistent connections on 127.0.0.1:port, once it answers
    `ready_path` (within 90 s)."""
    env = {**os.environ, "DATABASE_URL": database_url, "CONN_MAX_AGE": "600",
           "MEDIA_ROOT": media, "DEBUG": "0", "LOG_LEVEL": "ERROR"}
    proc = subprocess.Popen(
        [str(BIN / "gunicorn"), "citygrid.wsgi:application", "--workers", str(workers),
         "--worker-class", "sync", "--bind", f"127.0.0.1:{port}", "--backlog", str(backlog),
         "--log-level", "warning", "--timeout", str(timeout)],
        cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{ready_path}", timeout=5).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("gunicorn exited at start") from None
            time.sleep(0.5)
    stop(proc)
    raise RuntimeError("gunicorn did not answer within 90 s")


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# ------------------------------------------------------------------ CPU time (from /proc)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    """utime + stime of a process in seconds (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found
