"""Admin for live scores. Saving a match or an event publishes after commit
(``realtime.scoreboard``'s ``post_save`` receivers), so the admin needs no
publishing code of its own and code outside the admin behaves the same."""

from django.contrib import admin

from realtime.models import Competition, Match, MatchEvent, Team


@admin.register(Competition)
class CompetitionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "slug"]
    search_fields = ["name", "short_name"]
    prepopulated_fields = {"slug": ["name"]}


class MatchEventInline(admin.TabularInline):
    model = MatchEvent
    extra = 1
    fields = ["minute", "kind", "team", "player", "detail"]


@admin.register(Match)
class MatchAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "competition",
        "kickoff",
        "status",
        "minute",
        "home_score",
        "away_score",
    ]
    list_editable = ["status", "minute", "home_score", "away_score"]
    list_filter = ["competition", "status"]
    autocomplete_fields = ["home", "away"]
    inlines = [MatchEventInline]


@admin.register(MatchEvent)
class MatchEventAdmin(admin.ModelAdmin):
    list_display = ["match", "minute", "kind", "team", "player"]
    list_filter = ["kind"]
