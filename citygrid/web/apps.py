from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "citygrid.web"
    label = "web"

    def ready(self) -> None:
        from citygrid.web import checks  # noqa: F401 - registers the system checks
