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


SHOW_REDIS = """
from django.conf import settings
host = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
cache = settings.CACHES["default"]
print(host["master_name"], host["sentinels"])
print(cache["BACKEND"], cache["LOCATION"], cache["OPTIONS"].get("sentinels"))
"""
NO_REDIS = {"REDIS_URL": "", "REDIS_CACHE_URL": "", "REDIS_PRESENCE_URL": ""}


def test_sentinels_configure_the_layer_and_the_cache():
    """REDIS_SENTINELS and REDIS_SENTINEL_MASTER give the channel layer a
    Sentinel host and the cache the Sentinel backend, IPv6 addresses included."""
    sentinel = {"REDIS_SENTINELS": "10.0.0.5:26379, [::1]:26380"}
    env = {**NO_REDIS, **sentinel, "REDIS_SENTINEL_MASTER": "duplex"}
    result = manage("shell", "-v", "0", "-c", SHOW_REDIS, **env)
    assert result.returncode == 0, result.stderr
    sentinels = "[('10.0.0.5', 26379), ('::1', 26380)]"
    assert result.stdout.splitlines() == [
        f"duplex {sentinels}",
        f"realtime.core.sentinel.SentinelRedisCache duplex {sentinels}",
    ]


def test_the_cache_may_live_on_a_redis_of_its_own():
    """REDIS_CACHE_URL takes the cache off the layer's server."""
    show = "from django.conf import settings; print(settings.CACHES['default'])"
    env = {**NO_REDIS, "REDIS_URL": "redis://10.0.0.5:6379/0"}
    result = manage(
        "shell", "-v", "0", "-c", show, **{**env, "REDIS_CACHE_URL": "redis://c:1"}
    )
    assert result.returncode == 0, result.stderr
    assert "'LOCATION': 'redis://c:1'" in result.stdout


def test_sentinel_settings_that_cannot_work_are_refused_at_start():
    """A master without sentinels, a sentinel without a port, or both REDIS_URL
    and sentinels: each stops the process with a message naming the variable."""
    cases = [
        ({"REDIS_SENTINEL_MASTER": "duplex"}, "set both or neither"),
        (
            {"REDIS_SENTINELS": "10.0.0.5", "REDIS_SENTINEL_MASTER": "duplex"},
            "REDIS_SENTINELS: '10.0.0.5' is not host:port",
        ),
        (
            {
                "REDIS_SENTINELS": "10.0.0.5:26379",
                "REDIS_SENTINEL_MASTER": "duplex",
                "REDIS_URL": "redis://10.0.0.6:6379/0",
            },
            "Set REDIS_URL or REDIS_SENTINELS",
        ),
    ]
    for env, message in cases:
        result = manage("check", **{**NO_REDIS, "REDIS_SENTINELS": "", **env})
        assert result.returncode != 0 and message in result.stderr, (env, result)
