from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_noop

# settings.SITE_NAME is marked in settings.py, outside any app's locale folder; naming the
# msgid here lets `makemessages` in citygrid/web collect it into our catalogue.
SITE_NAME_MSGID = gettext_noop("citygrid digital city management")


def site(request: HttpRequest) -> dict[str, Any]:
    return {"SITE_NAME": settings.SITE_NAME}
