"""Instruments in the admin; open boards see each change without a reload.

Saving or deleting one instrument publishes through the model's signal
handler; the bulk actions below use ``update()``, which sends no signals, so
they publish themselves.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from realtime.models import Instrument, Quote
from realtime.quotes.service import publish_instruments_on_commit


class QuoteInline(admin.StackedInline):
    model = Quote
    can_delete = False
    readonly_fields = ["last", "open", "high", "low", "prev_close", "volume"]
    readonly_fields += ["updated_at"]
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False  # the feed writes quotes


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["symbol", "name", "kind", "currency", "reference_price"]
    list_display += ["volatility", "active"]
    list_filter = ["kind", "active", "currency"]
    search_fields = ["symbol", "name"]
    list_editable = ["active"]
    inlines = [QuoteInline]
    actions = ["activate", "deactivate"]

    @admin.action(description=_("Activate the selected instruments"))
    def activate(self, request, queryset):
        queryset.update(active=True)
        publish_instruments_on_commit()

    @admin.action(description=_("Deactivate the selected instruments"))
    def deactivate(self, request, queryset):
        queryset.update(active=False)
        publish_instruments_on_commit()
