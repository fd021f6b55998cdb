"""The tokens page and ``manage.py token``: make, name and revoke tokens."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from realtime.tokens import service
from realtime.tokens.models import AccessToken

PAGE = "/settings/tokens/"


@pytest.fixture
def ann(make_user):
    return make_user("ann")


def shown_secret(response) -> str:
    match = re.search(r'id="new-token-value">(dpx_[^<]+)<', response.content.decode())
    assert match, "the new token is not on the page"
    return match.group(1)


def test_page_needs_a_login(client):
    """Visitors are sent to the login page."""
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_create_shows_the_token_once_and_stores_its_hash(client, ann):
    """The new token is shown on the page once; the list shows only its hint."""
    client.force_login(ann)
    response = client.post(PAGE, {"name": "deploy bot 部署"})
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    secret = shown_secret(response)
    row = AccessToken.objects.get(user=ann)
    assert (row.name, row.digest) == ("deploy bot 部署", service.digest(secret))
    again = client.get(PAGE).content.decode()
    assert secret not in again
    assert "deploy bot 部署" in again and row.hint in again


def test_create_without_a_name_is_a_clear_400(client, ann):
    """A nameless token is refused with a message, not a 500."""
    client.force_login(ann)
    response = client.post(PAGE, {"name": "   "})
    assert response.status_code == 400
    assert "needs a name" in response.content.decode()
    assert not AccessToken.objects.exists()


def test_revoke_own_token(client, ann):
    """Revoking marks the token revoked; the page shows it as such."""
    row, _ = service.create_token(user=ann, name="old")
    client.force_login(ann)
    response = client.post(f"{PAGE}{row.pk}/revoke/")
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.revoked_at is not None
    page = client.get(PAGE).content.decode()
    assert "token-revoked" in page and "Revoke</button>" not in page


def test_no_one_else_can_revoke_it(client, ann, make_user):
    """Another user's token id is a 404, and the token keeps working."""
    row, _ = service.create_token(user=ann, name="mine")
    client.force_login(make_user("mallory"))
    assert client.post(f"{PAGE}{row.pk}/revoke/").status_code == 404
    assert client.get(f"{PAGE}{row.pk}/revoke/").status_code == 405
    row.refresh_from_db()
    assert row.revoked_at is None


def test_settings_page_links_the_tokens_page(client, ann):
    """The notification settings page leads to the tokens page."""
    client.force_login(ann)
    assert f'href="{PAGE}"' in client.get("/notifications/settings/").content.decode()


def test_command_prints_a_working_token(ann):
    """``manage.py token ann --name ci`` prints a token that authenticates ann."""
    out = StringIO()
    call_command("token", "ann", "--name", "ci", stdout=out)
    token = out.getvalue().strip()
    assert service.TOKEN_RE.fullmatch(token)
    assert service.authenticate(f"Bearer {token}") == ann
    assert AccessToken.objects.get(user=ann).name == "ci"


def test_command_refuses_an_unknown_user(db):
    """An unknown username is a clear error."""
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("token", "nobody")


def test_admin_lists_tokens_without_secrets(client, ann, make_user):
    """Staff see names and hints in the admin, never a way to read a token."""
    row, secret = service.create_token(user=ann, name="shown in admin")
    admin = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    listing = client.get("/admin/realtime/accesstoken/").content.decode()
    assert "shown in admin" in listing and secret not in listing
    detail = client.get(f"/admin/realtime/accesstoken/{row.pk}/change/")
    assert detail.status_code == 200 and row.digest not in detail.content.decode()
    assert client.get("/admin/realtime/accesstoken/add/").status_code == 403


def test_the_page_speaks_simplified_chinese(make_user):
    """With ``Accept-Language: zh-hans`` the page, its refusals and its
    confirmations are in Chinese."""
    from django.test import Client

    user = make_user("mei")
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(user)
    page = client.get(PAGE).content.decode()
    for text in ("访问令牌", "新建令牌", "创建令牌", "你的令牌", "暂无。"):
        assert text in page
    refused = client.post(PAGE, {"name": " "}).content.decode()
    assert "令牌需要一个 1 到 64 个字符的名称。" in refused
    made = client.post(PAGE, {"name": "机器人"}).content.decode()
    assert "新令牌“机器人”" in made and "请立即复制" in made
    row = AccessToken.objects.get(user=user)
    revoked = client.post(f"{PAGE}{row.pk}/revoke/", follow=True).content.decode()
    assert "令牌已撤销" in revoked and "已于 " in revoked
