from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Duplex"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from realtime.core import sessions  # noqa: F401
        from realtime.notifications import sources as notification_sources  # noqa: F401
        from realtime.scores import service as scoreboard  # noqa: F401
