"""Admin for notifications, follows and price alerts (support and debugging).

Alert changes reload every process' alert book after commit (a receiver in
``realtime.notification_sources``), from here as from the settings page.
"""

from django.contrib import admin

from realtime.models import (
    Notification,
    PriceAlert,
    RoomFollow,
    TeamFollow,
    UserFollow,
)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "seq", "kind", "title", "read", "created_at"]
    list_filter = ["kind", "read"]
    search_fields = ["user__username", "title"]
    readonly_fields = ["user", "seq"]


@admin.register(PriceAlert)
class PriceAlertAdmin(admin.ModelAdmin):
    list_display = ["user", "symbol", "direction", "level", "armed", "fired_count"]
    list_filter = ["direction", "armed"]
    search_fields = ["user__username", "symbol"]


admin.site.register([TeamFollow, UserFollow, RoomFollow])
