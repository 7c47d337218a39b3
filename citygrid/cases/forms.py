"""Forms of the case pages. They only shape input: every rule (required reasons, photo checks,
scope, states) is the actions' to enforce, so the pages show the same errors the API gives."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from citygrid.cases.actions import DISPATCHABLE_KINDS, REPORTING_ROLES
from citygrid.cases.models import CaseState, Kind, OverdueLevel, Urgency
from citygrid.catalog.models import Category
from citygrid.inventory.models import State as ComponentState
from citygrid.org.models import Department, Source
from citygrid.org.scoping import AnyUser, is_superuser, roles_of, visible_areas, visible_departments

PAGE_SIZE = 25
SORTS = {
    "deadline": ("step_deadline", "created_at"),
    "-deadline": ("-step_deadline", "-created_at"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
}


def report_sources(user: AnyUser) -> list[tuple[str, str]]:
    """The sources the user may report from (REPORTING_ROLES; anyone may report for the public)."""
    held = roles_of(user)
    allowed = [
        (value, label) for value, label in Source.choices
        if is_superuser(user) or set(REPORTING_ROLES.get(value, ())) & held
    ]
    if not any(value == Source.PUBLIC for value, _label in allowed):
        allowed.append((Source.PUBLIC.value, Source.PUBLIC.label))
    return allowed


def class_choices(categories: Iterable[Category]) -> list[tuple[str, Any]]:
    """Minor and fine classes grouped under their major class (and kind), codes shown."""
    groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
    labels: dict[tuple[str, str], str] = {}
    for category in categories:
        major = category
        while major.parent is not None and major.level != "major":
            major = major.parent
        key = (category.kind, major.code)
        labels[key] = f"{Kind(category.kind).label} · {major.code} {major.name}"
        indent = "\u3000" if category.level == "fine" else ""
        groups.setdefault(key, []).append((category.code, f"{indent}{category.code} {category.name}"))
    return [(labels[key], options) for key, options in groups.items()]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several files under one name (checked by the actions, not here)."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        items = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(PhotosField, self).clean(item, initial) for item in items]


class ReportForm(forms.Form):
    source = forms.ChoiceField(label=_("Source"))
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, initial=Kind.EVENT)
    category_code = forms.ChoiceField(label=_("Class"))
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.ORDINARY)
    lon = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180,
                           widget=forms.NumberInput(attrs={"step": "any"}))
    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90,
                           widget=forms.NumberInput(attrs={"step": "any"}))
    address = forms.CharField(label=_("Address"), required=False, max_length=300)
    component_id = forms.CharField(label=_("Component id"), required=False, max_length=32)
    uninventoried = forms.BooleanField(label=_("The component is not in the inventory"), required=False,
                                       help_text=_("Leave the component id empty; the survey team is told."))
    description = forms.CharField(label=_("Description"), required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    photos = PhotosField(label=_("Photos (before)"), required=False,
                         help_text=_("JPEG, PNG or WebP, at most 10 MB each."),
                         widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, user: AnyUser, categories: Iterable[Category], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = report_sources(user)
        self.fields["category_code"].choices = [("", "—")] + class_choices(categories)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False)
    district = forms.ChoiceField(label=_("District"), required=False)
    category = forms.CharField(label=_("Class code"), required=False, max_length=32)
    level = forms.ChoiceField(label=_("Overdue level"), required=False)
    q = forms.CharField(label=_("Number or address"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"data-key": "/", "aria-keyshortcuts": "/"}))
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=[
        ("deadline", _("Deadline, earliest first")), ("-deadline", _("Deadline, latest first")),
        ("-created", _("Newest first")), ("created", _("Oldest first")),
    ])

    def __init__(self, *args: Any, user: AnyUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("Any"))] + list(CaseState.choices)
        self.fields["level"].choices = [("", _("Any"))] + [
            (v, label) for v, label in OverdueLevel.choices if v != OverdueLevel.NONE]
        districts = visible_areas(user).filter(level="district").order_by("code")
        self.fields["district"].choices = [("", _("Any"))] + [(a.code, a.name) for a in districts]


def dispatch_targets(user: AnyUser) -> Any:
    return (visible_departments(user).filter(active=True, kind__in=DISPATCHABLE_KINDS)
            .order_by("level", "code"))


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Department) -> str:
        return f"{obj.name} ({obj.code})"


class DepartmentsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Department) -> str:
        return f"{obj.name} ({obj.code})"


class OperationForm(forms.Form):
    """One operation on one case. `expected_version` is the version the page showed."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    role = forms.ChoiceField(label=_("Acting as"), required=False)

    def __init__(self, *args: Any, roles: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = roles
        if len(roles) == 1:
            self.fields["role"].widget = forms.HiddenInput()
            self.fields["role"].initial = roles[0][0]

    def action_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class NoteForm(OperationForm):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class CloseForm(NoteForm):
    """Closing; for a case about an inventoried component, its state now (e.g. intact)."""

    component_state = forms.ChoiceField(label=_("Component state now"), required=False,
                                        choices=[("", "—"), *ComponentState.choices])


class ReasonForm(OperationForm):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2, "data-required": "1"}))


class UrgeForm(OperationForm):
    message = forms.CharField(label=_("Message"), required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class MergeForm(OperationForm):
    duplicate_of = forms.CharField(label=_("Original case number"), required=False, max_length=32)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class DispatchForm(OperationForm):
    department = DepartmentChoiceField(label=_("Handling department"), queryset=Department.objects.none(),
                                       required=False)
    copies = DepartmentsField(label=_("Copies to"), queryset=Department.objects.none(), required=False,
                              widget=forms.SelectMultiple(attrs={"size": 5}))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, user: AnyUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        targets = dispatch_targets(user)
        self.fields["department"].queryset = targets
        self.fields["copies"].queryset = targets

    def action_kwargs(self) -> dict[str, Any]:
        data = super().action_kwargs()
        data["copies"] = list(data.get("copies") or [])
        return data


class RedispatchForm(DispatchForm):
    note = None  # type: ignore[assignment]
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class FeedbackForm(OperationForm):
    after_photo = forms.FileField(label=_("Photo after handling"), required=False,
                                  widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class PostponementForm(OperationForm):
    extension = forms.CharField(label=_("Extension"), required=False, max_length=40,
                                help_text=_("e.g. 2 working days, 4 hours, 3 工作日"))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class CheckForm(OperationForm):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))
