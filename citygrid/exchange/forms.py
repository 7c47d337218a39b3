from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from citygrid.exchange.models import PublicService

WEB_DESCRIPTION_LIMIT = 2000


def service_choices(services: list[PublicService]) -> list[Any]:
    """Services grouped by their plain-language group, in the page's language."""
    english = (get_language() or "").startswith("en")
    groups: dict[str, list[tuple[str, str]]] = {}
    for s in services:
        group = s.group_en if english else s.group
        groups.setdefault(group, []).append((s.service_code, s.name_en if english else s.name))
    return [("", _("Choose what is wrong"))] + [(g, items) for g, items in groups.items()]


class ReportForm(forms.Form):
    service = forms.ChoiceField(label=_("What is wrong?"))
    description = forms.CharField(label=_("Describe the problem"), required=False,
                                  max_length=WEB_DESCRIPTION_LIMIT,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    photo = forms.FileField(label=_("Photo"), required=False,
                            widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp",
                                                                   "capture": "environment"}))
    lon = forms.FloatField(widget=forms.HiddenInput, required=False)
    lat = forms.FloatField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Your name"), required=False, max_length=100)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    email = forms.EmailField(label=_("E-mail"), required=False)
    nonce = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args: Any, services: list[PublicService], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.services = {s.service_code: s for s in services}
        self.fields["service"].choices = service_choices(services)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        lon, lat = data.get("lon"), data.get("lat")
        if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise forms.ValidationError(_("Tap the map to mark where the problem is."),
                                        code="location")
        return data
