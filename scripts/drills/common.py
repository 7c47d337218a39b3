"""What the failure drills share: logging, database URLs, processes they start and stop,
the small demo city. Imported by pg_restart.py and worker_kill.py (and tests/security/test_drills.py)."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
T = TypeVar("T")


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def url_of(settings: dict[str, Any], **query: str) -> str:
    """A DATABASE_URL for Django's settings of a PostgreSQL database (plus query options such
    as application_name, which tells the drill's backends apart in pg_stat_activity)."""
    user = quote(str(settings.get("USER") or "postgres"))
    password = f":{quote(str(settings['PASSWORD']))}" if settings.get("PASSWORD") else ""
    host, port = settings.get("HOST") or "127.0.0.1", settings.get("PORT") or 5432
    tail = f"?{urlencode(query)}" if query else ""
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}{tail}"


def psycopg_kwargs(settings: dict[str, Any]) -> dict[str, Any]:
    return {"dbname": settings["NAME"], "user": settings.get("USER") or "postgres",
            "password": settings.get("PASSWORD") or None, "host": settings.get("HOST") or "127.0.0.1",
            "port": int(settings.get("PORT") or 5432)}


def wait_for(what: str, check: Callable[[], T | None], timeout: float, every: float = 0.05) -> T:
    """Polls `check` until it returns something true; raises TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}")
        time.sleep(every)


def start(name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen[bytes]:
    """A child process in its own session, output to log_dir/name.log."""
    out = (log_dir / f"{name}.log").open("ab")
    return subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **env}, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen[bytes], grace: float = 20) -> None:
    """SIGTERM to the process we started (by its id), SIGKILL after `grace` seconds."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def load_small_city() -> bool:
    """The small demo city, its calendars, standard and organisation (as tests/cases/conftest.py
    loads them); False when already there."""
    from citygrid.calendars.demo import load_demo as calendars
    from citygrid.catalog.demo import load_demo as catalog
    from citygrid.org.demo import load_demo as org
    from citygrid.org.models import Department
    from citygrid.space.demo import load_city
    from citygrid.space.geocoding import invalidate_index

    if Department.objects.filter(code="CITY-COLLAB").exists():
        return False
    invalidate_index()
    load_city("small")
    calendars(io.StringIO())
    catalog(io.StringIO())
    org(io.StringIO(), size="small")
    return True


def verdict(name: str, problems: list[str], counts: dict[str, Any]) -> str:
    figures = ", ".join(f"{k}={v}" for k, v in counts.items())
    head = f"{name}: {'PASS' if not problems else 'FAIL'} ({figures})"
    return "\n".join([head, *(f"  - {p}" for p in problems)])
