from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "citygrid.security"
    label = "security"
    verbose_name = "安全审计 Security"

    def ready(self) -> None:
        from citygrid.security import receivers

        receivers.connect()
