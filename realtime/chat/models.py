"""Chat rooms: rooms, their reliable event stream, and moderation.

Every change a client must see (a message, an edit, a deletion) is a
``RoomEvent`` with the room's next ``seq``, assigned under a lock on the room
row, so a room's seqs are contiguous and ordered and a reconnecting client can
replay exactly what it missed. ``Message`` holds each message's current state.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_MESSAGE_LENGTH = 4000  # hard ceiling for a room's own max_length
MAX_CID_LENGTH = 64  # a client's id for its message (chat.protocol.MAX_CID)


class Room(models.Model):
    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(
        _("slug"),
        max_length=60,
        unique=True,
        help_text=_("ASCII letters, digits, - and _: the room's URL."),
    )
    topic = models.CharField(_("topic"), max_length=200, blank=True)
    is_public = models.BooleanField(
        _("public"), default=True, help_text=_("Private rooms admit members only.")
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        blank=True,
        related_name="chat_rooms",
    )
    max_length = models.PositiveIntegerField(
        _("message length limit"),
        default=1000,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_MESSAGE_LENGTH)],
    )
    slow_mode_seconds = models.PositiveIntegerField(
        _("slow mode (seconds)"),
        default=0,
        help_text=_("Minimum seconds between two messages of one user (0: off)."),
    )
    closed = models.BooleanField(
        _("closed or archived"),
        default=False,
        help_text=_("Closing disconnects everyone; the room stays readable here."),
    )
    closed_reason = models.CharField(
        _("reason for closing"), max_length=200, blank=True
    )
    # The stream's head, and how far it has been published (see chat_service).
    last_seq = models.PositiveBigIntegerField(default=0, editable=False)
    published_seq = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # A direct-message room of two users: "<lower id>:<higher id>", one room
    # per pair (the unique constraint settles two starting it at once).
    direct_key = models.CharField(
        max_length=41, null=True, blank=True, unique=True, editable=False
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("chat room")
        verbose_name_plural = _("chat rooms")

    def __str__(self):
        return self.name

    @property
    def is_direct(self) -> bool:
        return self.direct_key is not None

    @property
    def stream(self) -> str:
        """The fan-out topic of the room (ASCII: the slug, never the name)."""
        return f"chat.room.{self.slug}"

    @property
    def place(self) -> str:
        """The presence place of the room."""
        return f"chat.{self.slug}"


class Message(models.Model):
    TEXT = "text"
    ANNOUNCEMENT = "announcement"
    KINDS = [(TEXT, _("message")), (ANNOUNCEMENT, _("announcement"))]

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="chat_messages",
    )
    author_name = models.CharField(_("author"), max_length=150)
    kind = models.CharField(max_length=16, choices=KINDS, default=TEXT)
    text = models.TextField(_("text"), blank=True)
    image = models.FileField(_("image"), upload_to="chat/", blank=True)
    seq = models.PositiveBigIntegerField(_("seq"), editable=False)
    created_at = models.DateTimeField(_("posted"), default=timezone.now)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    # The client's id for the message (chat.send's "cid"): a send repeated
    # after a reconnect finds the message it stored the first time.
    cid = models.CharField(
        _("client message id"), max_length=MAX_CID_LENGTH, blank=True, editable=False
    )
    # The message this one answers (chat.send's "reply_to"); the quote shows
    # the original as it is now, so an edit or a deletion reaches it too.
    reply_to = models.ForeignKey(
        "self",
        verbose_name=_("reply to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
    )

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="chat_message_seq"),
            models.UniqueConstraint(
                fields=["room", "author", "cid"],
                condition=~Q(cid=""),
                name="chat_message_cid",
            ),
        ]
        verbose_name = _("chat message")
        verbose_name_plural = _("chat messages")

    def __str__(self):
        return f"{self.author_name}: {self.text[:40]}"


class RoomEvent(models.Model):
    MESSAGE = "message"
    EDIT = "edit"
    DELETE = "delete"
    REACT = "react"
    KINDS = [
        (MESSAGE, "message"),
        (EDIT, "edit"),
        (DELETE, "delete"),
        (REACT, "react"),
    ]

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveBigIntegerField()
    kind = models.CharField(max_length=8, choices=KINDS)
    message = models.ForeignKey(Message, on_delete=models.CASCADE)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["room", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["room", "seq"], name="chat_event_seq")
        ]

    def __str__(self):
        return f"{self.room_id}#{self.seq} {self.kind}"


class Reaction(models.Model):
    """One user's emoji on one message: at most one of each kind (the set is
    fixed, ``chat.protocol.REACTIONS``)."""

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="reactions"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    emoji = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["message", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["message", "user", "emoji"], name="chat_reaction_once"
            )
        ]

    def __str__(self):
        return f"{self.emoji} on {self.message_id}"


class ReadMark(models.Model):
    """How far a user has read a room: the room's seq they last saw, shared
    by every tab and device they use."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "room"], name="chat_read_once")
        ]

    def __str__(self):
        return f"{self.user_id} read {self.room_id} to {self.seq}"


class ActiveQuerySet(models.QuerySet):
    def active(self):
        return self.filter(Q(until__isnull=True) | Q(until__gt=timezone.now()))


class Sanction(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, verbose_name=_("room"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, verbose_name=_("user")
    )
    until = models.DateTimeField(
        _("until"), null=True, blank=True, help_text=_("Empty: for good.")
    )
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ActiveQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user} @ {self.room}"


class Mute(Sanction):
    class Meta(Sanction.Meta):
        verbose_name = _("mute")
        verbose_name_plural = _("mutes")


class Ban(Sanction):
    class Meta(Sanction.Meta):
        verbose_name = _("ban")
        verbose_name_plural = _("bans")
