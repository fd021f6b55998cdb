"""Playwright driving Debian's Chromium against real daphne processes."""

import os

import pytest
from django.db import connections
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch):
    """Playwright's sync API keeps an event loop in the test thread, which makes
    Django refuse ORM calls; they are plain blocking calls here, so allow them."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")


@pytest.fixture
def browser():
    """A fresh Chromium per test: Playwright's sync API runs an event loop in the
    test thread while it lives, which must be gone before async tests run."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield browser
        # ORM calls made while Playwright's loop ran keep their connection in
        # that loop's context (asgiref.local): close it there, or it outlives
        # the test and blocks dropping the test database.
        connections.close_all()
        browser.close()


@pytest.fixture
def new_page(browser):
    """Open pages in fresh browser contexts, one per visitor; closed at teardown."""
    contexts = []

    def open_page(base_url: str, **context_options):
        context = browser.new_context(base_url=base_url, **context_options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def login_page(new_page, session_for):
    """``login_page(server, user)``: a page in a new context, logged in as ``user``."""
    from django.conf import settings as django_settings

    def open_as(server, user, **context_options):
        page = new_page(server.url, **context_options)
        key = session_for(user)
        page.context.add_cookies(
            [
                {
                    "name": django_settings.SESSION_COOKIE_NAME,
                    "value": key,
                    "url": server.url,
                }
            ]
        )
        return page

    return open_as
