"""The site's plain pages: home and the echo playground."""

from django.shortcuts import render


def home(request):
    return render(request, "realtime/home.html")


def echo(request):
    return render(request, "realtime/echo.html")
