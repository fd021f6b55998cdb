"""Games in the admin: list, filter, and abort a game in progress.

Aborting goes through the referee (``service.abort``): the game ends without
a result, its sockets get a ``game.over`` event with reason ``aborted`` and
the moderator's note, then close with 4010 (CloseCode.GAME_ABORTED).
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from realtime.game import service
from realtime.models import ChatLine, Game, Move

ABORT_NOTE = "Aborted by a moderator."


class MoveInline(admin.TabularInline):
    model = Move
    extra = 0
    can_delete = False
    fields = ("number", "color", "x", "y", "player", "seq", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False  # moves are played, never typed in


class ChatInline(admin.TabularInline):
    """The game's chat, for a moderator: lines may be deleted, never typed in."""

    model = ChatLine
    extra = 0
    fields = ("created_at", "user", "role", "text")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Game)
class GameAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "status",
        "black",
        "white",
        "result",
        "reason",
        "clock_ms",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "result", "reason", "opening", "rated", "created_at")
    search_fields = ("black__username", "white__username")
    raw_id_fields = ("black", "white", "winner", "rematch_offered_by", "rematch")
    readonly_fields = ("board", "seq", "winning_line", "deadline", "turn_started_at")
    date_hierarchy = "created_at"
    inlines = [MoveInline, ChatInline]
    actions = ["abort_games"]

    @admin.action(description=_("Abort the selected games in progress"))
    def abort_games(self, request, queryset):
        aborted = sum(service.abort(game.pk, ABORT_NOTE) for game in queryset)
        self.message_user(
            request,
            ngettext("%d game aborted.", "%d games aborted.", aborted) % aborted,
            messages.SUCCESS if aborted else messages.WARNING,
        )
