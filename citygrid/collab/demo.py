"""Demo of the collaboration platform: disputed cases in every stage (M-19 … M-21).

`load_demo(stdout, size="full")` runs after the cases demo (add "citygrid.collab.demo" to
DEMO_LOADERS after "citygrid.cases.demo"). It makes its own cases through the case actions, by
the org demo's people, and takes each through the platform's actions: sent in and waiting,
returned as not ours with invitations out, answered (a decline and an accept) with network and
on-site records, decided at the desk (made a rule), on a planned meeting's agenda, decided in a
held meeting, swept in automatically (returned twice). Presence heartbeats for the units over
today's working hours so far. Skipped when any dossier exists. Small: one district; full: three.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from citygrid.cases import actions as case_actions
from citygrid.cases.models import Case
from citygrid.collab import actions
from citygrid.collab.models import Dossier, DossierStatus
from citygrid.core.errors import DomainError
from citygrid.org.demo import CITY_CODE, DISTRICT_KEYS
from citygrid.space.models import Area, UnitGrid

CODE = "06002"  # an event class the demo rules give the standard process, district sanitation


@dataclass
class District:
    area: Area
    key: str
    street: Area


def _districts(size: str) -> list[District]:
    city = Area.objects.filter(code=CITY_CODE, level="city").first()
    if city is None:
        return []
    found = []
    for area in city.children.order_by("code"):
        key = DISTRICT_KEYS.get(area.code, f"d{area.code}")
        streets = list(area.children.order_by("code"))
        if len(streets) > 1 and User.objects.filter(username=f"dispatcher_{key}").exists() \
                and User.objects.filter(username=f"handler_{key}_hw").exists():
            found.append(District(area, key, streets[-1]))
    return found[: 1 if size == "small" else 3]


def _photo(rng: random.Random) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 240), (rng.randint(90, 200), 150, 160))
    draw = ImageDraw.Draw(image)
    for _ in range(5):
        x, y = rng.randint(0, 280), rng.randint(0, 200)
        draw.rectangle([x, y, x + 40, y + 30], fill=(rng.randint(0, 255), 80, 60))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


class Demo:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.users = {u.username: u for u in User.objects.all()}
        self.coordinator = self.users["coordinator_city"]

    def u(self, name: str) -> Any:
        return self.users[name]

    def report(self, d: District) -> Case:
        grids = list(UnitGrid.objects.filter(community__code__startswith=d.street.code,
                                             valid_to__isnull=True).order_by("id")[:200])
        p = self.rng.choice(grids).shape.representative_point()
        case = case_actions.report_case(
            self.u("city_inspector_1"), source="city_inspector", kind="event", category_code=CODE,
            lon=float(p.x), lat=float(p.y), description="权属待确认的问题（演示）")
        return case_actions.file_case(self.u(f"intake_operator_{d.key}"), case.pk)

    def dispatched(self, d: District) -> Case:
        case = self.report(d)
        return case_actions.dispatch_case(self.u(f"dispatcher_{d.key}"), case.pk,
                                          department=f"{d.area.code}-HW")

    def sent(self, d: District) -> Dossier:
        case = self.report(d)
        return actions.send_case(self.u(f"dispatcher_{d.key}"), case.pk, reason="权属不清，请协同平台确认")

    def not_ours(self, d: District) -> Dossier:
        case = self.dispatched(d)
        return actions.return_not_ours(self.u(f"handler_{d.key}_hw"), case.pk,
                                       reason="该设施不属于环卫管理范围")

    def invited(self, d: District) -> Dossier:
        dossier = self.not_ours(d)
        actions.invite_units(self.coordinator, dossier.pk,
                             departments=[f"{d.area.code}-HW", f"{d.area.code}-SZ"],
                             note="请于时限内确认权属")
        return dossier

    def answered(self, d: District) -> Dossier:
        dossier = self.invited(d)
        hw, sz = (dossier.invitations.get(department__code=f"{d.area.code}-{s}") for s in ("HW", "SZ"))
        actions.answer_invitation(self.u(f"handler_{d.key}_hw"), hw.pk, answer="decline",
                                  reason="属于市政设施")
        actions.answer_invitation(self.u(f"handler_{d.key}_sz"), sz.pk, answer="accept")
        comment = actions.add_comment(self.u(f"handler_{d.key}_hw"), dossier.pk,
                                      text="现场为市政检查井，建议由市政所处置")
        actions.add_comment(self.coordinator, dossier.pk, text="已收到，将组织现场核实",
                            reply_to=comment.pk)
        actions.record_visit(self.coordinator, dossier.pk, text="联合踏勘：确认为市政设施",
                             participants=[f"{d.area.code}-HW", f"{d.area.code}-SZ"],
                             photos=[_photo(self.rng)])
        return dossier

    def decided(self, d: District) -> Dossier:
        dossier = self.answered(d)
        actions.decide(self.coordinator, dossier.pk, owner=f"{d.area.code}-SZ",
                       reasoning="经联合踏勘确认为市政设施，由市政工程管理所处置", make_rule=True,
                       rule_area="community")
        return dossier

    def meeting(self, d: District, hold: bool) -> None:
        dossiers = [self.invited(d), self.sent(d)]
        meeting = actions.create_meeting(
            self.coordinator, title=f"{d.area.name}权属协调会{'（已召开）' if hold else ''}",
            scheduled_at=timezone.now() + timedelta(days=0 if hold else 2), place="协同平台会议室",
            attendees=[f"{d.area.code}-HW", f"{d.area.code}-SZ", f"{d.area.code}-CGJ"],
            dossiers=[x.pk for x in dossiers])
        if hold:
            actions.hold_meeting(self.coordinator, meeting.pk, minutes="会议议定：两案分别由环卫所、市政所处置。",
                                 decisions=[
                                     actions.MeetingDecision(dossiers[0].pk, f"{d.area.code}-HW", "会议议定归环卫"),
                                     actions.MeetingDecision(dossiers[1].pk, f"{d.area.code}-SZ", "会议议定归市政")])

    def swept(self, d: District) -> None:
        case = self.dispatched(d)
        case = case_actions.return_case(self.u(f"handler_{d.key}_hw"), case.pk, reason="非本单位")
        case_actions.dispatch_case(self.u(f"dispatcher_{d.key}"), case.pk, department=f"{d.area.code}-HW")

    def presence(self, d: District) -> None:
        now = timezone.localtime()
        day_start = datetime.combine(now.date(), time(8, 30), tzinfo=now.tzinfo)
        for name, gaps in ((f"handler_{d.key}_hw", 3), (f"handler_{d.key}_sz", 1)):
            t = day_start
            while t < min(now, day_start + timedelta(hours=9)):
                if self.rng.randrange(10) >= gaps:
                    actions.heartbeat(self.u(name), at=t)
                t += timedelta(minutes=5 if self.rng.random() < 0.2 else 1)


STAGES = ["sent", "invited", "answered", "decided", "meeting_planned", "meeting_held", "swept",
          "presence"]


def load_demo(stdout: Any, size: str = "full") -> None:
    if Dossier.objects.exists():
        stdout.write("collab: dossiers already there, skipped.")
        return
    districts = _districts(size)
    if not districts or not User.objects.filter(username="coordinator_city").exists():
        stdout.write("collab: the demo city, people or cases are not loaded; skipped.")
        return
    demo = Demo(random.Random(19))
    failures = []
    for d in districts:
        for stage in STAGES:
            try:
                with transaction.atomic():
                    if stage.startswith("meeting"):
                        demo.meeting(d, hold=stage == "meeting_held")
                    else:
                        getattr(demo, stage)(d)
            except (DomainError, LookupError) as exc:
                failures.append(f"{stage} in {d.area.code}: {exc}")
    swept = actions.sweep_into_collaboration()
    open_ = Dossier.objects.filter(status=DossierStatus.OPEN).count()
    decided = Dossier.objects.filter(status=DossierStatus.DECIDED).count()
    stdout.write(f"collab: {open_} open and {decided} decided dossiers in {len(districts)} "
                 f"districts ({swept} swept in automatically, {len(failures)} stages failed).")
    for line in failures[:10]:
        stdout.write(f"collab: WARNING {line}")
