from __future__ import annotations

from citygrid.cases import actions

STREET = "510104002"  # event 06 → standard process, 510104-HW


def report(people, place, area=STREET, code="06002", who="city_inspector_1"):
    lon, lat = place(area)
    return actions.report_case(people[who], source="city_inspector", kind="event",
                               category_code=code, lon=lon, lat=lat)


def filed(people, place, **kw):
    case = report(people, place, **kw)
    return actions.file_case(people["intake_operator_jinjiang"], case.pk)


def dispatched(people, place, department="510104-HW", **kw):
    case = filed(people, place, **kw)
    return actions.dispatch_case(people["dispatcher_jinjiang"], case.pk, department=department)


def without_rules(code, area=STREET, kind="event"):
    """Deactivates every rule that routes `code` at `area` until none matches."""
    from django.db.models import Q

    from citygrid.catalog.models import Category
    from citygrid.org.models import ResponsibilityRule

    chain = []
    for node in Category.objects.filter(code=code, kind=kind):
        while node is not None:
            chain.append(node.pk)
            node = node.parent
    ResponsibilityRule.objects.filter(Q(category_id__in=chain) | Q(category__isnull=True)).update(active=False)
