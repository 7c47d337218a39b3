"""Demo organisation: departments for the demo city, its districts and streets, social units
and inspection contractors; people for every role with demo logins; responsibility rules
covering the whole demo city. Runs after the space, catalog and calendars demos. Idempotent.

Every demo account has the password DEMO_PASSWORD. It is printed on purpose and acceptable
only for a demo database: never load the demo into a real deployment.
"""

from __future__ import annotations

import functools
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction

from citygrid.org import actions
from citygrid.org.models import (
    Department,
    DepartmentKind,
    Person,
    Process,
    ResponsibilityRule,
    Role,
    RoleAssignment,
)
from citygrid.space.models import Area

DEMO_PASSWORD = "citygrid-demo"
CITY_CODE = "510100"
DISTRICT_KEYS = {"510104": "jinjiang", "510105": "qingyang", "510106": "jinniu",
                 "510107": "wuhou", "510108": "chenghua", "510109": "gaoxin"}

# City-level departments: (code, name, kind, calendar)
CITY_DEPARTMENTS = [
    ("CITY-SUP", "成都市数字化城市管理监督中心", DepartmentKind.SUPERVISION_CENTRE, "supervision"),
    ("CITY-COLLAB", "成都市城市管理协同平台", DepartmentKind.COLLABORATION_PLATFORM, "supervision"),
    ("CITY-CGW", "成都市城市管理委员会", DepartmentKind.GOVERNMENT, ""),
    ("CITY-SW", "成都市水务局", DepartmentKind.GOVERNMENT, ""),
    ("CITY-JT", "成都市交通运输局", DepartmentKind.GOVERNMENT, ""),
    ("SU-POWER", "国网成都供电公司", DepartmentKind.SOCIAL_UNIT, "supervision"),
    ("SU-TELECOM", "中国电信成都分公司", DepartmentKind.SOCIAL_UNIT, ""),
    ("SU-WATER", "成都市自来水有限责任公司", DepartmentKind.SOCIAL_UNIT, "supervision"),
    ("SU-GAS", "成都城市燃气有限责任公司", DepartmentKind.SOCIAL_UNIT, "supervision"),
    ("IC-RONGCHENG", "蓉城城市信息采集服务有限公司（演示）", DepartmentKind.INSPECTION_CONTRACTOR, ""),
    ("IC-TIANFU", "天府城市巡查服务有限公司（演示）", DepartmentKind.INSPECTION_CONTRACTOR, ""),
]
# District departments: (suffix, name pattern, kind, parent suffix, calendar)
DISTRICT_DEPARTMENTS = [
    ("ZH", "{d}数字化城市管理指挥中心", DepartmentKind.COMMAND_CENTRE, "", "supervision"),
    ("CGJ", "{d}城市管理局", DepartmentKind.GOVERNMENT, "", ""),
    ("HW", "{d}环境卫生管理所", DepartmentKind.GOVERNMENT, "CGJ", ""),
    ("SZ", "{d}市政工程管理所", DepartmentKind.GOVERNMENT, "CGJ", ""),
    ("YL", "{d}园林绿化管理所", DepartmentKind.GOVERNMENT, "CGJ", ""),
    ("ZF", "{d}综合行政执法局", DepartmentKind.GOVERNMENT, "", ""),
]
# Major classes of the demo standard (GB/T 47678.5-2026 shape) → district department, copies.
MAJOR_HANDLERS: dict[tuple[str, str], tuple[str, list[str]]] = {
    ("component", "01"): ("SZ", ["CITY-CGW"]), ("event", "01"): ("SZ", ["CITY-CGW"]),
    ("component", "02"): ("SZ", ["CITY-JT"]), ("event", "02"): ("SZ", ["CITY-JT"]),
    ("component", "03"): ("HW", []), ("event", "03"): ("HW", []),
    ("component", "04"): ("YL", []), ("event", "04"): ("YL", []),
    ("component", "05"): ("CGJ", []), ("event", "05"): ("CGJ", []),
    ("event", "06"): ("HW", []), ("event", "07"): ("ZF", []), ("event", "08"): ("ZF", ["CITY-CGW"]),
    ("event", "09"): ("ZF", []), ("event", "10"): ("CGJ", ["CITY-CGW"]),
}
# Manhole covers by owner (minor class code → owner; "SZ" = the district's municipal works).
MANHOLE_OWNERS = {"01001": "SU-WATER", "01002": "SZ", "01003": "SZ", "01005": "SU-POWER",
                  "01007": "SU-TELECOM", "01011": "SU-GAS"}


@functools.cache
def _hash_for(hashers: tuple[str, ...]) -> str:
    return make_password(DEMO_PASSWORD)


def _demo_hash() -> str:
    """Hashed once per hasher configuration (tests switch to a fast hasher)."""
    from django.conf import settings

    return _hash_for(tuple(settings.PASSWORD_HASHERS))


def _key(district: Area) -> str:
    return DISTRICT_KEYS.get(district.code, f"d{district.code}")


def _dept(code: str, name: str, level: str, kind: str, area: Area, parent: Department | None,
          calendar: Any) -> Department:
    dept = Department.objects.filter(code=code).first() or Department(code=code)
    dept.name, dept.level, dept.kind, dept.area, dept.parent = name, level, kind, area, parent
    dept.calendar = calendar
    return actions.save_department(None, dept)


def _calendars() -> dict[str, Any]:
    from citygrid.calendars.models import WorkingCalendar

    return {c.name: c for c in WorkingCalendar.objects.all()} | {"": None}


def build_departments(city: Area, districts: list[Area], streets_per_district: int | None) -> None:
    calendars = _calendars()
    for code, name, kind, cal in CITY_DEPARTMENTS:
        _dept(code, name, "city", kind, city, None, calendars.get(cal))
    for district in districts:
        made: dict[str, Department] = {}
        for suffix, pattern, kind, parent, cal in DISTRICT_DEPARTMENTS:
            made[suffix] = _dept(f"{district.code}-{suffix}", pattern.format(d=district.name), "district",
                                 kind, district, made.get(parent), calendars.get(cal))
        streets = list(district.children.order_by("code"))
        for street in streets[:streets_per_district]:
            _dept(f"{street.code}-JD", f"{district.name}{street.name}办事处", "street",
                  DepartmentKind.GOVERNMENT, street, None, None)


def _person(username: str, name: str, department: Department | None,
            roles: list[tuple[str, list[Area], list[Department]]],
            contractor: Department | None = None) -> tuple[Person, list[tuple[str, str]]]:
    person = actions.save_person(None, username=username, display_name=name, department=department,
                                 contractor=contractor, password_hash=_demo_hash())
    if not RoleAssignment.objects.filter(person=person).exists():
        for role, areas, depts in roles:
            actions.assign_role(None, person, role, areas=areas, departments=depts)
    scopes = []
    for role, areas, depts in roles:
        scope = " ".join([a.name for a in areas] + [d.name for d in depts])
        scopes.append((role, scope))
    return person, scopes


def build_people(city: Area, districts: list[Area]) -> list[tuple[str, str, str]]:
    """People for every role; returns (role, username, scope) rows for the login table."""
    d = {x.code: x for x in Department.objects.all()}
    table: list[tuple[str, str, str]] = []

    def add(username: str, name: str, department: Department | None,
            roles: list[tuple[str, list[Area], list[Department]]], contractor: Department | None = None) -> None:
        _, scopes = _person(username, name, department, roles, contractor)
        table.extend((role, username, scope) for role, scope in scopes)

    add("administrator_city", "市级管理员", d["CITY-SUP"], [(Role.ADMINISTRATOR, [city], [])])
    add("leader_city", "市领导（只读）", d["CITY-CGW"], [(Role.LEADER, [city], [])])
    add("coordinator_city", "协同平台协调员", d["CITY-COLLAB"],
        [(Role.COLLABORATION_COORDINATOR, [city], [d["CITY-COLLAB"]])])
    add("shift_leader_city", "市监督中心值班长", d["CITY-SUP"], [(Role.SHIFT_LEADER, [city], [])])
    add("intake_operator_city", "市监督中心受理员", d["CITY-SUP"], [(Role.INTAKE_OPERATOR, [city], [])])
    add("city_inspector_1", "市级监督员一", None, [(Role.CITY_INSPECTOR, [city], [])], d["IC-RONGCHENG"])
    add("city_inspector_2", "市级监督员二", None, [(Role.CITY_INSPECTOR, [city], [])], d["IC-TIANFU"])
    add("handler_power", "供电公司处置员", d["SU-POWER"], [(Role.HANDLER, [], [d["SU-POWER"]])])
    add("handler_telecom", "电信公司处置员", d["SU-TELECOM"], [(Role.HANDLER, [], [d["SU-TELECOM"]])])
    for district in districts:
        k, c = _key(district), district.code
        zh = d[f"{c}-ZH"]
        add(f"administrator_{k}", f"{district.name}管理员", zh, [(Role.ADMINISTRATOR, [district], [])])
        add(f"dispatcher_{k}", f"{district.name}派遣员", zh, [(Role.DISPATCHER, [district], [])])
        add(f"shift_leader_{k}", f"{district.name}值班长", zh, [(Role.SHIFT_LEADER, [district], [])])
        add(f"intake_operator_{k}", f"{district.name}受理员", zh, [(Role.INTAKE_OPERATOR, [district], [])])
        add(f"district_inspector_{k}", f"{district.name}监督员", zh,
            [(Role.DISTRICT_INSPECTOR, [district], [])])
        add(f"leader_{k}", f"{district.name}领导（只读）", zh, [(Role.LEADER, [district], [])])
        add(f"department_head_{k}", f"{district.name}城管局负责人", d[f"{c}-CGJ"],
            [(Role.DEPARTMENT_HEAD, [], [d[f"{c}-CGJ"]])])
        add(f"handler_{k}_hw", f"{district.name}环卫处置员", d[f"{c}-HW"], [(Role.HANDLER, [], [d[f"{c}-HW"]])])
        add(f"handler_{k}_sz", f"{district.name}市政处置员", d[f"{c}-SZ"], [(Role.HANDLER, [], [d[f"{c}-SZ"]])])
        street = district.children.order_by("code").first()
        if street is not None and f"{street.code}-JD" in d:
            office = d[f"{street.code}-JD"]
            add(f"street_staff_{k}", f"{street.name}网格员", office,
                [(Role.STREET_STAFF, [street], []), (Role.HANDLER, [], [office])])
    return table


def _rule(code: str, department: Department, *, category: Any = None, kind: str = "",
          area: Area | None = None, copies: list[Department] | None = None,
          process: str = Process.STANDARD, note: str = "", **window: Any) -> None:
    rule = ResponsibilityRule.objects.filter(code=code).first() or ResponsibilityRule(code=code)
    rule.category, rule.kind, rule.area, rule.department = category, kind, area, department
    rule.process, rule.note = process, note
    for name in ("weekdays", "time_from", "time_to", "source", "use_component_owner"):
        if name in window:
            setattr(rule, name, window[name])
    actions.save_rule(None, rule, grids=[], copies=copies or [])


def build_rules(city: Area, districts: list[Area]) -> int:
    from citygrid.catalog.selectors import active_standard

    standard = active_standard(city)
    if standard is None:
        return 0
    d = {x.code: x for x in Department.objects.all()}
    cats = {(c.kind, c.code): c for c in standard.categories.all()}
    before = ResponsibilityRule.objects.count()
    for district in districts:
        c = district.code
        # Anything not covered by a class rule: the district city-management bureau.
        for kind in ("component", "event"):
            _rule(f"{c}-{kind}-any", d[f"{c}-CGJ"], kind=kind, area=district, copies=[],
                  note="兜底：本区未细分的类别由区城管局处置")
        for (kind, major), (suffix, copies) in MAJOR_HANDLERS.items():
            if (kind, major) not in cats:
                continue
            _rule(f"{c}-{kind}-{major}", d[f"{c}-{suffix}"], category=cats[(kind, major)],
                  area=district, copies=[d[x] for x in copies], use_component_owner=kind == "component",
                  note=f"{district.name}{cats[(kind, major)].name}")
        # Night-time construction complaints go to enforcement with the emergency process.
        if ("event", "08") in cats:
            _rule(f"{c}-event-08-night", d[f"{c}-ZF"], category=cats[("event", "08")], area=district,
                  process=Process.EMERGENCY, copies=[d[f"{c}-ZH"]], time_from=_t(22), time_to=_t(6),
                  note="夜间施工扰民 22:00-06:00")
        # Vehicle video patrol of traffic facilities: the city transport bureau handles.
        if ("event", "02") in cats:
            _rule(f"{c}-event-02-video", d["CITY-JT"], category=cats[("event", "02")], area=district,
                  source="video_patrol", copies=[d[f"{c}-SZ"]], note="车载视频巡查发现的交通设施问题")
        # Manhole covers by owner; the district command centre dispatches (M-17).
        for minor, owner in MANHOLE_OWNERS.items():
            handler = d[f"{c}-{owner}"] if owner == "SZ" else d[owner]
            copies_list = [d["CITY-SW"]] if minor in ("01002", "01003") else [d["CITY-CGW"]]
            for kind in ("component", "event"):
                if (kind, minor) in cats:
                    _rule(f"{c}-{kind}-{minor}", handler, category=cats[(kind, minor)], area=district,
                          copies=copies_list, note=f"{cats[(kind, minor)].name}由权属单位处置")
            fine = cats.get(("event", minor + "01"))  # 井盖缺失: the emergency process
            if fine is not None:
                _rule(f"{c}-event-{minor}01", handler, category=fine, area=district,
                      copies=[*copies_list, d[f"{c}-ZH"]], process=Process.MANHOLE_COVER_EMERGENCY,
                      note="井盖缺失：井盖专项应急流程")
        streets = list(district.children.order_by("code"))
        if streets and f"{streets[0].code}-JD" in d and ("event", "06") in cats:
            street = streets[0]
            _rule(f"{street.code}-event-06", d[f"{street.code}-JD"], category=cats[("event", "06")],
                  area=street, process=Process.FLAT, note=f"{street.name}市容环境自报自处（扁平化）")
            community = street.children.order_by("code").first()
            if community is not None:
                _rule(f"{community.code}-event-06", d[f"{c}-HW"], category=cats[("event", "06")],
                      area=community, process=Process.SANITATION_PATROL,
                      note=f"{community.name}环卫专项巡查")
    return ResponsibilityRule.objects.count() - before


def _t(hour: int) -> Any:
    from datetime import time

    return time(hour, 0)


def load_demo(stdout: Any, size: str = "full") -> None:
    city = Area.objects.filter(code=CITY_CODE, level="city").first()
    if city is None:
        stdout.write("org: the demo city is not loaded (run the space demo first); skipped.")
        return
    districts = list(city.children.order_by("code"))
    with transaction.atomic():
        actions.ensure_role_groups()
        build_departments(city, districts, None if size == "full" else 2)
        table = build_people(city, districts)
        created = build_rules(city, districts)
    stdout.write(
        f"org: {Department.objects.count()} departments, {Person.objects.count()} people, "
        f"{ResponsibilityRule.objects.count()} rules ({created} new)."
    )
    from citygrid.org.services import rule_conflicts

    conflicts = rule_conflicts()
    if conflicts:
        stdout.write(f"org: WARNING {len(conflicts)} conflicting rules, e.g. {conflicts[0].describe()}")
    print_logins(stdout, table)


def print_logins(stdout: Any, table: list[tuple[str, str, str]]) -> None:
    stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}; demo only, never in production)")
    width = max(len(u) for _, u, _ in table) if table else 10
    stdout.write(f"{'role':26s} {'username':{width}s} {'password':14s} scope")
    for role, username, scope in table:
        stdout.write(f"{role:26s} {username:{width}s} {DEMO_PASSWORD:14s} {scope}")
