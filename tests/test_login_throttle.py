"""Password guessing is throttled per account and per address; real logins work."""

import time

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
THROTTLED = "Too many failed attempts; try again in"


@pytest.fixture(params=["locmem", "redis"], autouse=True)
def shared_cache(request, settings):
    """Each test on the local-memory cache (development) and on Redis."""
    if request.param == "redis":
        request.getfixturevalue("redis_cache")
    settings.DUPLEX = {
        **settings.DUPLEX,
        "LOGIN_FAILURES": 3,
        "LOGIN_ADDRESS_FAILURES": 5,
        "LOGIN_WINDOW": 900,
    }


@pytest.fixture
def people(ann, bob):
    return ann, bob


def log_in(client, username, password, address="203.0.113.7"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def logged_in(response) -> bool:
    return response.status_code == 302


def test_guessing_one_accounts_password_is_stopped_with_a_clear_message(people):
    """After LOGIN_FAILURES wrong passwords the form says to wait, and even the
    right password is not evaluated meanwhile."""
    client = Client()
    for n in range(3):
        response = log_in(client, "ann", f"guess-{n}")
        assert response.status_code == 200 and THROTTLED not in response.text
    response = log_in(client, "ann", "pw-ann-123")
    assert response.status_code == 429 and not logged_in(response)
    assert f"{THROTTLED} 15 minutes." in response.text
    assert not client.get("/").context["user"].is_authenticated


def test_another_account_from_the_same_address_still_logs_in(people):
    """The per-account lock does not lock out others behind the same address."""
    client = Client()
    for n in range(3):
        log_in(client, "ann", f"guess-{n}")
    assert not logged_in(log_in(client, "ann", "pw-ann-123"))
    assert logged_in(log_in(Client(), "bob", "pw-bob-123"))


def test_one_address_guessing_many_accounts_is_stopped(people):
    """Failures from one address add up across accounts; other addresses log in."""
    client = Client()
    for n in range(5):
        log_in(client, f"user{n}", "guess")
    response = log_in(client, "bob", "pw-bob-123")
    assert response.status_code == 429 and THROTTLED in response.text
    assert logged_in(log_in(Client(), "bob", "pw-bob-123", address="198.51.100.2"))


def test_a_real_login_works_again_after_the_window(people, settings):
    """Once LOGIN_WINDOW has passed since the first failure, the owner logs in."""
    # Wide enough for three password checks on a loaded machine.
    settings.DUPLEX = {**settings.DUPLEX, "LOGIN_WINDOW": 4}
    client = Client()
    for n in range(3):
        log_in(client, "ann", f"guess-{n}")
    assert THROTTLED in log_in(client, "ann", "pw-ann-123").text
    time.sleep(5.1)  # the window is over (the counter's expiry is whole seconds)
    assert logged_in(log_in(client, "ann", "pw-ann-123"))


def test_the_message_is_translated(people):
    """The form speaks the visitor's language (here Simplified Chinese)."""
    client = Client(headers={"accept-language": "zh-hans"})
    for n in range(3):
        log_in(client, "ann", f"guess-{n}")
    response = log_in(client, "ann", "pw-ann-123")
    assert "尝试失败次数过多" in response.text and "15 分钟" in response.text
