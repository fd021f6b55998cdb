"""The site's pages and HTTP endpoints."""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.i18n import JavaScriptCatalog

from realtime.views import accounts, health, pages
from realtime.views import quotes as quote_views

urlpatterns = [
    path("", pages.home, name="home"),
    path("echo/", pages.echo, name="echo"),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("quotes/", quote_views.board, name="quotes"),
    path("quotes/polling/", quote_views.polling, name="quotes-polling"),
    path("quotes/compare/", quote_views.compare, name="quotes-compare"),
    path("quotes/api/latest/", quote_views.latest, name="quotes-latest"),
    path(
        "quotes/api/history/<str:symbol>/",
        quote_views.history,
        name="quotes-history",
    ),
    path("quotes/api/watchlist/", quote_views.watchlist, name="quotes-watchlist"),
]
