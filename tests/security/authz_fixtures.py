"""The world the authorization matrix runs in (tests/security/authz_matrix.py).

Built once per test module and committed, like tests/cases/conftest.py `demo_small`: the small
demo city, calendars, standard and organisation, plus

- one principal per role (the Jinjiang holder of the role where the demo has district holders,
  the city's inspector otherwise; a Jinjiang collaboration coordinator made here), a signed-in
  user without roles and a superuser, each with a signed-in session and an API token;
- for each scope (own: in Jinjiang, held by its sanitation office 510104-HW; other department:
  in Jinjiang, held by its enforcement bureau 510104-ZF; other district: in Qingyang, held by
  510105-HW) a case in every state the operations start from, a collaboration dossier with an
  invitation to that scope's department, a meeting that department attends, and a component;
- a public request (tracking code, Open311 token) with an Open311 API key, an assessment run.

Each matrix test then runs every request in a savepoint that is rolled back, so writes never
leak from one cell into the next.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from tests.cases import conftest as cases_conftest
from tests.security.authz_matrix import (
    OTHER_DEPARTMENT,
    OTHER_DISTRICT,
    OWN,
    PRINCIPAL_USERS,
    SCOPES,
    STATES,
)

PASSWORD = "Authz-matrix-2026!"
ROOT = "authz_root"
NOBODY = "authz_nobody"
COORDINATOR = "coordinator_jinjiang"


@dataclass(frozen=True)
class Place:
    """Where a scope's objects lie and who holds them."""

    district: str
    community: str
    category: str
    department: str  # holds the scope's cases once dispatched
    sibling: str  # another department of the same district (re-dispatch target)
    foreign: str  # a department of another district


PLACES = {
    OWN: Place("510104", "510104001002", "03005", "510104-HW", "510104-SZ", "510105-HW"),
    OTHER_DEPARTMENT: Place("510104", "510104001002", "07001", "510104-ZF", "510104-SZ", "510105-HW"),
    OTHER_DISTRICT: Place("510105", "510105001002", "03005", "510105-HW", "510105-SZ", "510104-HW"),
}


@dataclass
class World:
    users: dict[str, User] = field(default_factory=dict)  # principal → user
    sessions: dict[str, str] = field(default_factory=dict)  # principal → session key
    tokens: dict[str, int] = field(default_factory=dict)  # principal → API token id
    other_token: int = 0  # a token of a Qingyang user
    cases: dict[tuple[str, str], str] = field(default_factory=dict)  # (state, scope) → number
    photos: dict[str, int] = field(default_factory=dict)  # scope → photo id (handling case)
    dossiers: dict[str, int] = field(default_factory=dict)
    invitations: dict[str, int] = field(default_factory=dict)
    meetings: dict[str, int] = field(default_factory=dict)
    versions: dict[tuple[str, str], int] = field(default_factory=dict)
    components: dict[str, str] = field(default_factory=dict)
    department_ids: dict[str, int] = field(default_factory=dict)
    points: dict[str, tuple[float, float]] = field(default_factory=dict)
    district_ids: dict[str, int] = field(default_factory=dict)
    tracking_code: str = ""
    open311_token: str = ""
    open311_request: str = ""
    api_key: str = ""
    service_code: str = ""
    run: int = 0
    grid: str = ""
    standard: int = 0
    category: int = 0
    photo_bytes: bytes = b""

    clients: dict[str, Client] = field(default_factory=dict)

    def client(self, principal: str) -> Client:
        """The principal's client, with only its session cookie (a client loads the middleware
        once: whitenoise scans the static files then, so clients are kept)."""
        from django.conf import settings

        client = self.clients.setdefault(principal, Client(raise_request_exception=False))
        client.cookies.clear()
        if principal in self.sessions:
            client.cookies[settings.SESSION_COOKIE_NAME] = self.sessions[principal]
        return client


def _point(community: str) -> tuple[float, float]:
    from citygrid.space.models import Area, UnitGrid

    area = Area.objects.get(code=community)
    grid = UnitGrid.objects.filter(community=area, valid_to__isnull=True).order_by("code").first()
    assert grid is not None
    p = grid.shape.representative_point()
    return float(p.x), float(p.y)


def _principals(world: World) -> None:
    from citygrid.org import actions as org
    from citygrid.org.models import Department, Role
    from citygrid.space.models import Area

    root = User.objects.create_superuser(ROOT, password=PASSWORD)
    User.objects.create_user(NOBODY, password=PASSWORD)
    person = org.save_person(None, username=COORDINATOR, display_name="锦江区协同协调员",
                             department=Department.objects.get(code="CITY-COLLAB"), password=PASSWORD)
    org.assign_role(None, person, Role.COLLABORATION_COORDINATOR, areas=[Area.objects.get(code="510104")])
    for principal, username in PRINCIPAL_USERS.items():
        if username is not None:
            world.users[principal] = User.objects.get(username=username)
    assert world.users["superuser"] == root


def _sessions(world: World) -> None:
    from django.conf import settings

    from citygrid.accounts.actions import issue_token

    for principal, user in world.users.items():
        client = Client()
        client.force_login(user)
        world.sessions[principal] = client.cookies[settings.SESSION_COOKIE_NAME].value
        world.tokens[principal] = issue_token(user, "authz matrix")[0].pk
    world.other_token = issue_token(User.objects.get(username="dispatcher_qingyang"), "other")[0].pk


Step = Callable[[Any, Any], Any]


def _steps(root: Any, place: Place, photo: bytes) -> dict[str, list[tuple[str, Step]]]:
    """For each state, the actions (as the superuser, in the role the process asks for) that
    bring a freshly reported case there."""
    from citygrid.cases import actions as a

    file_ = ("to_dispatch", lambda c: a.file_case(root, c.pk, role="shift_leader"))
    dispatch = ("dispatched", lambda c: a.dispatch_case(root, c.pk, role="dispatcher",
                                                        department=place.department))
    accept = ("handling", lambda c: a.accept_case(root, c.pk, role="handler"))
    feedback = ("to_check", lambda c: a.feedback_case(root, c.pk, role="handler", after_photo=photo))
    check = ("to_close", lambda c: a.check_case(root, c.pk, role="city_inspector", passed=True))
    handled = [file_, dispatch, accept]
    return {
        "to_file": [],
        "to_dispatch": [file_],
        "dispatched": [file_, dispatch],
        "handling": handled,
        "postponement_requested": [*handled, ("postponement_requested", lambda c: a.request_postponement(
            root, c.pk, role="handler", reason="r", extension="1 working days"))],
        "suspended": [*handled, ("suspended", lambda c: a.suspend_case(root, c.pk, role="shift_leader",
                                                                         reason="r"))],
        "to_check": [*handled, feedback],
        "to_close": [*handled, feedback, check],
        "closed": [*handled, feedback, check,
                   ("closed", lambda c: a.close_case(root, c.pk, role="shift_leader"))],
        "in_collaboration": [file_],
    }


def _cases(world: World) -> None:
    from citygrid.cases import actions as a
    from citygrid.collab import actions as collab

    root = world.users["superuser"]
    for scope in SCOPES:
        place = PLACES[scope]
        lon, lat = world.points[scope]
        steps = _steps(root, place, world.photo_bytes)
        for state in STATES:
            if state == "to_verify":
                case = a.report_case(root, source="hotline", role="intake_operator", kind="event",
                                     category_code=place.category, lon=lon, lat=lat)
            else:
                case = a.report_case(root, source="city_inspector", role="city_inspector", kind="event",
                                     category_code=place.category, lon=lon, lat=lat,
                                     photos=[world.photo_bytes] if state == "handling" else [])
                for reached, step in steps[state]:
                    case = step(case)
                    assert case.state == reached, (scope, state, case.state)
            if state == "in_collaboration":
                dossier = collab.send_case(root, case.pk, reason="whose?", role="dispatcher")
                case.refresh_from_db()
                world.dossiers[scope] = dossier.pk
                world.invitations[scope] = collab.invite_units(
                    root, dossier.pk, departments=[place.department])[0].pk
                world.meetings[scope] = collab.create_meeting(
                    root, title=f"authz {scope}", scheduled_at=timezone.now() + timedelta(days=3),
                    attendees=[place.department]).pk
            assert case.state == state, (scope, state, case.state)
            world.cases[(state, scope)] = case.number
            world.versions[(state, scope)] = case.version
            if state == "handling":
                world.photos[scope] = case.photos.get().pk


def _components(world: World) -> None:
    from citygrid.inventory import actions as inventory
    from citygrid.inventory.nearby import invalidate_index

    header = "code,class,lon,lat,state\n"
    rows = []
    for scope in (OWN, OTHER_DISTRICT):
        code = f"{PLACES[scope].district}01005{len(rows) + 1:06d}"
        lon, lat = world.points[scope]
        rows.append(f"{code},01005,{lon},{lat},intact\n")
        world.components[scope] = code
    world.components[OTHER_DEPARTMENT] = world.components[OWN]
    inventory.import_components(None, (header + "".join(rows)).encode(), "authz.csv")
    invalidate_index()


def _exchange(world: World) -> None:
    from citygrid.exchange import actions as exchange
    from citygrid.exchange.demo import load_services
    from citygrid.exchange.models import PublicService

    load_services(io.StringIO())
    world.api_key = exchange.issue_api_key(None, name="authz client", contact="authz")[1]
    service = PublicService.objects.get(service_code="E06042")  # no required attributes
    world.service_code = service.service_code
    lon, lat = world.points[OWN]
    row = exchange.submit_public_request(service=service, lon=lon, lat=lat, channel="web",
                                         description="authz matrix")
    world.tracking_code, world.open311_token = row.tracking_code, row.token
    world.open311_request = row.case.number


def _references(world: World) -> None:
    from citygrid.catalog.selectors import active_standard
    from citygrid.org.models import Department
    from citygrid.space.geocoding import locate

    standard = active_standard()
    assert standard is not None
    world.standard = standard.pk
    world.category = standard.categories.get(kind="event", code=PLACES[OWN].category).pk
    world.grid = locate(*world.points[OWN]).grid_code
    for scope, place in PLACES.items():
        world.department_ids[scope] = Department.objects.get(code=place.department).pk


def _assessment(world: World) -> None:
    from citygrid.assess.models import AssessmentRun
    from citygrid.space.models import Area

    today = timezone.localdate()
    world.run = AssessmentRun.objects.create(period_kind="month", period_start=today.replace(day=1),
                                             period_end=today).pk
    for scope, place in PLACES.items():
        world.district_ids[scope] = Area.objects.get(code=place.district).pk


def build_world() -> World:
    """Loads the demo (see tests/cases/conftest.py) and everything above; committed."""
    cases_conftest._load()
    world = World(photo_bytes=cases_conftest.png())
    _principals(world)
    world.points = {scope: _point(place.community) for scope, place in PLACES.items()}
    _references(world)
    _sessions(world)
    _cases(world)
    _components(world)
    _exchange(world)
    _assessment(world)
    return world
