"""The authorization matrix: every route of the project (pages, Open311, the admin as one row,
and every django-ninja operation under /api/v1/) × every role × the scope of the object it
touches → the expected answer. tests/security/test_authz_matrix.py checks that this table names
every route (and nothing that is gone) and makes every request it declares.

How to read a row. `api(...)` and `page(...)` declare one method on one route:

- `ok`: the answer to those who may (OK = any 2xx; DONE = a redirect with a success message).
- `allowed`: the roles that may; None = every signed-in principal (the superuser always may).
- `deny`: the answer to a signed-in principal outside `allowed` (default 403).
- `sees` + `hidden`: the object the request names (a case in a state, a dossier, …) and the
  answer to a principal who may not see it, whatever their role (default 404: a number outside
  one's scope is not confirmed by a 403). Visibility is declared once, in the tables below.
- `anon`: the answer without credentials (API 401, pages a redirect to the login page).
- `scopes`: for a row that names an object, the scopes it is tried in: own (Jinjiang, held by
  Jinjiang's sanitation office 510104-HW: the handler's department), another department
  (Jinjiang, held by its enforcement bureau 510104-ZF) or another district (Qingyang).
- `lists`: for a list, which scopes' objects must (and must not) appear in it.
- `role_first`: the role is checked before the scope (default: the scope first).
- `answer_in`: where a 200 answer carries the real one (a batch: its first item's status).
- `uniform`: public, one answer for everyone: tried as UNIFORM_SAMPLE only (time).
- `exceptions`: {(principal, scope or ANY): answer} where a cell differs from the rule.

Principals are the Jinjiang holders of each role (district scope), the city's inspector (the
role exists only at city level in the demo, so "another district" is inside its scope), a
Jinjiang collaboration coordinator, a signed-in user without roles, the superuser, anonymous.
Placeholders in paths and bodies ({number:to_file}, {dept}, …) are filled per principal and
scope by the test (see `Context` in test_authz_matrix.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# --- Principals, scopes, answers -------------------------------------------------------------

ANONYMOUS = "anonymous"
NO_ROLE = "no_role"
CITY_INSPECTOR = "city_inspector"
DISTRICT_INSPECTOR = "district_inspector"
INTAKE_OPERATOR = "intake_operator"
SHIFT_LEADER = "shift_leader"
DISPATCHER = "dispatcher"
HANDLER = "handler"
DEPARTMENT_HEAD = "department_head"
COORDINATOR = "collaboration_coordinator"
STREET_STAFF = "street_staff"
LEADER = "leader"
ADMINISTRATOR = "administrator"
SUPERUSER = "superuser"

# principal → demo username (tests/security/authz_fixtures.py makes the three not in the demo)
PRINCIPAL_USERS: dict[str, str | None] = {
    ANONYMOUS: None,
    NO_ROLE: "authz_nobody",
    CITY_INSPECTOR: "city_inspector_1",
    DISTRICT_INSPECTOR: "district_inspector_jinjiang",
    INTAKE_OPERATOR: "intake_operator_jinjiang",
    SHIFT_LEADER: "shift_leader_jinjiang",
    DISPATCHER: "dispatcher_jinjiang",
    HANDLER: "handler_jinjiang_hw",
    DEPARTMENT_HEAD: "department_head_jinjiang",
    COORDINATOR: "coordinator_jinjiang",
    STREET_STAFF: "street_staff_jinjiang",
    LEADER: "leader_jinjiang",
    ADMINISTRATOR: "administrator_jinjiang",
    SUPERUSER: "authz_root",
}
PRINCIPALS = tuple(PRINCIPAL_USERS)
UNIFORM_SAMPLE = (ANONYMOUS, NO_ROLE, HANDLER, SUPERUSER)
ROLES = frozenset(PRINCIPALS) - {ANONYMOUS, NO_ROLE, SUPERUSER}
# Roles with the admin site (citygrid/org/actions.py STAFF_ROLES).
STAFF = frozenset({ADMINISTRATOR, DISPATCHER, SHIFT_LEADER, COORDINATOR, DEPARTMENT_HEAD, LEADER})

OWN = "own"
OTHER_DEPARTMENT = "other_department"
OTHER_DISTRICT = "other_district"
SCOPES = (OWN, OTHER_DEPARTMENT, OTHER_DISTRICT)
ALL = frozenset(SCOPES)
NONE: frozenset[str] = frozenset()
JINJIANG = frozenset({OWN, OTHER_DEPARTMENT})
ANY = "*"  # any scope, in exceptions

OK = "2xx"
DONE = "done"  # 302 with a success message
REFUSED = "refused"  # 302 with an error message
REDIRECT = "redirect"  # 302 without a message (not to the login page)
LOGIN = "login"  # 302 to a login page
Answer = int | str

# The states the fixtures bring a case of each scope to.
STATES = ("to_verify", "to_file", "to_dispatch", "dispatched", "handling", "postponement_requested",
          "suspended", "to_check", "to_close", "closed", "in_collaboration")

# --- Who sees what ---------------------------------------------------------------------------

# Areas a principal's roles cover (cases lying there, reports made there, the assessment).
AREA_SCOPE: dict[str, frozenset[str]] = {
    ANONYMOUS: NONE, NO_ROLE: NONE, SUPERUSER: ALL, CITY_INSPECTOR: ALL,
    **{role: JINJIANG for role in (DISTRICT_INSPECTOR, INTAKE_OPERATOR, SHIFT_LEADER, DISPATCHER,
                                   COORDINATOR, STREET_STAFF, LEADER, ADMINISTRATOR)},
    # department roles: their department's territory (Jinjiang) counts for the assessment only
    HANDLER: NONE, DEPARTMENT_HEAD: NONE,
}
# Department roles see the cases their department (or one below it) holds: 510104-HW's.
DEPARTMENT_SCOPE: dict[str, frozenset[str]] = {HANDLER: frozenset({OWN}),
                                               DEPARTMENT_HEAD: frozenset({OWN})}
# While the command centre or the collaboration platform holds a case, no department does.
CENTRE_STATES = frozenset({"to_verify", "to_file", "to_dispatch", "in_collaboration"})


def sees_case(principal: str, state: str) -> frozenset[str]:
    """The scopes whose case in `state` the principal sees (citygrid/cases/selectors.py)."""
    held = NONE if state in CENTRE_STATES else DEPARTMENT_SCOPE.get(principal, NONE)
    return AREA_SCOPE[principal] | held


# The collaboration platform: a coordinator sees the dossiers of cases in their areas; a unit
# sees what it was invited to (own: 510104-HW, under the department head's 510104-CGJ).
SEES_DOSSIER: dict[str, frozenset[str]] = {SUPERUSER: ALL, COORDINATOR: JINJIANG, HANDLER: frozenset({OWN}),
                                           DEPARTMENT_HEAD: frozenset({OWN})}
# The coordinator's desk lists the dossiers of the coordinator's areas only.
SEES_DESK: dict[str, frozenset[str]] = {SUPERUSER: ALL, COORDINATOR: JINJIANG}
SEES_INVITATION: dict[str, frozenset[str]] = {SUPERUSER: ALL, HANDLER: frozenset({OWN}),
                                              DEPARTMENT_HEAD: frozenset({OWN})}
# Meetings are the city platform's: every coordinator sees all; a unit those it attends.
SEES_MEETING: dict[str, frozenset[str]] = {SUPERUSER: ALL, COORDINATOR: ALL, HANDLER: frozenset({OWN}),
                                           DEPARTMENT_HEAD: frozenset({OWN})}
# The assessment: a district user sees its districts; a street user and a user without an area
# none (403 assessment_not_visible); the city all.
SEES_ASSESSMENT: dict[str, frozenset[str]] = {
    **AREA_SCOPE, HANDLER: JINJIANG, DEPARTMENT_HEAD: JINJIANG, STREET_STAFF: NONE}
# Only the superuser covers a scope here (API tokens: one's own; another user's is never found).
OWNER_ONLY: dict[str, frozenset[str]] = {p: frozenset({OWN}) for p in PRINCIPALS}

VISIBILITY: dict[str, Any] = {
    "dossier": SEES_DOSSIER, "desk": SEES_DESK, "invitation": SEES_INVITATION, "meeting": SEES_MEETING,
    "assessment": SEES_ASSESSMENT, "area": AREA_SCOPE, "owner": OWNER_ONLY,
}


def visible(sees: str, principal: str) -> frozenset[str]:
    if sees.startswith("case:"):
        return sees_case(principal, sees.split(":", 1)[1])
    return frozenset(VISIBILITY[sees].get(principal, NONE))


# --- Rows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # Django: the resolver's pattern; API: "api/v1" + the ninja path
    path: str  # the request's path (with placeholders)
    api: bool
    ok: Answer = OK
    allowed: frozenset[str] | None = None
    deny: Answer = 403
    anon: Answer | None = None
    sees: str | None = None
    hidden: Answer = 404
    scopes: tuple[str, ...] = ()
    body: dict[str, Any] | None = None
    encoding: str = "json"  # json | form (multipart)
    lists: str | None = None  # whose objects a list shows: a `sees` value
    role_first: bool = False
    answer_in: str | None = None
    uniform: bool = False
    label: str = ""  # tells apart rows that make the same request with other bodies
    exceptions: dict[tuple[str, str], Answer] = field(default_factory=dict)
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.method} {self.route}"

    @property
    def id(self) -> str:
        name = f"{self.method} {self.path}".replace("{", "").replace("}", "")
        return f"{name} [{self.label}]" if self.label else name

    def expected(self, principal: str, scope: str | None) -> Answer:
        for key in ((principal, scope or ANY), (principal, ANY)):
            if key in self.exceptions:
                return self.exceptions[key]
        if principal == ANONYMOUS and self.anon is not None:
            return self.anon
        may = principal == SUPERUSER or self.allowed is None or principal in self.allowed
        if self.role_first and not may:
            return self.deny
        if self.sees is not None and scope is not None and scope not in visible(self.sees, principal):
            return self.hidden
        return self.ok if may else self.deny

    @property
    def principals(self) -> tuple[str, ...]:
        return UNIFORM_SAMPLE if self.uniform else PRINCIPALS


def api(method: str, route: str, *, path: str | None = None, public: bool = False, **kw: Any) -> Row:
    """An operation under /api/v1/ (route as ninja writes it)."""
    anon = kw.pop("anon", None if public else 401)
    return Row(method, "api/v1" + route, "/api/v1" + (path or route), True, anon=anon, **kw)


def page(method: str, route: str, *, path: str | None = None, public: bool = False, **kw: Any) -> Row:
    """A Django URL pattern (route as the resolver writes it; regex routes normalised, see
    test_authz_matrix.route_key)."""
    anon = kw.pop("anon", None if public else LOGIN)
    return Row(method, route, path or "/" + route, False, anon=anon, **kw)


def roles(*names: str) -> frozenset[str]:
    return frozenset(names)


def case_op(name: str, state: str, allowed: frozenset[str], body: dict[str, Any] | None = None,
            **kw: Any) -> Row:
    """POST /api/v1/cases/{number}/<name>: who may take the operation, in its process, on a
    case they see (citygrid/cases/domain/processes.py states the same independently)."""
    return api("POST", f"/cases/{{number}}/{name}", path=f"/cases/{{number:{state}}}/{name}",
               allowed=allowed, sees=f"case:{state}", scopes=SCOPES, body=body or {}, **kw)


INSPECTORS = roles(CITY_INSPECTOR, DISTRICT_INSPECTOR)
FILERS = roles(SHIFT_LEADER, INTAKE_OPERATOR)
DEPARTMENT = roles(HANDLER, DEPARTMENT_HEAD)
APPROVERS = roles(DISPATCHER, SHIFT_LEADER)
REPORTERS = roles(CITY_INSPECTOR, DISTRICT_INSPECTOR, STREET_STAFF, INTAKE_OPERATOR, SHIFT_LEADER, LEADER)
# The source each principal reports from (a role without one tries the city inspectors').
REPORT_SOURCE = {CITY_INSPECTOR: "city_inspector", DISTRICT_INSPECTOR: "district_inspector",
                 STREET_STAFF: "street_staff", INTAKE_OPERATOR: "hotline", SHIFT_LEADER: "hotline",
                 LEADER: "leader"}
REPORT = {"source": "{source}", "kind": "event", "category_code": "03005", "lon": "{lon}", "lat": "{lat}"}
DAY = "day={day}"
EVERYONE = {"ok": OK, "public": True, "uniform": True}

# --- The API (/api/v1/) ----------------------------------------------------------------------

API_ROWS = [
    # Space, geocoding, calendars, classes: public reads (no personal data).
    api("GET", "/areas/{code}", path="/areas/510104", **EVERYONE),
    api("GET", "/grids/{code}", path="/grids/{grid}", **EVERYONE),
    api("GET", "/features", path="/features?level=district&bbox={bbox}", **EVERYONE),
    api("GET", "/geocode", path="/geocode?lon={lon}&lat={lat}", scopes=(OWN,), **EVERYONE),
    api("POST", "/geocode/batch", body={"points": [["{lon}", "{lat}"]]}, scopes=(OWN,), **EVERYONE),
    api("GET", "/calendars/deadline",
        path="/calendars/deadline?start=2026-03-02T09:00&limit=2%20working%20days", **EVERYONE),
    api("GET", "/catalog/standards", **EVERYONE),
    api("GET", "/catalog/standards/active", **EVERYONE),
    api("GET", "/catalog/standards/{standard_id}", path="/catalog/standards/{standard}", **EVERYONE),
    api("GET", "/catalog/standards/{standard_id}/categories",
        path="/catalog/standards/{standard}/categories", **EVERYONE),
    api("GET", "/catalog/categories/{category_id}", path="/catalog/categories/{category}", **EVERYONE),
    api("GET", "/catalog/standards/{standard_id}/step-limits",
        path="/catalog/standards/{standard}/step-limits", **EVERYONE),
    # Organisation and inventory: signed-in reads (lists scoped by the selectors).
    api("GET", "/departments"),
    api("GET", "/people"),
    api("GET", "/rules"),
    api("GET", "/route", path="/route?class=03005&kind=event&lon={lon}&lat={lat}", scopes=(OWN,)),
    api("GET", "/components/near", path="/components/near?lon={lon}&lat={lat}", scopes=(OWN,)),
    api("GET", "/components/features", path="/components/features?bbox={bbox}"),
    api("GET", "/components/survey-flags"),
    api("GET", "/components/{code}", path="/components/{component}", scopes=(OWN, OTHER_DISTRICT),
        note="the register is city-wide reference data"),
    # API tokens.
    api("POST", "/auth/token", body={"username": "authz_nobody", "password": "{password}",
                                     "device": "matrix"}, public=True,
        note="credentials in the body: the session plays no part"),
    api("GET", "/auth/tokens"),
    api("DELETE", "/auth/tokens/{token_id}", path="/auth/tokens/{token}", sees="owner",
        scopes=(OWN, OTHER_DISTRICT), note="own: my token; other: a Qingyang user's"),
    # Cases: report, read.
    api("POST", "/cases", body=REPORT, allowed=REPORTERS, sees="area", hidden=403,
        scopes=(OWN, OTHER_DISTRICT)),
    api("POST", "/cases/batch", body={"reports": [REPORT]}, answer_in="results.0.status",
        allowed=REPORTERS, sees="area", hidden=403, scopes=(OWN, OTHER_DISTRICT),
        note="200 for the batch; each report's own answer in its result"),
    api("POST", "/cases/with-photos", body={**REPORT, "photos": "@photo"}, encoding="form",
        allowed=REPORTERS, sees="area", hidden=403, scopes=(OWN, OTHER_DISTRICT)),
    api("GET", "/cases", path="/cases?limit=200&state=handling", lists="case:handling"),
    api("GET", "/queues/{role}", path="/queues/dispatcher", allowed=roles(DISPATCHER)),
    api("GET", "/cases/{number}", path="/cases/{number:handling}", sees="case:handling", scopes=SCOPES),
    api("GET", "/cases/{number}/events", path="/cases/{number:handling}/events", sees="case:handling",
        scopes=SCOPES),
    api("GET", "/cases/{number}/photos/{photo_id}", path="/cases/{number:handling}/photos/{photo}",
        sees="case:handling", scopes=SCOPES),
    # Cases: every operation. Allowed roles act on a case they see; others 403; unseen 404.
    case_op("verify", "to_verify", INSPECTORS),
    case_op("file", "to_file", FILERS),
    case_op("reject", "to_file", FILERS, {"reason": "r"}),
    case_op("merge", "to_file", roles(INTAKE_OPERATOR, SHIFT_LEADER, DISPATCHER),
            {"duplicate_of": "{number:to_dispatch}"}),
    case_op("dispatch", "to_dispatch", roles(DISPATCHER), {"department": "{dept}"}),
    case_op("dispatch", "to_dispatch", NONE, {"department": "{foreign}"}, label="to another district",
            note="only to departments the dispatcher sees, as the page's choices"),
    case_op("return", "dispatched", DEPARTMENT, {"reason": "r"}),
    case_op("redispatch", "dispatched", roles(DISPATCHER, COORDINATOR),
            {"department": "{sibling}", "reason": "r"}),
    case_op("redispatch", "dispatched", NONE, {"department": "{foreign}", "reason": "r"},
            label="to another district"),
    case_op("accept", "dispatched", DEPARTMENT),
    case_op("request-postponement", "handling", DEPARTMENT, {"reason": "r", "extension": "1 working days"}),
    case_op("approve-postponement", "postponement_requested", APPROVERS),
    case_op("refuse-postponement", "postponement_requested", APPROVERS, {"reason": "r"}),
    case_op("suspend", "handling", roles(SHIFT_LEADER), {"reason": "r"}),
    case_op("resume", "suspended", roles(SHIFT_LEADER)),
    case_op("close", "to_close", roles(SHIFT_LEADER)),
    case_op("void", "handling", roles(SHIFT_LEADER), {"reason": "r"}),
    case_op("urge", "handling", roles(DISPATCHER, SHIFT_LEADER, LEADER)),
    case_op("supervise", "handling", roles(SHIFT_LEADER, LEADER), {"reason": "r"}),
    case_op("reopen", "closed", roles(SHIFT_LEADER), {"reason": "r"}),
    case_op("feedback", "handling", DEPARTMENT, {"after_photo": "@photo"}, encoding="form"),
    case_op("check", "to_check", INSPECTORS, {"passed": "true"}, encoding="form"),
    # Assessment: a district sees its own districts' figures, the city all; runs are the city's.
    api("GET", "/assessment/table", path="/assessment/table?kind=district&district={district}&" + DAY,
        sees="assessment", hidden=403, scopes=(OWN, OTHER_DISTRICT)),
    api("GET", "/assessment/table.xlsx", path="/assessment/table.xlsx?district={district}&" + DAY,
        sees="assessment", hidden=403, scopes=(OWN, OTHER_DISTRICT)),
    api("GET", "/assessment/cases",
        path="/assessment/cases?district={district}&subject={district_id}&figure=filed&" + DAY,
        sees="assessment", hidden=403, scopes=(OWN, OTHER_DISTRICT)),
    api("GET", "/assessment/hotspots", path="/assessment/hotspots?district={district}&" + DAY,
        sees="assessment", hidden=403, scopes=(OWN, OTHER_DISTRICT)),
    api("GET", "/assessment/hotspots/cases",
        path="/assessment/hotspots/cases?district={district}&code={community}&" + DAY,
        sees="assessment", hidden=403, scopes=(OWN, OTHER_DISTRICT)),
    api("POST", "/assessment/runs", body={"period": "month", "day": "{day}"}, allowed=NONE,
        note="the city centre's administrators, leaders and shift leaders; no Jinjiang principal"),
    api("GET", "/assessment/runs/{run_id}", path="/assessment/runs/{run}", allowed=roles(CITY_INSPECTOR),
        note="city scope"),
    # Collaboration platform.
    api("GET", "/collab/dossiers", lists="desk"),
    api("GET", "/collab/dossiers/{dossier_id}", path="/collab/dossiers/{dossier}", sees="dossier",
        scopes=SCOPES),
    api("POST", "/collab/cases/{case}/send", path="/collab/cases/{number:dispatched}/send",
        body={"reason": "r"}, allowed=roles(DISPATCHER, COORDINATOR), sees="case:dispatched",
        scopes=SCOPES),
    api("POST", "/collab/cases/{case}/not-ours", path="/collab/cases/{number:dispatched}/not-ours",
        body={"reason": "r"}, allowed=DEPARTMENT, sees="case:dispatched", scopes=SCOPES),
    api("POST", "/collab/dossiers/{dossier_id}/invitations", path="/collab/dossiers/{dossier}/invitations",
        body={"departments": ["{sibling}"]}, allowed=roles(COORDINATOR), sees="area", hidden=403,
        scopes=SCOPES),
    api("POST", "/collab/dossiers/{dossier_id}/invitations", path="/collab/dossiers/{dossier}/invitations",
        body={"departments": ["{foreign}"]}, allowed=NONE, sees="area", hidden=403, scopes=SCOPES,
        label="another district's unit"),
    api("GET", "/collab/inbox", lists="invitation"),
    api("POST", "/collab/invitations/{invitation_id}/answer", path="/collab/invitations/{invitation}/answer",
        body={"answer": "accept"}, sees="invitation", scopes=SCOPES),
    api("POST", "/collab/dossiers/{dossier_id}/decision", path="/collab/dossiers/{dossier}/decision",
        body={"owner": "{dept}", "reasoning": "r"}, allowed=roles(COORDINATOR), sees="area",
        hidden=403, scopes=SCOPES),
    api("POST", "/collab/dossiers/{dossier_id}/decision", path="/collab/dossiers/{dossier}/decision",
        body={"owner": "{foreign}", "reasoning": "r"}, allowed=NONE, sees="area", hidden=403,
        scopes=SCOPES, label="another district's unit"),
    api("POST", "/collab/dossiers/{dossier_id}/decision", path="/collab/dossiers/{dossier}/decision",
        body={"owner": "{dept}", "reasoning": "r", "make_rule": True, "rule_area": "city"},
        allowed=NONE, sees="area", hidden=403, scopes=SCOPES, label="a rule for the whole city",
        note="a city-wide rule needs a coordinator of the whole city"),
    api("POST", "/collab/dossiers/{dossier_id}/comments", path="/collab/dossiers/{dossier}/comments",
        body={"text": "t"}, sees="dossier", scopes=SCOPES),
    api("POST", "/collab/dossiers/{dossier_id}/visits", path="/collab/dossiers/{dossier}/visits",
        body={"text": "t"}, encoding="form", allowed=roles(COORDINATOR), sees="area", hidden=403,
        scopes=SCOPES),
    api("GET", "/collab/meetings", lists="meeting"),
    api("POST", "/collab/meetings", body={"title": "t", "scheduled_at": "{future}"},
        allowed=roles(COORDINATOR)),
    api("GET", "/collab/meetings/{meeting_id}", path="/collab/meetings/{meeting}", sees="meeting",
        scopes=SCOPES),
    api("POST", "/collab/meetings/{meeting_id}/agenda", path="/collab/meetings/{meeting}/agenda",
        body={"dossier": "{dossier}"}, allowed=roles(COORDINATOR), sees="area", hidden=403,
        scopes=SCOPES),
    api("POST", "/collab/meetings/{meeting_id}/held", path="/collab/meetings/{meeting}/held",
        body={"minutes": "m"}, allowed=roles(COORDINATOR), scopes=SCOPES,
        note="meetings are the city platform's: any coordinator records one"),
    api("POST", "/collab/presence"),
    api("GET", "/collab/duty", path="/collab/duty?start={day}&end={day}", allowed=roles(COORDINATOR, LEADER)),
]

# --- Pages -----------------------------------------------------------------------------------

PAGE_OPERATION = {"expected_version": "{version}", "role": ""}

PAGE_ROWS = [
    page("GET", "healthz", **EVERYONE),
    page("POST", "i18n/setlang/", body={"language": "en", "next": "/"}, ok=REDIRECT, public=True),
    # Django's sign-in pages.
    page("GET", "accounts/login/", **EVERYONE),
    page("GET", "accounts/logout/", ok=405, public=True),
    page("POST", "accounts/logout/", body={}, ok=REDIRECT, public=True),
    page("GET", "accounts/password_change/"),
    page("GET", "accounts/password_change/done/"),
    page("GET", "accounts/password_reset/", **EVERYONE),
    page("GET", "accounts/password_reset/done/", **EVERYONE),
    page("GET", "accounts/reset/<uidb64>/<token>/", path="/accounts/reset/MQ/set-password/", **EVERYONE),
    page("GET", "accounts/reset/done/", **EVERYONE),
    # The case desk.
    page("GET", "cases/", path="/cases/?role=all&state=handling", lists="case:handling"),
    page("GET", "cases/new/"),
    page("POST", "cases/new/", body={**REPORT, "urgency": "ordinary", "idempotency_key": "{nonce}"},
         ok=DONE, allowed=REPORTERS, deny=422, sees="area", hidden=403, scopes=(OWN, OTHER_DISTRICT),
         encoding="form", role_first=True, note="a source the user may not report from is not among the form's choices"),
    page("GET", "cases/photos/<int:pk>/", path="/cases/photos/{photo}/", sees="case:handling", scopes=SCOPES),
    page("GET", "cases/<str:number>/", path="/cases/{number:handling}/", sees="case:handling", scopes=SCOPES),
    page("GET", "cases/<str:number>/do/<str:operation>/", path="/cases/{number:to_file}/do/file/", ok=405),
    page("POST", "cases/<str:number>/do/<str:operation>/", path="/cases/{number:to_file}/do/file/",
         body={"file-" + k: v for k, v in PAGE_OPERATION.items()}, ok=DONE, allowed=FILERS,
         sees="case:to_file", scopes=SCOPES, encoding="form"),
    page("POST", "cases/<str:number>/do/<str:operation>/", path="/cases/{number:to_dispatch}/do/dispatch/",
         body={"dispatch-department": "{dept_id}", **{"dispatch-" + k: v for k, v in PAGE_OPERATION.items()}},
         ok=DONE, allowed=roles(DISPATCHER), sees="case:to_dispatch", scopes=SCOPES, encoding="form"),
    page("POST", "cases/<str:number>/do/<str:operation>/", path="/cases/{number:dispatched}/do/accept/",
         body={"accept-" + k: v for k, v in PAGE_OPERATION.items()}, ok=DONE, allowed=DEPARTMENT,
         sees="case:dispatched", scopes=SCOPES, encoding="form"),
    page("POST", "cases/<str:number>/do/<str:operation>/",
         path="/cases/{number:dispatched}/do/return_not_ours/",
         body={"return_not_ours-reason": "r", **{"return_not_ours-" + k: v for k, v in PAGE_OPERATION.items()}},
         ok=DONE, allowed=DEPARTMENT, sees="case:dispatched", scopes=SCOPES, encoding="form"),
    page("POST", "cases/<str:number>/do/<str:operation>/", path="/cases/{number:to_close}/do/close/",
         body={"close-" + k: v for k, v in PAGE_OPERATION.items()}, ok=DONE, allowed=roles(SHIFT_LEADER),
         sees="case:to_close", scopes=SCOPES, encoding="form"),
    # Assessment pages.
    page("GET", "assess/", path="/assess/?" + DAY, sees="assessment", hidden=403, scopes=(OWN,)),
    page("GET", "assess/report/", path="/assess/report/?" + DAY, sees="assessment", hidden=403,
         scopes=(OWN,)),
    # Collaboration platform pages.
    page("GET", "collab/", allowed=roles(COORDINATOR), deny=REDIRECT, note="others go to their inbox"),
    page("GET", "collab/inbox/"),
    page("POST", "collab/presence/", body={}),
    page("GET", "collab/dossiers/<int:pk>/", path="/collab/dossiers/{dossier}/", sees="dossier", scopes=SCOPES),
    page("POST", "collab/dossiers/<int:pk>/<str:what>/", path="/collab/dossiers/{dossier}/comment/",
         body={"text": "t"}, ok=DONE, sees="dossier", hidden=REFUSED, scopes=SCOPES, encoding="form"),
    page("POST", "collab/invitations/<int:pk>/answer/", path="/collab/invitations/{invitation}/answer/",
         body={"answer": "accept"}, ok=DONE, sees="invitation", hidden=REFUSED, scopes=SCOPES,
         encoding="form"),
    page("GET", "collab/meetings/"),
    page("POST", "collab/meetings/", body={"title": "t", "scheduled_at": "{future}"}, ok=DONE,
         allowed=roles(COORDINATOR), deny=OK, encoding="form",
         note="others get the page again: the form is only the coordinator's"),
    page("GET", "collab/meetings/<int:pk>/", path="/collab/meetings/{meeting}/", sees="meeting", scopes=SCOPES),
    # Open311 GeoReport v2: no session, no roles; writes need an API key.
    page("GET", "open311/v2/discovery{.fmt}", path="/open311/v2/discovery.json", **EVERYONE),
    page("GET", "open311/v2/services{.fmt}", path="/open311/v2/services.json", **EVERYONE),
    page("GET", "open311/v2/services/<service_code>{.fmt}", path="/open311/v2/services/{service}.json",
         **EVERYONE),
    page("GET", "open311/v2/requests{.fmt}", path="/open311/v2/requests.json", **EVERYONE),
    page("POST", "open311/v2/requests{.fmt}", path="/open311/v2/requests.json",
         body={"api_key": "{api_key}", "service_code": "{service}", "lat": "{lat}", "long": "{lon}"},
         encoding="form", scopes=(OWN,), **EVERYONE),
    page("POST", "open311/v2/requests{.fmt}", path="/open311/v2/requests.json?without=key",
         body={"service_code": "{service}", "lat": "{lat}", "long": "{lon}"}, encoding="form",
         scopes=(OWN,), **{**EVERYONE, "ok": 403}),
    page("GET", "open311/v2/requests/<service_request_id>{.fmt}", path="/open311/v2/requests/{o311request}.json",
         **EVERYONE),
    page("GET", "open311/v2/tokens/<token>{.fmt}", path="/open311/v2/tokens/{o311token}.json", **EVERYONE),
    page("GET", "open311/v2/", path="/open311/v2/nothing-here.json", **{**EVERYONE, "ok": 404},
         note="anything else under the prefix: the specification's 404"),
    # Public pages.
    page("GET", "public/", **EVERYONE),
    page("POST", "public/", body={"service": "{service}", "lon": "{lon}", "lat": "{lat}", "nonce": "{nonce}"},
         encoding="form", ok=REDIRECT, public=True, scopes=(OWN,), note="to the tracking page"),
    page("GET", "public/track/", **EVERYONE),
    page("GET", "public/track/<str:code>/", path="/public/track/{tracking}/", **EVERYONE),
    page("GET", "public/map/", **EVERYONE),
    page("GET", "public/map/problems.json", **EVERYONE),
    # The map, screens, the mobile app.
    page("GET", "", **EVERYONE),
    page("GET", "logged-out/", ok=REDIRECT, anon=OK, note="signed-in users go to the map"),
    page("GET", "live/"),
    page("GET", "live/cases.json", path="/live/cases.json?bbox={bbox}&zoom=12", anon=403),
    page("GET", "live/token.json", anon=403),
    page("GET", "screen/"),
    page("GET", "screen/data.json", anon=403),
    page("GET", "street/", allowed=roles(STREET_STAFF)),
    page("GET", "m/"),
    page("GET", "m/sw.js", **EVERYONE),
    page("GET", "m/manifest.webmanifest", **EVERYONE),
    page("GET", "m/jsi18n/<str:language>/", path="/m/jsi18n/zh-hans/", **EVERYONE),
    # The admin site, as one row: staff roles get in (each admin scopes its own querysets).
    page("GET", "admin/", allowed=STAFF, deny=LOGIN),
    # The API's own pages.
    page("GET", "api/v1/openapi.json", **EVERYONE),
    page("GET", "api/v1/docs", **EVERYONE),
    page("GET", "api/v1/", **{**EVERYONE, "ok": 404}, note="the prefix alone is no page"),
]

ROWS: list[Row] = API_ROWS + PAGE_ROWS

# Rows whose expected answers the code does not give yet, with why: each runs as a strict xfail
# (it fails loudly once fixed, so that the entry is removed). Keep this empty where possible.
KNOWN_HOLES: dict[str, str] = {}
