"""The site's pages and HTTP endpoints."""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import JavaScriptCatalog

from realtime.chat import views as chat
from realtime.core import health
from realtime.core import metrics_view as metrics
from realtime.echo import views as echo
from realtime.game import views as game
from realtime.notifications import views as notes
from realtime.quotes import views as quote_views
from realtime.scores import views as scores
from realtime.site import accounts, profiles
from realtime.site import views as pages
from realtime.tokens import views as tokens

FOLLOW, UNFOLLOW = {"following": True}, {"following": False}

urlpatterns = [
    path("", pages.home, name="home"),
    path("echo/", echo.echo, name="echo"),
    path("echo/tutorials/", echo.tutorials, name="echo-tutorials"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("livez", health.livez, name="livez"),
    path("readyz", health.readyz, name="readyz"),
    path("healthz", health.readyz, name="healthz"),  # the older name of /readyz
    path("metrics", metrics.metrics_view, name="metrics"),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("scores/", scores.scores, name="scores"),
    path("scores/<int:pk>/", scores.match, name="scores-match"),
    path("scores/teams/<int:pk>/", scores.team, name="scores-team"),
    path(
        "scores/competitions/<slug:slug>/",
        scores.standings,
        name="scores-standings",
    ),
    path("notifications/", notes.notification_list, name="notifications"),
    path(
        "notifications/settings/",
        notes.notification_settings,
        name="notifications-settings",
    ),
    path("notifications/read/", notes.read_all, name="notifications-read-all"),
    path("notifications/alerts/", notes.add_alert, name="alert-add"),
    path(
        "notifications/alerts/<int:pk>/delete/",
        notes.delete_alert,
        name="alert-delete",
    ),
    path("settings/tokens/", tokens.tokens, name="tokens"),
    path("settings/tokens/<int:pk>/revoke/", tokens.revoke, name="token-revoke"),
    path("users/<str:username>/", profiles.profile, name="profile"),
    path("users/<str:username>/message/", chat.start_direct, name="chat-direct"),
    # Follow endpoints (POST, CSRF) that team, profile, chat and quotes pages call;
    # without a target in the path, it comes from the form (the settings page).
    path("notifications/follow/team/", notes.follow_team, FOLLOW, "follow-team-form"),
    path("notifications/follow/user/", notes.follow_user, FOLLOW, "follow-user-form"),
    path("notifications/follow/room/", notes.follow_room, FOLLOW, "follow-room-form"),
    path(
        "notifications/follow/team/<int:pk>/", notes.follow_team, FOLLOW, "follow-team"
    ),
    path(
        "notifications/unfollow/team/<int:pk>/",
        notes.follow_team,
        UNFOLLOW,
        "unfollow-team",
    ),
    path(
        "notifications/follow/user/<str:username>/",
        notes.follow_user,
        FOLLOW,
        "follow-user",
    ),
    path(
        "notifications/unfollow/user/<str:username>/",
        notes.follow_user,
        UNFOLLOW,
        "unfollow-user",
    ),
    path(
        "notifications/follow/room/<slug:slug>/",
        notes.follow_room,
        FOLLOW,
        "follow-room",
    ),
    path(
        "notifications/unfollow/room/<slug:slug>/",
        notes.follow_room,
        UNFOLLOW,
        "unfollow-room",
    ),
    path("quotes/", quote_views.board, name="quotes"),
    path("quotes/polling/", quote_views.polling, name="quotes-polling"),
    path("quotes/compare/", quote_views.compare, name="quotes-compare"),
    path("quotes/api/latest/", quote_views.latest, name="quotes-latest"),
    path("quotes/api/wait/", quote_views.wait, name="quotes-wait"),
    path(
        "quotes/api/history/<str:symbol>/",
        quote_views.history,
        name="quotes-history",
    ),
    path(
        "quotes/api/candles/<str:symbol>/",
        quote_views.candles,
        name="quotes-candles",
    ),
    path("quotes/api/watchlist/", quote_views.watchlist, name="quotes-watchlist"),
    path("chat/", chat.index, name="chat"),
    path("chat/<slug:slug>/", chat.room, name="chat-room"),
    path("chat/<slug:slug>/upload/", chat.upload, name="chat-upload"),
    path("chat/<slug:slug>/search/", chat.search, name="chat-search"),
    path("chat/<slug:slug>/messages/<int:seq>/", chat.message, name="chat-message"),
    path("game/", game.lobby, name="game"),
    path("game/leaderboard/", game.leaderboard, name="game-leaderboard"),
    path("game/<int:game_id>/", game.board, name="game-board"),
    path("game/<int:game_id>/replay/", game.replay, name="game-replay"),
    path("game/players/<str:username>/", game.record, name="game-record"),
]
