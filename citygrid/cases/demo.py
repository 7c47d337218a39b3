"""Demo cases (issue 4, item 10): cases in every state of every process across the demo city,
created through the real actions by the demo people (citygrid.org.demo).

Each scenario reports a case and drives it with a list of operations; the actor of each
operation is the demo person who holds the right role for the case's district and holding
department. A scenario runs in its own transaction: one that fails leaves nothing behind and
is reported. Idempotent: nothing is done when cases exist.

What the demo cannot show: deadlines in the past. The actions take no "now", so every case
starts its clocks at load time; the manhole-cover and emergency cases (minutes-scale limits)
turn yellow and red within the hour once the sweeper runs (`make demo` starts it). A `rejected`
case of the processes the system files itself (flat, special processes) cannot happen: they
never rest in `to_file`, where `reject` applies.

The emergency process is chosen by a responsibility rule; the org demo routes it only at
night (event 08, 22:00-06:00), so this loader adds one rule per district through
`citygrid.org.actions.save_rule`: event 10003 (road collapse) → the emergency process.
"""

from __future__ import annotations

import io
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from tqdm import tqdm

from citygrid.cases import actions
from citygrid.cases.domain.processes import PROCESSES, ProcessName, State
from citygrid.cases.models import Case, CaseState
from citygrid.core.errors import DomainError
from citygrid.org.demo import DISTRICT_KEYS, MANHOLE_OWNERS
from citygrid.space.models import Area, UnitGrid

CITY_CODE = "510100"
EMERGENCY_CLASS = "10003"  # 路面塌陷 (road collapse): routed to the emergency process below
MANHOLE_CLASS = "0100201"  # 井盖缺失 (missing manhole cover): manhole-cover emergency process
SELF_HANDLE_CLASS = "06007"  # a street-office matter (flat / self-handle / sanitation patrol)

# Operations after the report, by the state they lead to (scenarios per process family).
_TO_HANDLING = ["file", "dispatch", "accept"]
STANDARD_SCRIPTS: list[list[str]] = [
    [], ["file"], ["file", "dispatch"], _TO_HANDLING,
    [*_TO_HANDLING, "request_postponement"],
    [*_TO_HANDLING, "request_postponement", "approve_postponement"],
    [*_TO_HANDLING, "request_postponement", "refuse_postponement"],
    [*_TO_HANDLING, "suspend"], [*_TO_HANDLING, "suspend", "resume"],
    [*_TO_HANDLING, "feedback"], [*_TO_HANDLING, "feedback", "check_pass"],
    [*_TO_HANDLING, "feedback", "check_fail"],
    [*_TO_HANDLING, "feedback", "check_fail", "feedback"],
    [*_TO_HANDLING, "feedback", "check_pass", "close"],
    [*_TO_HANDLING, "feedback", "check_fail", "feedback", "check_pass", "close"],
    [*_TO_HANDLING, "feedback", "check_pass", "close", "reopen"],
    ["reject"], ["reject", "reopen"], ["merge"], ["file", "merge"], ["file", "void"],
    [*_TO_HANDLING, "void"],
    ["file", "dispatch", "urge"], [*_TO_HANDLING, "urge", "supervise"],
    ["file", "dispatch", "redispatch"], [*_TO_HANDLING, "redispatch", "accept"],
    ["file", "dispatch", "return"],
    ["file", "dispatch", "return", "dispatch_again", "return"],  # returned twice: collaboration
    ["duplicate"],  # a second report near an open one, left for the operator (suggestions)
    # The collaboration platform (M-19, M-20): sent by the dispatcher, or returned as not ours;
    # the coordinator dispatches it on to the confirmed owner.
    ["file", "dispatch", "send_to_collaboration"], [*_TO_HANDLING, "not_ours"],
    ["file", "dispatch", "send_to_collaboration", "collaboration_dispatch"],
]
PUBLIC_SCRIPTS: list[list[str]] = [[], ["reject"], ["merge"], ["void"]] + [
    ["verify", *s] for s in STANDARD_SCRIPTS if "merge" not in s and "duplicate" not in s]
# The flat shape: the system files and dispatches into handling; feedback → to_close.
FLAT_SCRIPTS: list[list[str]] = [
    [], ["request_postponement"], ["request_postponement", "approve_postponement"],
    ["suspend"], ["suspend", "resume"], ["feedback"], ["feedback", "check_fail"],
    ["feedback", "close"], ["feedback", "check_fail", "feedback", "close"],
    ["feedback", "close", "reopen"], ["return"], ["return", "merge"], ["return", "dispatch"],
    ["redispatch"], ["redispatch", "accept"], ["void"], ["urge", "supervise"],
    ["return", "dispatch_again", "return"], ["not_ours"],
    ["send_to_collaboration", "collaboration_dispatch"],
]
# Sanitation patrol: flat shape, but feedback → to_check and a passed check closes.
SANITATION_SCRIPTS: list[list[str]] = [
    [], ["request_postponement"], ["suspend"], ["feedback"], ["feedback", "check_fail"],
    ["feedback", "check_pass"], ["feedback", "check_pass", "reopen"], ["return"],
    ["return", "merge"], ["redispatch"], ["void"], ["urge"], ["not_ours"],
]
# Manhole-cover emergency and emergency: dispatched at once, then the standard shape.
URGENT_SCRIPTS: list[list[str]] = [
    [], ["accept"], ["accept", "request_postponement"], ["accept", "suspend"],
    ["accept", "feedback"], ["accept", "feedback", "check_pass"],
    ["accept", "feedback", "check_fail"], ["accept", "feedback", "check_pass", "close"],
    ["accept", "feedback", "check_pass", "close", "reopen"], ["return"], ["return", "merge"],
    ["redispatch"], ["void"], ["urge", "supervise"], ["send_to_collaboration"],
    ["accept", "not_ours", "collaboration_dispatch"],
]
SCRIPTS: dict[str, list[list[str]]] = {
    ProcessName.STANDARD: STANDARD_SCRIPTS,
    ProcessName.PUBLIC_REPORT: PUBLIC_SCRIPTS,
    ProcessName.FLAT: FLAT_SCRIPTS,
    ProcessName.STREET_SELF_HANDLE: FLAT_SCRIPTS,
    ProcessName.SANITATION_PATROL: SANITATION_SCRIPTS,
    ProcessName.MANHOLE_COVER_EMERGENCY: URGENT_SCRIPTS,
    ProcessName.EMERGENCY: URGENT_SCRIPTS,
}
REASONS = {  # operations that take a reason
    "reject": "现场核实不属实", "return": "不属本单位职责", "redispatch": "改派责任单位",
    "suspend": "需协调资金，暂时挂账", "void": "误报作废", "reopen": "市民再次反映，重新办理",
    "check_fail": "现场核查未处理到位，返工", "merge": "与已有案卷重复", "supervise": "超期督办",
    "request_postponement": "需要更换设施，申请延期", "refuse_postponement": "理由不充分",
}
DESCRIPTIONS = ["现场发现问题，请及时处置", "市民反映多次，影响通行", "夜间巡查发现",
                "问题较为严重，需尽快处理", "例行巡查发现"]
ADDRESSES = ["东大街{}号", "人民南路{}号附近", "春熙路{}号", "红星路{}段", "蜀都大道{}号旁"]


@dataclass
class District:
    area: Area
    key: str
    streets: list[Area]

    @property
    def code(self) -> str:
        return self.area.code


class Demo:
    """Drives scenarios for one load; holds the people, photos and random choices."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.users = {u.username: u for u in User.objects.all()}
        self.photos = [_photo(rng, i) for i in range(6)]
        self.categories = _categories()
        self.anchors: dict[tuple[str, int], Case] = {}

    # --- people -----------------------------------------------------------------------------

    def user(self, username: str) -> User:
        user = self.users.get(username)
        if user is None:
            raise LookupError(f"demo user {username} is missing (load the org demo first)")
        return user

    def holder(self, case: Case, d: District) -> tuple[User, str]:
        """The person (and role) who acts for the case's holding department."""
        dept = case.holder_department.code if case.holder_department else ""
        if dept.endswith("-JD"):
            role = "street_staff" if case.process == ProcessName.STREET_SELF_HANDLE else "handler"
            return self.user(f"street_staff_{d.key}"), role
        by_suffix = {"-HW": f"handler_{d.key}_hw", "-SZ": f"handler_{d.key}_sz",
                     "-CGJ": f"department_head_{d.key}", "-YL": f"department_head_{d.key}"}
        for suffix, username in by_suffix.items():
            if dept == f"{d.code}{suffix}":
                role = "department_head" if username.startswith("department_head") else "handler"
                return self.user(username), role
        named = {"SU-POWER": "handler_power", "SU-TELECOM": "handler_telecom"}
        if dept in named:
            return self.user(named[dept]), "handler"
        raise LookupError(f"no demo person acts for {dept or 'no department'}")

    def target(self, case: Case, d: District, avoid: str = "") -> str:
        """A department with a demo handler to dispatch to (the rules' choice when possible)."""
        routed = case.routed_department.code if case.routed_department else ""
        options = [routed, f"{d.code}-HW", f"{d.code}-SZ"]
        for code in options:
            if code and code != avoid and not code.endswith("-JD") and (
                    code.startswith(d.code) or code in ("SU-POWER", "SU-TELECOM")):
                return code
        return f"{d.code}-SZ"

    # --- places -----------------------------------------------------------------------------

    def point(self, area: Area) -> tuple[float, float]:
        grids = list(UnitGrid.objects.filter(community__code__startswith=area.code,
                                             valid_to__isnull=True).order_by("id")[:400])
        grid = self.rng.choice(grids)
        p = grid.shape.representative_point()
        return float(p.x), float(p.y)

    def place_for(self, process: str, d: District, n: int) -> tuple[float, float]:
        first = d.streets[0]
        if process == ProcessName.SANITATION_PATROL:
            return self.point(first.children.order_by("code").first() or first)
        if process in (ProcessName.FLAT, ProcessName.STREET_SELF_HANDLE):
            communities = list(first.children.order_by("code"))
            return self.point(self.rng.choice(communities[1:] or communities))
        others = d.streets[1:] or d.streets
        return self.point(others[n % len(others)])

    # --- scenarios ----------------------------------------------------------------------------

    def report(self, process: str, d: District, n: int, at: tuple[float, float] | None = None,
               category: tuple[str, str] | None = None) -> Case:
        lon, lat = at or self.place_for(process, d, n)
        kind, code = category or self.category_for(process, n)
        who, source = self.reporter(process, d, n)
        photos = [self.photos[n % len(self.photos)]] if n % 3 else []
        case = actions.report_case(
            self.user(who), source=source, kind=kind, category_code=code, lon=lon, lat=lat,
            address=self.rng.choice(ADDRESSES).format(self.rng.randint(1, 300)),
            description=self.rng.choice(DESCRIPTIONS), photos=photos)
        if case.process != process:
            raise LookupError(f"{kind} {code} in {d.code} routed to {case.process}, not {process}")
        return case

    def reporter(self, process: str, d: District, n: int) -> tuple[str, str]:
        if process == ProcessName.PUBLIC_REPORT:
            return f"intake_operator_{d.key}", ("public", "hotline", "media")[n % 3]
        if process == ProcessName.STREET_SELF_HANDLE:
            return f"street_staff_{d.key}", "street_staff"
        if n % 2:
            return f"district_inspector_{d.key}", "district_inspector"
        return f"city_inspector_{1 + n % 4 // 2}", "city_inspector"

    def category_for(self, process: str, n: int) -> tuple[str, str]:
        if process == ProcessName.MANHOLE_COVER_EMERGENCY:
            return "event", MANHOLE_CLASS
        if process == ProcessName.EMERGENCY:
            return "event", EMERGENCY_CLASS
        if process in (ProcessName.FLAT, ProcessName.STREET_SELF_HANDLE,
                       ProcessName.SANITATION_PATROL):
            return "event", SELF_HANDLE_CLASS
        return self.categories[n % len(self.categories)]

    def run(self, process: str, script: Sequence[str], d: District, n: int) -> Case:
        if "merge" in script or "duplicate" in script:
            return self._merged(process, [op for op in script if op != "duplicate"], d, n)
        case = self.report(process, d, n)
        return self.drive(case, script, d)

    def _merged(self, process: str, script: Sequence[str], d: District, n: int) -> Case:
        """An original case and a second report of the same problem a few metres away, merged into
        it or (script without "merge") left for the operator to decide."""
        original = self.anchors.get((process, d.area.pk))
        if original is None:
            original = self.report(process, d, n)
            self.anchors[(process, d.area.pk)] = original
        near = (original.lon + self.rng.uniform(-1e-4, 1e-4), original.lat + self.rng.uniform(-1e-4, 1e-4))
        duplicate = self.report(process, d, n + 1, at=near,
                                category=(original.kind, original.category.code))
        return self.drive(duplicate, script, d, duplicate_of=original.number)

    def drive(self, case: Case, script: Sequence[str], d: District,
              duplicate_of: str | None = None) -> Case:
        for op in script:
            case = self.step(case, op, d, duplicate_of)
        return case

    def step(self, case: Case, op: str, d: District, duplicate_of: str | None) -> Case:
        centre = {name: self.user(f"{name}_{d.key}") for name in
                  ("intake_operator", "dispatcher", "shift_leader", "district_inspector", "leader")}
        photo = self.rng.choice(self.photos)
        reason = REASONS.get(op, "")
        pk, v = case.pk, case.version
        if op == "verify":
            return actions.verify_case(centre["district_inspector"], pk, expected_version=v,
                                       note="现场核实属实")
        if op == "file":
            return actions.file_case(centre["intake_operator"], pk, expected_version=v)
        if op == "reject":
            return actions.reject_case(centre["intake_operator"], pk, expected_version=v,
                                       reason=reason)
        if op == "merge":
            return actions.merge_case(centre["intake_operator"], pk, expected_version=v,
                                      duplicate_of=duplicate_of, reason=reason)
        if op in ("dispatch", "dispatch_again"):
            last = case.events.filter(operation="return").order_by("-seq").first()
            returned_by = (last.inputs.get("department", "") if last else "")
            department = (returned_by or self.target(case, d)) if op == "dispatch_again" \
                else self.target(case, d, avoid=returned_by)
            copies = ["CITY-CGW"] if case.kind == "component" else []
            return actions.dispatch_case(centre["dispatcher"], pk, expected_version=v,
                                         department=department, copies=copies)
        if op == "redispatch":
            holder = case.holder_department.code if case.holder_department else ""
            return actions.redispatch_case(centre["dispatcher"], pk, expected_version=v,
                                           department=self.target(case, d, avoid=holder),
                                           reason=reason)
        if op in ("approve_postponement", "refuse_postponement"):
            fn = getattr(actions, op)
            kwargs = {"reason": reason} if op.startswith("refuse") else {}
            return fn(centre["dispatcher"], pk, expected_version=v, **kwargs)  # type: ignore[no-any-return]
        if op in ("suspend", "resume", "close", "void", "reopen"):
            fn = getattr(actions, f"{op}_case")
            kwargs = {"reason": reason} if reason else {}
            return fn(centre["shift_leader"], pk, expected_version=v, **kwargs)  # type: ignore[no-any-return]
        if op == "send_to_collaboration":
            return actions.send_to_collaboration(centre["dispatcher"], pk, expected_version=v,
                                                 reason="权属不清，提交协同平台确认")
        if op == "collaboration_dispatch":
            sent = case.events.filter(operation="send_to_collaboration").order_by("-seq").first()
            owner = self.target(case, d, avoid=sent.inputs.get("department", "") if sent else "")
            return actions.dispatch_after_collaboration(
                self.user("coordinator_city"), pk, expected_version=v, department=owner,
                decision={"owner": owner, "basis": "协同平台会商确认权属（演示）"})
        if op == "urge":
            return actions.urge_case(centre["dispatcher"], pk, expected_version=v, message="请尽快处置")
        if op == "supervise":
            return actions.supervise_case(centre["leader"], pk, expected_version=v, reason=reason)
        if op in ("check_pass", "check_fail"):
            checker = (centre["shift_leader"] if case.state == CaseState.TO_CLOSE
                       else centre["district_inspector"])
            return actions.check_case(checker, pk, expected_version=v, passed=op == "check_pass",
                                      reason=reason if op == "check_fail" else "")
        person, role = self.holder(case, d)
        if op == "accept":
            return actions.accept_case(person, pk, expected_version=v, role=role)
        if op == "return":
            return actions.return_case(person, pk, expected_version=v, role=role, reason=reason)
        if op == "request_postponement":
            return actions.request_postponement(person, pk, expected_version=v, role=role,
                                                reason=reason, extension="2 working days")
        if op == "not_ours":
            return actions.return_as_not_ours(person, pk, expected_version=v, role=role,
                                              reason="非本单位权属，请协同平台确认")
        if op == "feedback":
            return actions.feedback_case(person, pk, expected_version=v, role=role,
                                         after_photo=photo, note="已处置完毕")
        raise ValueError(f"unknown demo operation {op}")


def _photo(rng: random.Random, n: int) -> bytes:
    """A small JPEG drawn in memory: a coloured scene with a few shapes."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), (rng.randint(90, 200), rng.randint(90, 200), 160))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randint(0, 280), rng.randint(0, 200)
        colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
        draw.rectangle((x, y, x + rng.randint(10, 60), y + rng.randint(10, 40)), fill=colour)
    draw.text((8, 8), f"citygrid demo #{n + 1}", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _categories() -> list[tuple[str, str]]:
    """Classes for standard reports: minor classes of majors that route to district
    departments with demo handlers (municipal works, sanitation), ordinary urgency allowed."""
    from citygrid.catalog.selectors import active_standard

    city = Area.objects.filter(code=CITY_CODE).first()
    standard = active_standard(city) if city else None
    if standard is None:
        return []
    wanted = {("component", "01"), ("component", "02"), ("component", "03"), ("event", "03"),
              ("event", "06"), ("event", "01")}
    found = []
    for c in standard.categories.filter(level="minor").select_related("parent").order_by("kind", "code"):
        if c.parent is None or (c.kind, c.parent.code) not in wanted:
            continue
        if c.urgency_levels and "ordinary" not in c.urgency_levels:
            continue
        if c.code in MANHOLE_OWNERS:  # manhole covers go to their owners' rules
            continue
        found.append((c.kind, c.code))
    return found


def _emergency_rules(districts: Sequence[District]) -> None:
    from citygrid.catalog.selectors import active_standard
    from citygrid.org import actions as org_actions
    from citygrid.org.models import Department, ResponsibilityRule

    standard = active_standard(districts[0].area.parent)
    category = standard.categories.filter(kind="event", code=EMERGENCY_CLASS).first() if standard else None
    if category is None:
        return
    for d in districts:
        code = f"{d.code}-event-{EMERGENCY_CLASS}-emergency"
        if ResponsibilityRule.objects.filter(code=code).exists():
            continue
        rule = ResponsibilityRule(code=code, kind="event", category=category, area=d.area,
                                  department=Department.objects.get(code=f"{d.code}-SZ"),
                                  process="emergency", note="路面塌陷：应急案件流程（演示）")
        org_actions.save_rule(None, rule, grids=[],
                              copies=list(Department.objects.filter(code=f"{d.code}-ZH")))


def _districts() -> list[District]:
    city = Area.objects.filter(code=CITY_CODE, level="city").first()
    if city is None:
        return []
    found = []
    for area in city.children.order_by("code"):
        key = DISTRICT_KEYS.get(area.code, f"d{area.code}")
        streets = list(area.children.order_by("code"))
        if streets and User.objects.filter(username=f"street_staff_{key}").exists():
            found.append(District(area, key, streets))
    return found


def plan(districts: Sequence[District], size: str) -> list[tuple[str, list[str], District, int]]:
    """(process, script, district, n) for every scenario, the districts taking turns: small
    runs each script once, full three times (in three districts): a few hundred cases."""
    jobs = []
    rounds = min(3, len(districts)) if size == "full" else 1
    turn = 0
    for process, scripts in SCRIPTS.items():
        for i, script in enumerate(scripts):
            for r in range(rounds):
                jobs.append((process, script, districts[turn % len(districts)], i + r))
                turn += 1
    return jobs


def load_demo(stdout: Any, size: str = "full") -> None:
    """Called by `citygrid demo_setup` after the org demo; skips when cases exist."""
    existing = Case.objects.count()
    if existing:
        stdout.write(f"cases: {existing} cases already there, skipped.")
        return
    districts = _districts()
    if not districts:
        stdout.write("cases: the demo city and people are not loaded (run the org demo first); skipped.")
        return
    started = time.perf_counter()
    _emergency_rules(districts)
    demo = Demo(random.Random(2016))
    jobs = plan(districts, size)
    failures: list[str] = []
    with tqdm(total=len(jobs), unit="cases", file=_BarOut(stdout), mininterval=0.5,
              disable=not hasattr(stdout, "style_func")) as bar:
        for process, script, d, n in jobs:
            try:
                with transaction.atomic():
                    demo.run(process, script, d, n)
            except (DomainError, LookupError) as exc:
                failures.append(f"{process} {'/'.join(script) or 'report'} in {d.code}: {exc}")
            bar.update(1)
    elapsed = time.perf_counter() - started
    stdout.write(f"cases: {Case.objects.count()} demo cases in {elapsed:.0f} s "
                 f"({len(failures)} scenarios failed).")
    for line in failures[:10]:
        stdout.write(f"cases: WARNING {line}")
    print_summary(stdout)


class _BarOut:
    """Lets tqdm draw on a Django OutputWrapper (which would add a newline to every write)."""

    def __init__(self, out: Any) -> None:
        self._out = out

    def write(self, text: str) -> None:
        self._out.write(text, ending="")

    def flush(self) -> None:
        self._out.flush()


def summary() -> dict[str, Counter[str]]:
    table: dict[str, Counter[str]] = {}
    for process, state in Case.objects.values_list("process", "state"):
        table.setdefault(process, Counter())[state] += 1
    return table


def print_summary(stdout: Any, write: Callable[[str], None] | None = None) -> None:
    """Cases by process (rows) and state (columns)."""
    emit = write or stdout.write
    table = summary()
    states = [s.value for s in State if any(table[p][s.value] for p in table)]
    head = "".join(f"{s:>{len(s) + 2}s}" for s in states)
    emit(f"{'process':24s}{head}{'total':>8s}")
    for process in (p.value for p in PROCESSES):  # the processes' own order
        if process not in table:
            continue
        row = table[process]
        cells = "".join(f"{row[s] or '·':>{len(s) + 2}}" for s in states)
        emit(f"{process:24s}{cells}{sum(row.values()):>8d}")
