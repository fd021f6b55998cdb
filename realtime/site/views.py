"""The site's plain pages: home."""

from django.shortcuts import render


def home(request):
    return render(request, "realtime/home.html")
