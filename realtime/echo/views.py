"""The echo playground's page."""

from django.shortcuts import render


def echo(request):
    return render(request, "realtime/echo.html")
