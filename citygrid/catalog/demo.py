"""Demo data: the national standards, the sample city standards, and the demo city's own
standard derived from GB/T 47678.5-2026 the way Chengdu derived its 2016 standard (renames,
a merge, a split, fine classes under the manhole-cover classes, limits, emergency types)."""

from __future__ import annotations

from typing import TextIO

from django.db import transaction

from citygrid.calendars.domain.durations import Duration, parse_duration
from citygrid.catalog import actions
from citygrid.catalog.models import Category, ClassLevel, Standard, Urgency
from citygrid.space.models import Area, Level

NATIONAL = "GB/T 47678.5-2026"
DEMO_CODE = "CD-2026-DEMO"
DEMO_NAME = "成都市城市管理部件事件分类标准（演示）"
DEMO_CITY = "510100"

RENAMES = [  # (kind, code, new name)
    ("event", "06001", "违法建设"),
    ("event", "09009", "机动车违法停放"),
    ("component", "01037", "路灯（照明设施）"),
]
MERGE = ("event", ["09005"], "09006", "占道经营（含店外经营）")
SPLIT = ("event", "06012", [("06012", "道路不洁"), ("06053", "道路积水")])
MANHOLE_EVENTS = ["01001", "01002", "01003", "01005", "01007", "01011"]
MANHOLE_FINES = [("01", "井盖缺失"), ("02", "井盖破损"), ("03", "井盖移位")]
ADDED = [("event", "10", "10003", "路面塌陷", True)]
EMERGENCY = [("event", "10001"), ("event", "10002"), ("event", "01011"), ("event", "06037")]

# Handling limits by keyword in the class name (first match wins): (ordinary, urgent).
LIMIT_RULES: list[tuple[tuple[str, ...], str, str]] = [
    (("井盖缺失",), "4 hours", "2 hours"),
    (("井盖",), "1 working day", "4 hours"),
    (("塌陷", "脱落", "积雪", "燃气"), "4 hours", "2 hours"),
    (("暴露垃圾", "满溢", "道路不洁", "积水", "遗撒", "动物尸体"), "4 working hours",
     "2 working hours"),
    (("违法建设", "私搭乱建", "无证建设", "违章"), "15 working days", "5 working days"),
    (("乱停放", "违法停放", "占道", "店外", "游商", "散发", "小广告"), "2 working hours",
     "1 working hour"),
    (("施工", "工地", "渣土"), "2 working days", "1 working day"),
    (("树", "绿", "花"), "3 working days", "1 working day"),
    (("灯",), "2 working days", "4 working hours"),
]
DEFAULT_LIMITS = ("2 working days", "1 working day")
MAJOR_LIMITS = ("5 working days", "2 working days")
FINE_LIMITS = {"井盖缺失": ("4 hours", "2 hours"), "井盖破损": ("1 working day", "4 hours"),
               "井盖移位": ("8 hours", "4 hours")}

STEP_LIMITS: list[tuple[str, str, str, str]] = [  # (step, urgency, area_type, limit)
    ("accept", "ordinary", "any", "10 minutes"), ("accept", "urgent", "any", "5 minutes"),
    ("verify", "ordinary", "any", "1 hour"), ("verify", "urgent", "any", "30 minutes"),
    ("file", "ordinary", "any", "30 minutes"), ("file", "urgent", "any", "10 minutes"),
    ("dispatch", "ordinary", "any", "30 minutes"), ("dispatch", "urgent", "any", "10 minutes"),
    ("check", "ordinary", "urban", "1 hour"), ("check", "ordinary", "rural", "2 hours"),
    ("check", "urgent", "urban", "1 hour"), ("check", "urgent", "rural", "2 hours"),
    ("close", "ordinary", "any", "1 working hour"), ("close", "urgent", "any", "30 minutes"),
    ("file", "emergency", "any", "5 minutes"), ("dispatch", "emergency", "any", "5 minutes"),
    ("check", "emergency", "any", "30 minutes"),
]


def _limits_for(name: str) -> tuple[str, str]:
    for words, ordinary, urgent in LIMIT_RULES:
        if any(word in name for word in words):
            return ordinary, urgent
    return DEFAULT_LIMITS


def _set_limits(category: Category, pair: tuple[str, str]) -> None:
    actions.set_handling_limit(category, Urgency.ORDINARY, parse_duration(pair[0]))
    actions.set_handling_limit(category, Urgency.URGENT, parse_duration(pair[1]))
    if category.is_emergency:
        urgent: Duration = parse_duration(pair[1])
        actions.set_handling_limit(category, Urgency.EMERGENCY, urgent)


def _get(standard: Standard, kind: str, code: str) -> Category:
    return Category.objects.get(standard=standard, kind=kind, code=code)


@transaction.atomic
def build_demo_standard(city: Area | None) -> Standard:
    base = Standard.objects.get(code=NATIONAL)
    standard = actions.derive_standard(base, DEMO_CODE, DEMO_NAME, city=city, year=2026)
    for kind, code, name in RENAMES:
        actions.rename_category(_get(standard, kind, code), name)
    kind, sources, into, merged_name = MERGE
    actions.merge_categories([_get(standard, kind, c) for c in sources], _get(standard, kind, into),
                             name=merged_name)
    kind, source, parts = SPLIT
    actions.split_category(_get(standard, kind, source), parts)
    for kind, major, code, name, emergency in ADDED:
        actions.add_category(standard, kind=kind, code=code, name=name, level=ClassLevel.MINOR,
                             parent=_get(standard, kind, major), is_emergency=emergency,
                             urgency_levels=["ordinary", "urgent", "emergency"])
    for code in MANHOLE_EVENTS:
        minor = _get(standard, "event", code)
        fines = actions.refine_category(minor, [(code + suffix, name) for suffix, name in MANHOLE_FINES])
        actions.update_category(fines[0], is_emergency=True,
                                filing_condition="井盖丢失、缺失，存在安全隐患",
                                closing_condition="补齐井盖或设置警示围挡并补齐")
    for kind, code in EMERGENCY:
        actions.update_category(_get(standard, kind, code), is_emergency=True)
    for category in standard.categories.all():
        if category.level == ClassLevel.MAJOR:
            _set_limits(category, MAJOR_LIMITS)
        elif category.level == ClassLevel.FINE:
            _set_limits(category, FINE_LIMITS.get(category.name, _limits_for(category.name)))
        else:
            _set_limits(category, _limits_for(category.name))
    for step, urgency, area_type, text in STEP_LIMITS:
        actions.set_step_limit(standard, step, urgency, area_type, parse_duration(text))
    return actions.activate_standard(standard)


def load_demo(stdout: TextIO, size: str = "full") -> None:
    """Import the national and sample standards and build the demo city's standard. Safe to
    re-run: published data is updated in place and the demo standard is built only once."""
    counts = actions.import_national_standards()
    for (code, kind), count in counts.items():
        stdout.write(f"catalog: {code} {kind}: {count.majors} major / {count.minors} minor classes\n")
    samples = actions.import_sample_standards()
    stdout.write(f"catalog: {len(samples)} sample city standards\n")
    if Standard.objects.filter(code=DEMO_CODE).exists():
        stdout.write(f"catalog: {DEMO_CODE} already there\n")
        return
    city = Area.objects.filter(code=DEMO_CITY, level=Level.CITY).first()
    standard = build_demo_standard(city)
    stats = {level: standard.categories.filter(level=level).count() for level in ClassLevel.values}
    stdout.write(
        f"catalog: {DEMO_NAME} active for {city or 'every city without its own'}: "
        f"{stats['major']} major / {stats['minor']} minor / {stats['fine']} fine classes\n"
    )
