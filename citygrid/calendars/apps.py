from django.apps import AppConfig


class CalendarsConfig(AppConfig):
    name = "citygrid.calendars"
    label = "calendars"
    verbose_name = "工作日历 Calendars"

    def ready(self) -> None:
        from citygrid.calendars import checks  # noqa: F401 - registers the system checks
