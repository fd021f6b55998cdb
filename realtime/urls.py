"""The site's pages and HTTP endpoints."""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import JavaScriptCatalog

from realtime.views import accounts, game, health, pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("echo/", pages.echo, name="echo"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("game/", game.lobby, name="game"),
    path("game/<int:game_id>/", game.board, name="game-board"),
    path("game/<int:game_id>/replay/", game.replay, name="game-replay"),
    path("game/players/<str:username>/", game.record, name="game-record"),
]
