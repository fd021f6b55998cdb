"""Live scores: competitions, teams, matches and their event timelines.

Every save of a ``Match`` or ``MatchEvent`` (admin form, simulator or code)
publishes the match's full state after commit (``realtime.scoreboard``), so
use ``save()``, not ``QuerySet.update()``, for changes viewers should see.
"""

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Competition(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(unique=True)
    # Grows with every change to a result of the competition, in the same
    # transaction: clients keep the standings with the highest rev.
    table_rev = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("scores-standings", args=[self.slug])


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=12)
    slug = models.SlugField(unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("scores-team", args=[self.pk])


class Match(models.Model):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("upcoming")
        LIVE = "live", _("live")
        HALF_TIME = "half_time", _("half-time")
        FINISHED = "finished", _("finished")

    competition = models.ForeignKey(
        Competition, on_delete=models.CASCADE, related_name="matches"
    )
    home = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    away = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    kickoff = models.DateTimeField(_("kick-off"))
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.SCHEDULED
    )
    minute = models.PositiveSmallIntegerField(default=0)
    home_score = models.PositiveSmallIntegerField(default=0)
    away_score = models.PositiveSmallIntegerField(default=0)
    # The simulator plays (and replays) only matches marked as simulated.
    simulated = models.BooleanField(default=False)
    # Grows with every save: clients keep the highest rev per match, so a
    # snapshot that raced a live update never rolls the score back.
    rev = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kickoff", "pk"]
        verbose_name_plural = "matches"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(home=models.F("away")), name="match_two_teams"
            )
        ]

    def __str__(self):
        return f"{self.home} - {self.away}"

    def save(self, *args, **kwargs):
        # From the row, not this object: an admin form loaded minutes ago must
        # still outrank the simulator's saves since.
        stored = Match.objects.filter(pk=self.pk).values_list("rev", flat=True)
        self.rev = ((stored.first() if self.pk else None) or 0) + 1
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "rev", "updated_at"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("scores-match", args=[self.pk])

    @classmethod
    def from_db(cls, db, field_names, values):
        match = super().from_db(db, field_names, values)
        match.remember_loaded()
        return match

    def remember_loaded(self):
        """What the row held when read, so a save can tell what changed."""
        self._loaded = (self.status, self.home_score, self.away_score)
        self._loaded_competition = self.competition_id


class MatchEvent(models.Model):
    class Kind(models.TextChoices):
        KICK_OFF = "kick_off", _("kick-off")
        GOAL = "goal", _("goal")
        CARD = "card", _("card")
        SUBSTITUTION = "substitution", _("substitution")
        HALF_TIME = "half_time", _("half-time")
        FULL_TIME = "full_time", _("full-time")

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    minute = models.PositiveSmallIntegerField(default=0)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    player = models.CharField(_("player"), max_length=100, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["minute", "pk"]

    def __str__(self):
        return f"{self.minute}' {self.get_kind_display()}"
