"""Demo data: the public services of the demo standard, one Open311 API key (printed), and a
few public reports sent through the same path as the public page."""

from __future__ import annotations

from typing import Any, TextIO

from django.db import transaction

from citygrid.catalog.selectors import active_standard
from citygrid.core.errors import DomainError
from citygrid.exchange import actions
from citygrid.exchange.models import ApiKey, PublicRequest, PublicService

ROADS = ("道路与设施", "Roads and facilities")
CLEAN = ("环境卫生", "Cleanliness")
ORDER = ("街面秩序", "Street order")
BUILD = ("施工与噪声", "Construction and noise")
GREEN = ("绿化与广告", "Greenery and advertising")

SIZE = {"code": "amount", "datatype": "singlevaluelist", "required": False, "order": 1,
        "description": "大约多大？", "description_en": "About how big?",
        "values": [{"key": "small", "name": "一小堆", "name_en": "A small pile"},
                   {"key": "large", "name": "很多，成堆成片", "name_en": "A lot, piled up"}]}

# (service code, kind, class code, zh name, en name, group, keywords, attributes)
SERVICES: list[tuple[str, str, str, str, str, tuple[str, str], str, list[dict[str, Any]]]] = [
    ("E01003", "event", "01003", "井盖破损、丢失或移位", "Manhole cover broken, missing or moved",
     ROADS, "井盖,manhole,cover,hole",
     [{"code": "cover_state", "datatype": "singlevaluelist", "required": True, "order": 1,
       "description": "井盖怎么了？", "description_en": "What is wrong with the cover?",
       "values": [{"key": "missing", "name": "丢失", "name_en": "Missing"},
                  {"key": "broken", "name": "破损", "name_en": "Broken"},
                  {"key": "moved", "name": "移位", "name_en": "Moved"}]}]),
    ("E01037", "event", "01037", "路灯不亮或损坏", "Street light out or damaged", ROADS,
     "路灯,street light,lamp",
     [{"code": "lights_out", "datatype": "number", "required": False, "order": 1,
       "description": "几盏灯不亮？", "description_en": "How many lights are out?"}]),
    ("E06013", "event", "06013", "路面坑洼破损", "Pothole or damaged road surface", ROADS,
     "坑洼,道路,pothole,road", []),
    ("E06051", "event", "06051", "盲道损坏", "Damaged tactile paving", ROADS,
     "盲道,tactile paving,accessibility", []),
    ("E06010", "event", "06010", "暴露垃圾", "Rubbish left in the open", CLEAN,
     "垃圾,rubbish,garbage,litter", [SIZE]),
    ("E06042", "event", "06042", "垃圾箱满溢", "Overflowing rubbish bin", CLEAN,
     "垃圾箱,满溢,bin,overflowing", []),
    ("E06037", "event", "06037", "动物尸体", "Dead animal", CLEAN, "动物,dead animal", []),
    ("E06030", "event", "06030", "乱倒污水", "Waste water dumped", CLEAN, "污水,sewage,waste water", []),
    ("E09009", "event", "09009", "机动车违法停放", "Car parked illegally", ORDER,
     "停车,parking,car",
     [{"code": "blocking", "datatype": "multivaluelist", "required": False, "order": 1,
       "description": "挡住了什么？", "description_en": "What does it block?",
       "values": [{"key": "sidewalk", "name": "人行道", "name_en": "Sidewalk"},
                  {"key": "fire_lane", "name": "消防通道", "name_en": "Fire lane"},
                  {"key": "entrance", "name": "出入口", "name_en": "Entrance"}]}]),
    ("E09010", "event", "09010", "非机动车乱停放", "Bicycles parked in the way", ORDER,
     "自行车,bicycle,bike", []),
    ("E09011", "event", "09011", "共享单车乱堆", "Shared bikes piled up", ORDER,
     "共享单车,shared bike", []),
    ("E09006", "event", "09006", "占道经营", "Street stall blocking the way", ORDER,
     "摆摊,占道,street vending,stall", []),
    ("E08001", "event", "08001", "施工扰民", "Construction disturbing residents", BUILD,
     "施工,噪声,construction,noise", []),
    ("E08004", "event", "08004", "工地扬尘", "Dust from a building site", BUILD,
     "扬尘,dust,building site", []),
    ("E06028", "event", "06028", "噪声扰民", "Noise nuisance", BUILD, "噪声,noise", []),
    ("E06045", "event", "06045", "绿地被占或毁坏", "Green space occupied or damaged", GREEN,
     "绿地,green,grass,trees", []),
    ("E07001", "event", "07001", "非法小广告", "Illegal flyers and stickers", GREEN,
     "小广告,flyers,stickers,ads", []),
]

REPORTS = [  # (service code, description)
    ("E06010", "小区门口路边有一堆垃圾，已经两天没人清理。"),
    ("E01037", "这一段路灯晚上都不亮。"),
    ("E09009", "有车一直停在人行道上，行人只能走机动车道。"),
    ("E06013", "路面有个大坑，下雨积水。"),
    ("E06042", "垃圾箱满了，垃圾散落一地。"),
    ("E07001", "电线杆上贴满了小广告。"),
]


def load_services(stdout: TextIO) -> int:
    standard = active_standard()
    if standard is None:
        stdout.write("exchange: no active standard; no public services.\n")
        return 0
    present = set(standard.categories.values_list("kind", "code"))
    made = 0
    with transaction.atomic():
        for order, (code, kind, cat, name, name_en, group, keywords, attrs) in enumerate(SERVICES):
            if (kind, cat) not in present:
                stdout.write(f"exchange: class {kind} {cat} not in {standard.code}; {code} skipped.\n")
                continue
            _, created = PublicService.objects.update_or_create(
                service_code=code,
                defaults={"kind": kind, "category_code": cat, "name": name, "name_en": name_en,
                          "group": group[0], "group_en": group[1], "keywords": keywords,
                          "attributes": attrs, "sort_order": order * 10, "active": True})
            made += int(created)
    return made


def _places(count: int) -> list[tuple[float, float]]:
    from citygrid.space.models import UnitGrid

    ids = list(UnitGrid.objects.filter(valid_to__isnull=True)
               .order_by("community__parent__code", "code").values_list("pk", flat=True))
    if not ids:
        return []
    picked = ids[::max(1, len(ids) // max(count, 1))][:count]
    grids = {g.pk: g for g in UnitGrid.objects.filter(pk__in=picked)}
    points = []
    for pk in picked:
        p = grids[pk].shape.representative_point()
        points.append((float(p.x), float(p.y)))
    return points


def load_demo(stdout: TextIO, size: str = "full") -> None:
    made = load_services(stdout)
    stdout.write(f"exchange: {PublicService.objects.count()} public services ({made} new).\n")
    if not ApiKey.objects.filter(name="demo client", revoked_at__isnull=True).exists():
        _, key = actions.issue_api_key(None, name="demo client", contact="demo")
        stdout.write(f"exchange: Open311 API key for the demo client (shown once): {key}\n")
    if PublicRequest.objects.exists():
        stdout.write("exchange: public reports exist; none added.\n")
        return
    reports = REPORTS[:3] if size == "small" else REPORTS
    services = {s.service_code: s for s in PublicService.objects.all()}
    sent = 0
    for (code, text), (lon, lat) in zip(reports, _places(len(reports)), strict=False):
        if code not in services:
            continue
        try:
            row = actions.submit_public_request(service=services[code], lon=lon, lat=lat,
                                                channel="web", description=text,
                                                contact=actions.Contact(name="演示市民"))
        except DomainError as exc:
            stdout.write(f"exchange: report {code} failed: {exc.message}\n")
            continue
        sent += 1
        stdout.write(f"exchange: public report {row.case.number}, tracking code {row.tracking_code}\n")
    stdout.write(f"exchange: {sent} public reports.\n")
