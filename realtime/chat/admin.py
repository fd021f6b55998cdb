"""Chat moderation: every change that open clients must see reaches them live.

Deletions and announcements are events on the room's stream (through
``chat_service``); bans, mutes, closes and access changes are control events,
published after commit to every process.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from realtime.chat import service
from realtime.chat.models import Ban, Message, Mute, Room
from realtime.core.presence import members_from_thread

MUTE_MINUTES = 10


class RoomForm(forms.ModelForm):
    announcement = forms.CharField(
        label=_("Post an announcement"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Shown at once to everyone in the room, and kept in its history."),
    )

    class Meta:
        model = Room
        fields = [
            "name",
            "slug",
            "topic",
            "is_public",
            "members",
            "max_length",
            "slow_mode_seconds",
            "closed",
            "closed_reason",
        ]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    form = RoomForm
    list_display = ["name", "slug", "is_public", "online", "closed", "last_seq"]
    list_filter = ["is_public", "closed"]
    search_fields = ["name", "slug", "topic"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]
    actions = ["close_rooms", "reopen_rooms"]

    @admin.display(description=_("online now"))
    def online(self, room):
        return len(members_from_thread(room.place))

    def save_model(self, request, obj, form, change):
        was = Room.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        if was is not None and obj.closed and not was.closed:
            service.close_room(obj, obj.closed_reason)
        if was is not None and was.is_public != obj.is_public:
            service.notify_access_changed(obj)
        text = form.cleaned_data.get("announcement", "").strip()
        if text:
            service.announce(obj.pk, text, by=request.user)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and "members" in form.changed_data:
            service.notify_access_changed(form.instance)

    @admin.action(description=_("Close the selected rooms (disconnects everyone)"))
    def close_rooms(self, request, queryset):
        rooms = list(queryset.filter(closed=False))
        for room in rooms:
            service.close_room(room, room.closed_reason)
        self.message_user(request, _("Closed %d room(s).") % len(rooms))

    @admin.action(description=_("Reopen the selected rooms"))
    def reopen_rooms(self, request, queryset):
        count = queryset.update(closed=False)
        self.message_user(request, _("Reopened %d room(s).") % count)


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["seq", "room", "author_name", "short_text", "created_at", "gone"]
    list_filter = [
        "room",
        ("author", admin.RelatedOnlyFieldListFilter),
        "kind",
        ("deleted_at", admin.EmptyFieldListFilter),
    ]
    search_fields = ["text", "author_name"]
    list_select_related = ["room"]
    readonly_fields = ["room", "author", "author_name", "kind", "seq", "created_at"]
    readonly_fields += ["edited_at", "deleted_at", "image", "text"]
    actions = ["delete_selected", "mute_authors", "ban_authors"]

    @admin.display(description=_("text"))
    def short_text(self, message):
        return message.text[:80]

    @admin.display(description=_("deleted"), boolean=True)
    def gone(self, message):
        return message.deleted_at is not None

    def has_add_permission(self, request):
        return False  # messages come from the rooms; announcements from a room's form

    def has_change_permission(self, request, obj=None):
        return False  # an edit would bypass the room's stream

    def delete_model(self, request, obj):
        """Delete for everyone: an event on the room's stream, not a row removal."""
        service.delete_message(obj.pk, moderator=True)

    def delete_queryset(self, request, queryset):
        for pk in queryset.values_list("pk", flat=True):
            service.delete_message(pk, moderator=True)

    @admin.action(description=_("Mute the authors in their room for 10 minutes"))
    def mute_authors(self, request, queryset):
        until = timezone.now() + timedelta(minutes=MUTE_MINUTES)
        pairs = _author_pairs(queryset)
        for room, user in pairs:
            mute = Mute.objects.create(
                room=room, user=user, until=until, created_by=request.user
            )
            service.notify_mute(mute)
        self.message_user(request, _("Muted %d author(s).") % len(pairs))

    @admin.action(description=_("Ban the authors from their room"))
    def ban_authors(self, request, queryset):
        pairs = _author_pairs(queryset)
        for room, user in pairs:
            reason = str(_("Banned by a moderator."))
            ban = Ban.objects.create(
                room=room, user=user, reason=reason, created_by=request.user
            )
            service.notify_ban(ban)
        message = ngettext("Banned %d author.", "Banned %d authors.", len(pairs))
        self.message_user(request, message % len(pairs), messages.SUCCESS)


def _author_pairs(queryset):
    rows = queryset.filter(author__isnull=False, kind=Message.TEXT)
    return list({(m.room, m.author) for m in rows.select_related("room", "author")})


class SanctionAdmin(admin.ModelAdmin):
    list_display = ["user", "room", "until", "reason", "created_by", "created_at"]
    list_filter = ["room"]
    search_fields = ["user__username", "reason"]
    exclude = ["created_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        self.notify(obj)


@admin.register(Mute)
class MuteAdmin(SanctionAdmin):
    notify = staticmethod(service.notify_mute)

    def get_changeform_initial_data(self, request):
        until = timezone.now() + timedelta(minutes=MUTE_MINUTES)
        return {**super().get_changeform_initial_data(request), "until": until}


@admin.register(Ban)
class BanAdmin(SanctionAdmin):
    notify = staticmethod(service.notify_ban)
