from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Duplex"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from realtime import notification_sources, scoreboard, sessions  # noqa: F401
