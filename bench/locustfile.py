"""Locust scenario of the load benchmark (issue 10, item 3); driven by bench/load.py, which
prepares the database, the server and a fixtures file, and reads the raw timings back.

Users (classes, by weight; the two fixed ones always run):
- InspectorUser (token, the mobile app): reports with a photo (multipart), reads cases.
- DeskUser (session, the centre's pages): dispatcher / handler / intake operator / shift leader
  queue pages, case detail pages, the desk's live-update poll.
- MobileHandlerUser (token): the handler's task list and case details through the API.
- MapUser (session): map viewports (boundaries at zoom 11/13/14/16, each with its parent
  level's outlines, as map.js asks) and the live case map at zoom 11/13/15/17.
- ScreenUser (session, 2 fixed): the big screen's figures and its city-wide open-case map.
- BaselineUser (token, 2 fixed): the bare authenticated request `GET /api/v1/auth/tokens`
  and `GET /healthz`, under the same load.

Environment: CG_LOAD_FIXTURES (JSON written by load.py), CG_LOAD_RAW (one line per request:
name, start time, milliseconds, status, ok), CG_LOAD_WAIT ("min,max" think time in seconds).
"""

from __future__ import annotations

import json
import os
import random
import sys
import uuid
from pathlib import Path
from typing import Any

from locust import between, events, task
from locust.contrib.fasthttp import FastHttpUser

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import viewport  # noqa: E402  (bench/load.py: the same viewports in its profile)

FIXTURES: dict[str, Any] = json.loads(Path(os.environ["CG_LOAD_FIXTURES"]).read_text("utf-8"))
PHOTO = Path(FIXTURES["photo"]).read_bytes()
WAIT = tuple(float(x) for x in os.environ.get("CG_LOAD_WAIT", "1,3").split(","))
_RAW = open(os.environ["CG_LOAD_RAW"], "w", encoding="utf-8", buffering=1 << 16)  # noqa: SIM115


@events.request.add_listener
def _record(request_type: str, name: str, response_time: float, response: Any = None,
            exception: Any = None, start_time: float | None = None, **_: Any) -> None:
    status = getattr(response, "status_code", 0) or 0
    _RAW.write(f"{name}\t{start_time or 0:.4f}\t{response_time:.3f}\t{status}\t"
               f"{0 if exception else 1}\n")


@events.quitting.add_listener
def _close(**_: Any) -> None:
    _RAW.flush()


def _check(response: Any, expected: tuple[int, ...] = (200,)) -> None:
    """Marks anything but the expected status as a failure (redirects too: a redirect to the
    sign-in page would otherwise pass as a 200)."""
    if response.status_code not in expected:
        response.failure(f"HTTP {response.status_code}: {response.text[:200] if response.text else ''}")
    else:
        response.success()


def _get(user: FastHttpUser, url: str, name: str, headers: dict[str, str] | None = None,
         expected: tuple[int, ...] = (200,)) -> None:
    with user.client.get(url, name=name, headers=headers or {}, allow_redirects=False,
                         catch_response=True) as response:
        _check(response, expected)


class _User(FastHttpUser):
    abstract = True
    wait_time = between(*WAIT)
    connection_timeout = 30.0
    network_timeout = 60.0


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def _cookie(session: dict[str, Any]) -> dict[str, str]:
    return {"Cookie": f"sessionid={session['cookie']}"}


# ---------------------------------------------------------------- inspectors (mobile API)
def _multipart(fields: dict[str, Any], photo: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for key, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                     f"{value}\r\n".encode())
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
                 f'filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'.encode() + photo + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class InspectorUser(_User):
    weight = 3

    def on_start(self) -> None:
        self.me = random.choice(FIXTURES["inspectors"])

    @task(1)
    def report_with_photo(self) -> None:
        body = random.choice(self.me["reports"])
        fields = {**body, "idempotency_key": uuid.uuid4().hex}
        data, content_type = _multipart(fields, PHOTO)
        headers = {**_bearer(self.me["token"]), "Content-Type": content_type}
        with self.client.post("/api/v1/cases/with-photos", data=data, headers=headers,
                              name="W inspector report with photo (API)", catch_response=True) as r:
            _check(r, (201,))

    @task(2)
    def case_detail(self) -> None:
        number = random.choice(self.me["cases"])
        _get(self, f"/api/v1/cases/{number}", "R case detail (API)", _bearer(self.me["token"]))

    @task(1)
    def case_events(self) -> None:
        number = random.choice(self.me["cases"])
        _get(self, f"/api/v1/cases/{number}/events", "R case events (API)", _bearer(self.me["token"]))


# ---------------------------------------------------------------- the centre's desk (pages)
class DeskUser(_User):
    weight = 4

    def on_start(self) -> None:
        self.me = random.choice(FIXTURES["desk"])

    @task(3)
    def queue_page(self) -> None:
        _get(self, f"/cases/?role={self.me['role']}", f"R queue page ({self.me['role']})",
             _cookie(self.me))

    @task(1)
    def queue_page_2(self) -> None:
        _get(self, f"/cases/?role={self.me['role']}&page=2", f"R queue page ({self.me['role']})",
             _cookie(self.me))

    @task(3)
    def case_page(self) -> None:
        number = random.choice(self.me["cases"])
        _get(self, f"/cases/{number}/", "R case detail page", _cookie(self.me))

    @task(3)
    def live_token(self) -> None:
        _get(self, f"/live/token.json?role={self.me['role']}", "R desk live-update poll",
             _cookie(self.me))


class MobileHandlerUser(_User):
    weight = 1

    def on_start(self) -> None:
        self.me = random.choice(FIXTURES["mobile_handlers"])

    @task(1)
    def task_list(self) -> None:
        _get(self, "/api/v1/queues/handler?limit=20", "R handler queue (API)", _bearer(self.me["token"]))

    @task(1)
    def case_detail(self) -> None:
        number = random.choice(self.me["cases"])
        _get(self, f"/api/v1/cases/{number}", "R case detail (API)", _bearer(self.me["token"]))


# ---------------------------------------------------------------- maps
MAP_LEVELS = ((11, "district", None), (13, "street", "district"), (14, "community", "street"),
              (16, "grid", "community"))
LIVE_ZOOMS = (11, 13, 15, 17)


class MapUser(_User):
    weight = 2

    def on_start(self) -> None:
        self.me = random.choice(FIXTURES["map"])

    def _centre(self) -> tuple[float, float]:
        lon, lat = random.choice(FIXTURES["centres"])
        return float(lon), float(lat)

    @task(2)
    def boundaries(self) -> None:
        zoom, level, parent = random.choice(MAP_LEVELS)
        lon, lat = self._centre()
        if zoom == 11:
            lon, lat = FIXTURES["city_centre"]
        box = viewport(lon, lat, zoom, pad=0.25)
        for name in (level, parent):
            if name:
                _get(self, f"/api/v1/features?level={name}&bbox={box}",
                     f"R map boundaries z{zoom} ({name})", _cookie(self.me))

    @task(3)
    def live_cases(self) -> None:
        zoom = random.choice(LIVE_ZOOMS)
        lon, lat = self._centre() if zoom > 11 else FIXTURES["city_centre"]
        query = random.choice(("", "&period=30d", "&open=1", "&heat=1&period=90d"))
        _get(self, f"/live/cases.json?bbox={viewport(lon, lat, zoom)}&zoom={zoom}{query}",
             f"R live case map z{zoom}", _cookie(self.me))


class ScreenUser(_User):
    fixed_count = 2

    def on_start(self) -> None:
        self.me = FIXTURES["screen"]

    @task(1)
    def figures(self) -> None:
        _get(self, "/screen/data.json", "R big screen figures", _cookie(self.me))

    @task(1)
    def open_cases_map(self) -> None:
        lon, lat = FIXTURES["city_centre"]
        _get(self, f"/live/cases.json?open=1&bbox={viewport(lon, lat, 11)}&zoom=11",
             "R big screen case map", _cookie(self.me))


# ---------------------------------------------------------------- baseline
class BaselineUser(_User):
    fixed_count = 2

    @task(1)
    def tokens(self) -> None:
        _get(self, "/api/v1/auth/tokens", "B bare authenticated request (API)",
             _bearer(FIXTURES["baseline_token"]))

    @task(1)
    def health(self) -> None:
        _get(self, "/healthz", "B /healthz (SELECT 1, no auth)")
