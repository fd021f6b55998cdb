"""Static files in production carry a content hash in their name, so a deploy
changes their URLs and a browser never runs yesterday's client.js."""

import json
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.templatetags.static import static
from django.utils.functional import empty

from tests.servers import ROOT, DaphneProcess, server_env

pytestmark = pytest.mark.integration

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "static-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "0",
    "SERVE_STATIC": "0",
}
# ManifestStaticFilesStorage names: name.<12 hex digits of the md5>.ext
HASHED = re.compile(r"\.[0-9a-f]{12}\.(js|css|svg)$")
PAGES = ["/", "/chat/", "/quotes/", "/quotes/compare/", "/scores/", "/echo/"]


def production_storages() -> dict:
    """STORAGES exactly as project/settings.py builds it for production."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c",
         "import json; from django.conf import settings; "
         "print(json.dumps(settings.STORAGES))"],
        cwd=ROOT, env=server_env("sqlite:///unused", None, "static", **PRODUCTION),
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def collect_and_resolve(name: str) -> str:
    call_command("collectstatic", "--noinput", verbosity=0)
    staticfiles_storage._wrapped = empty  # a fresh storage reads the new manifest
    return static(name)


def test_a_changed_file_gets_a_new_url(settings, tmp_path):
    """collectstatic after an edit gives the file a new URL; both versions stay."""
    source, root = tmp_path / "src", tmp_path / "root"
    shutil.copytree(ROOT / "static", source)
    settings.STATICFILES_DIRS = [source]
    settings.STATIC_ROOT = root
    settings.STORAGES = production_storages()
    settings.DEBUG = False
    client_js = source / "realtime" / "js" / "client.js"

    before = collect_and_resolve("realtime/js/client.js")
    client_js.write_text(client_js.read_text() + "\n// the next release\n")
    after = collect_and_resolve("realtime/js/client.js")
    unchanged = static("realtime/js/site.js")

    assert before != after
    assert HASHED.search(before) and HASHED.search(after), (before, after)
    assert unchanged == collect_and_resolve("realtime/js/site.js")
    stored = root / after.removeprefix(settings.STATIC_URL)
    assert stored.read_text().endswith("// the next release\n")
    # The previous release's file is still there for pages already open.
    assert (root / before.removeprefix(settings.STATIC_URL)).exists()


def static_references(html: str) -> list[str]:
    return re.findall(r'(?:src|href|from)\s*=?\s*"(/static/[^"]+)"', html)


def import_map(html: str) -> dict[str, str]:
    found = re.search(r'<script type="importmap">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))["imports"] if found else {}


def module_imports() -> set[str]:
    """Every static file a module imports ("./client.js"), as a /static/ URL."""
    js = ROOT / "static" / "realtime" / "js"
    return {
        "/static/realtime/js/" + name.removeprefix("./")
        for path in js.glob("*.js")
        for name in re.findall(r'^import .* from "(\./[^"]+)";', path.read_text(), re.M)
    }


def test_production_pages_reference_hashed_files_that_exist(
    live_database_url, tmp_path
):
    """A page served by daphne with DEBUG=0 names the hashed files collectstatic
    wrote, for every script and stylesheet."""
    root = tmp_path / "static"
    env = server_env(
        live_database_url, None, "static", STATIC_ROOT=str(root), **PRODUCTION
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    server = DaphneProcess(env, tmp_path, "web").start()
    try:
        for page in PAGES:
            with urllib.request.urlopen(server.url + page, timeout=10) as response:
                html = response.read().decode()
            references = static_references(html)
            assert references, page
            # Modules import each other by plain name: the page's import map
            # sends each of those imports to the hashed file.
            imports = import_map(html)
            assert module_imports() <= imports.keys(), page
            for url in references + list(imports.values()):
                assert HASHED.search(url), (page, url)
                assert (root / Path(url).relative_to("/static")).is_file(), url
    finally:
        server.stop()
