"""Accounts: sign up, log in, log out."""

import pytest


@pytest.mark.django_db
def test_sign_up_creates_an_account_and_logs_it_in(client):
    """The sign-up form creates the user and the next page shows them logged in."""
    response = client.post(
        "/accounts/signup/",
        {
            "username": "李雷",
            "password1": "a-long-pass-9",
            "password2": "a-long-pass-9",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert response.context["user"].username == "李雷"


@pytest.mark.django_db
def test_log_in_and_out(client, make_user):
    """The login form logs a user in; logging out (POST) ends the session."""
    make_user("ann")
    response = client.post(
        "/accounts/login/", {"username": "ann", "password": "pw-ann-123"}
    )
    assert response.status_code == 302
    assert client.get("/").context["user"].username == "ann"
    client.post("/accounts/logout/")
    assert not client.get("/").context["user"].is_authenticated
