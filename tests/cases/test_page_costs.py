"""What the desk's busiest pages cost in SQL statements (issue 10), pinned so that a regression
shows: each queue page and the case page, for users holding realistic roles, and the same
count whether a page shows one row or four (no statement per row). Also: the cheaper ways
these pages write their HTML write what Django's templates wrote."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django import forms
from django.db import connection
from django.forms.renderers import DjangoTemplates
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from citygrid.cases import actions, views
from citygrid.cases.forms import DispatchForm, QueueFilterForm
from citygrid.cases.templatetags.case_rows import queue_row, timeline_item
from citygrid.org import actions as org_actions
from citygrid.org.models import Person, Role
from citygrid.space.models import Area
from tests.cases.conftest import png
from tests.cases.test_pages import detail_url, report, to_dispatch, to_handling

JINJIANG = "510104"
DESK = "dispatcher_jinjiang"  # given the intake operator's and the shift leader's roles too


def statements(client: Any, url: str) -> int:
    client.get(url)  # the first request of a session may write it
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def _to_close(people: Any, place: Any) -> Any:
    case = to_handling(people, place)
    case = actions.feedback_case(people["handler_jinjiang_hw"], case.pk, after_photo=png())
    return actions.check_case(people["district_inspector_jinjiang"], case.pk, passed=True, photos=[png()])


def fill_queues(people: Any, place: Any, n: int) -> None:
    """`n` cases in each desk queue of Jinjiang: to file, to dispatch, handling, to close."""
    for _ in range(n):
        report(people, place)
        to_dispatch(people, place)
        to_handling(people, place)
        _to_close(people, place)


@pytest.fixture
def desk(people: Any) -> Any:
    """A centre operator holding three of the desk's roles in one district, as centres staff them."""
    user = people[DESK]
    jinjiang = Area.objects.get(code=JINJIANG)
    person = Person.objects.get(user=user)
    for role in (Role.INTAKE_OPERATOR, Role.SHIFT_LEADER):
        org_actions.assign_role(None, person, role, areas=[jinjiang])
    return user


# Session, user, the user's roles and scopes (one statement), their areas or departments, the
# district menu, the page's count and rows; a tab count for each other role the user holds.
# Pinned exactly: fewer is news too (a scope check gone?).
QUEUE_PAGES = [
    (DESK, "dispatcher", 9), (DESK, "intake_operator", 9), (DESK, "shift_leader", 9),
    ("handler_jinjiang_hw", "handler", 7),
]


@pytest.mark.parametrize(("who", "role", "pinned"), QUEUE_PAGES)
def test_queue_page_statements_are_pinned_and_do_not_grow_with_rows(client, people, place, desk, who,
                                                                   role, pinned):
    fill_queues(people, place, 1)
    client.force_login(people[who])
    url = f"{reverse('cases:queue')}?role={role}"
    few = statements(client, url)
    fill_queues(people, place, 3)
    many = statements(client, url)
    assert (few, many) == (pinned, pinned)
    page = client.get(url).content.decode()
    assert len(re.findall(r'<tr class="row-', page)) >= 3  # rows shown, not an empty queue


def test_queue_refresh_statements_are_pinned(client, people, place, desk):
    """The page's refresh every 30 s (htmx): no tab counts, no filter form without filters."""
    fill_queues(people, place, 2)
    client.force_login(people[DESK])
    url = f"{reverse('cases:queue')}?role=dispatcher&page=1"
    client.get(url)
    for query, pinned in (("", 6), ("&q=5101", 7)):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url + query, HTTP_HX_REQUEST="true")
        assert response.status_code == 200 and "<html" not in response.content.decode()
        assert len(captured.captured_queries) == pinned


# Session, user, roles and scopes, the user's areas (dispatcher) or departments (handler), the
# case (two statements), its events, photos and copies, the map's bounds; for "may I?" the
# chain of the case's area (dispatcher) or of the holding department and its area (handler);
# the dispatcher's page also reads the dispatch menus' departments (after the areas above the
# user's) and searches for duplicates.
CASE_PAGES = [(DESK, to_dispatch, 14), ("handler_jinjiang_hw", to_handling, 12)]


@pytest.mark.parametrize(("who", "setup", "pinned"), CASE_PAGES)
def test_case_page_statements_are_pinned(client, people, place, desk, who, setup, pinned):
    case = setup(people, place)
    client.force_login(people[who])
    assert statements(client, detail_url(case)) == pinned


def test_case_page_statements_do_not_grow_with_its_history(client, people, place, desk):
    short = to_handling(people, place)
    long = report(people, place, photos=[png(), png()])
    long = actions.file_case(people["intake_operator_jinjiang"], long.pk)
    long = actions.dispatch_case(people[DESK], long.pk, department="510104-HW", copies=["CITY-CGW"])
    long = actions.accept_case(people["handler_jinjiang_hw"], long.pk)
    long = actions.request_postponement(people["handler_jinjiang_hw"], long.pk, extension="1 working day",
                                        reason="材料")
    long = actions.approve_postponement(people[DESK], long.pk)
    assert (long.state, short.state) == ("handling", "handling") and long.version > short.version
    for who in ("handler_jinjiang_hw", DESK):
        client.force_login(people[who])
        assert statements(client, detail_url(long)) == statements(client, detail_url(short))


def test_case_api_statements_are_pinned(people, place, desk):
    from tests.cases.test_api import token_client

    case = to_handling(people, place)
    client = token_client(people["handler_jinjiang_hw"])
    # Token, roles and scopes, departments, the case (two), photos, copies, two chains for "may I?"
    assert statements(client, f"/api/v1/cases/{case.number}") == 9
    # Token, roles and scopes, departments, the rows (a short page needs no count)
    assert statements(client, "/api/v1/queues/handler?limit=20") == 4


# --- The same HTML ---------------------------------------------------------------------------------


def _fields(form: forms.Form) -> dict[str, str]:
    return {name: str(form[name]) for name in form.fields}


def test_widget_renderer_writes_what_djangos_templates_write(people, place):
    user = people[DESK]
    bound = {"state": "handling", "district": JINJIANG, "level": "red", "sort": "-created", "q": '<b>"'}
    for data in (None, bound, {"state": "sleeping", "district": "510105"}):
        ours = QueueFilterForm(data, user=user, renderer=views.WIDGET_RENDERER)
        django = QueueFilterForm(data, user=user, renderer=DjangoTemplates())
        ours.is_valid(), django.is_valid()
        assert _fields(ours) == _fields(django)
    for roles in ([("dispatcher", "派遣员")], [("dispatcher", "派遣员"), ("shift_leader", "<值班长>")]):
        for operation, spec in views.OPERATIONS.items():
            posted = {f"{operation}-{name}": value for name, value in (
                ("expected_version", "x"), ("reason", 'a <b> & "c"'), ("note", ""), ("department", "999999"),
                ("copies", "1"), ("extension", "2 days"), ("duplicate_of", "<1>"))}
            for data in (None, posted):
                kwargs: dict[str, Any] = {"roles": roles, "prefix": operation, "initial": {"expected_version": 3}}
                if issubclass(spec.form, DispatchForm):
                    kwargs["user"] = user
                ours = spec.form(data, renderer=views.WIDGET_RENDERER, **kwargs)
                django = spec.form(data, renderer=DjangoTemplates(), **kwargs)
                if data is None and isinstance(ours, DispatchForm):
                    views._share_targets(ours)  # and the menus it fills are the same
                ours.is_valid(), django.is_valid()
                assert _fields(ours) == _fields(django), operation

    class Grouped(forms.Form):
        kind = forms.ChoiceField(choices=[("", "—"), ("部件", [("a", "A & B"), ("b", "<b>")]),
                                          ("event", "Event")])
        many = forms.MultipleChoiceField(choices=[("1", "one"), ("2", "two")], initial=["2"])
        text = forms.CharField(widget=forms.Textarea, initial="x < y")
        count = forms.IntegerField(initial=3)

    assert _fields(Grouped(renderer=views.WIDGET_RENDERER)) == _fields(Grouped(renderer=DjangoTemplates()))


# The queue row as the template wrote it before `queue_row` (issue 10).
TEMPLATE_ROW = """{% load i18n %}<tr class="row-{{ level }}" data-number="{{ case.number }}">
<td><a href="{% url 'cases:detail' case.number %}"><code>{{ case.number }}</code></a>
{% if case.urgency != "ordinary" %}<span class="tag tag-urgent">{{ case.get_urgency_display }}</span>{% endif %}
{% if case.needs_collaboration %}<span class="tag">{% translate "collaboration" %}</span>{% endif %}</td>
<td>{{ case.get_state_display }}{% if case.step %}<br><span class="muted">{{ case.get_step_display }}</span>{% endif %}</td>
<td><code>{{ case.category.code }}</code> {{ case.category.name }}</td>
<td>{{ case.district.name }}{% if case.street %} · {{ case.street.name }}{% endif %}{% if case.community %} · {{ case.community.name }}{% endif %}
{% if case.address %}<br><span class="muted">{{ case.address }}</span>{% endif %}</td>
<td>{{ case.holder_department.name|default:"—" }}{% if case.holder_person %}<br><span class="muted">{{ case.holder_person.display_name }}</span>{% endif %}</td>
<td>{% if case.step_deadline %}{{ case.step_deadline|date:"Y-m-d H:i" }}{% if case.deadline_provisional %} <span class="tag" title="{% translate 'The holiday schedule of that year is not confirmed yet' %}">{% translate "provisional" %}</span>{% endif %}{% else %}—{% endif %}</td>
<td>{% include "cases/_level.html" %}</td>
</tr>"""


def _same_markup(html: str) -> str:
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_queue_row_writes_what_the_template_wrote(people, place, language):
    from django.utils import translation

    plain = report(people, place, address="")
    handled = to_handling(people, place)
    handled.urgency, handled.needs_collaboration, handled.deadline_provisional = "urgent", True, True
    handled.address = 'Lane <5> & "B"'
    handled.save()
    late = to_dispatch(people, place)
    late.step_warn_at = timezone.now() - timedelta(hours=1)
    late.step_deadline = timezone.now() + timedelta(hours=1)
    late.save()
    cases = [plain, handled, late]
    with translation.override(language):
        qs = (views.Case.objects.filter(pk__in=[c.pk for c in cases]).select_related(None)
              .only(*views._ROW_FIELDS).annotate(**views._ROW_NAMES).order_by("pk"))
        rows = views._queue_rows(qs)
        template = engines["django"].from_string(TEMPLATE_ROW)
        for row, case in zip(rows, cases, strict=True):
            case = views.Case.objects.select_related(
                "category", "district", "street", "community", "holder_department", "holder_person").get(pk=case.pk)
            expected = template.render({"case": case, "level": actions.level_of(case)})
            assert _same_markup(queue_row(row)) == _same_markup(expected)
    assert {r["level"] for r in rows} >= {"yellow"} and any(r["person"] for r in rows)


# A timeline event as the template wrote it before `timeline_item` (issue 10).
TEMPLATE_EVENT = """{% load i18n %}<li data-seq="{{ row.event.seq }}" data-operation="{{ row.event.operation }}" data-to="{{ row.event.to_state }}">
<div class="tl-head"><strong>{{ row.operation|capfirst }}</strong>
<span class="muted">{{ row.event.at|date:"Y-m-d H:i:s" }}</span></div>
<div>{{ row.who }} <span class="muted">({{ row.role }})</span> ·
{% if row.from %}{{ row.from }} → {% endif %}<strong>{{ row.to }}</strong></div>
{% if row.inputs %}<details class="tl-more"{% if row.inputs|length <= 4 %} open{% endif %}><summary class="muted">{% translate "Inputs" %} ({{ row.inputs|length }})</summary>
<dl class="tl-inputs">{% for key, value in row.inputs %}<dt>{{ key }}</dt><dd>{{ value }}</dd>{% endfor %}</dl></details>{% endif %}
<code class="hash" title="{{ row.event.hash }}">#{{ row.event.seq }} {{ row.event.hash|slice:":12" }}</code>
</li>"""


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_timeline_item_writes_what_the_template_wrote(people, place, language):
    from django.utils import translation

    case = report(people, place, address="<东大街> & 1", description="很多\n字")
    case = actions.file_case(people["intake_operator_jinjiang"], case.pk, note="立案")
    case = actions.dispatch_case(people[DESK], case.pk, department="510104-HW", copies=["CITY-CGW"],
                                 note="请处理")
    case = actions.accept_case(people["handler_jinjiang_hw"], case.pk)
    case = actions.request_postponement(people["handler_jinjiang_hw"], case.pk, extension="1 working day",
                                        reason="材料")
    events = list(views.CaseEvent.objects.filter(case=case).select_related("actor").order_by("seq"))
    template = engines["django"].from_string(TEMPLATE_EVENT)
    with translation.override(language):
        rows = views._event_rows(events)
        variants = [{**rows[1], "inputs": [("<k>", f"v{i}") for i in range(n)]} for n in (0, 1, 4, 5)]
        for row in rows + variants:
            assert _same_markup(timeline_item(row)) == _same_markup(template.render({"row": row}))
    assert len(rows) == 5 and any(not r["from"] for r in rows) and any(len(r["inputs"]) > 4 for r in rows)
