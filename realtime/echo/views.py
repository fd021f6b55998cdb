"""The echo playground's pages."""

from django.shortcuts import render

from realtime.echo.tutorials import TUTORIALS, aimed_at, script_of


def echo(request):
    return render(request, "realtime/echo.html")


def tutorials(request):
    """The classic tutorial pages, shown and run against this server's ``/echo``."""
    scheme = "wss" if request.is_secure() else "ws"
    url = f"{scheme}://{request.get_host()}/echo"
    pages = [
        {
            "name": name,
            "slug": name.removesuffix(".html"),
            "source": aimed_at(page, url),
            "script": script_of(aimed_at(page, url)),
            "language": language,
            "link": link,
        }
        for name, (page, language, link) in TUTORIALS.items()
    ]
    return render(request, "realtime/echo_tutorials.html", {"pages": pages, "url": url})
