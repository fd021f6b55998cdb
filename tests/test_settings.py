"""Production settings pass Django's deployment checks; development needs nothing."""

import os
import subprocess
import sys

from tests.servers import ROOT

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-production-like-secret-key-with-enough-length-and-variety-8231",
    "ALLOWED_HOSTS": "duplex.example.com",
    "BEHIND_PROXY": "1",
}


def manage(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True,
    )  # fmt: skip


def test_check_deploy_is_clean_with_production_values():
    """`check --deploy` reports nothing, not even a warning, for production values."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    """DEBUG=0 without SECRET_KEY is a configuration error, not a weak default."""
    env = {**PRODUCTION, "SECRET_KEY": ""}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


SHOW_LIMITS = """
from django.conf import settings
d = settings.DUPLEX
print(d["CHAT_RATE"], d["CHAT_BURST"], d["CHAT_TYPING_EVERY"], d["GAME_GRACE_SECONDS"])
"""


def test_chat_and_game_limits_are_settings_read_from_the_environment():
    """The DUPLEX_CHAT_* and DUPLEX_GAME_* variables README lists reach DUPLEX."""
    env = {"DUPLEX_CHAT_RATE": "2.5", "DUPLEX_CHAT_BURST": "9"}
    result = manage(
        "shell", "-v", "0", "-c", SHOW_LIMITS, DUPLEX_GAME_GRACE_SECONDS="7", **env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2.5", "9", "2.0", "7"]


def test_readme_lists_every_duplex_setting_by_its_variable():
    """Each settings.DUPLEX key is set by DUPLEX_<KEY>, and README's table has it."""
    from django.conf import settings

    readme = (ROOT / "README.md").read_text()
    missing = [key for key in settings.DUPLEX if f"`DUPLEX_{key}`" not in readme]
    assert not missing
