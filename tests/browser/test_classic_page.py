"""The classic tutorial page, unchanged but for its port, against the real echo."""

import http.server
import threading
from functools import partial

import pytest

from realtime.echo.tutorials import RUNOOB_WEBSOCKET, aimed_at

pytestmark = pytest.mark.browser


@pytest.fixture
def classic_page(tmp_path):
    """``classic_page(port)``: the page's directory, aimed at daphne's port."""

    def write(port: int):
        folder = tmp_path / "classic"
        folder.mkdir(exist_ok=True)
        page = folder / "runoob_websocket.html"
        # runoob.com's example as readers copy it; only the port differs.
        url = f"ws://localhost:{port}/echo"
        page.write_text(aimed_at(RUNOOB_WEBSOCKET, url), encoding="utf-8")
        return page

    return write


@pytest.fixture
def other_origin():
    """``other_origin(folder)``: an HTTP server for ``folder`` on another port."""
    servers = []

    def serve(folder) -> str:
        handler = partial(http.server.SimpleHTTPRequestHandler, directory=folder)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def run_classic_page(page, url: str) -> list[str]:
    """Open the page, click its link, and collect its alerts until the echo."""
    alerts: list[str] = []

    def on_dialog(dialog):
        alerts.append(dialog.message)
        dialog.accept()

    page.on("dialog", on_dialog)
    page.goto(url)
    page.get_by_role("link", name="运行 WebSocket").click()
    for _ in range(100):  # dialogs are handled while Playwright waits
        if "数据已接收..." in alerts or "连接已关闭..." in alerts:
            break
        page.wait_for_timeout(100)
    return alerts


def test_classic_page_from_disk_gets_its_echo(daphne, classic_page, new_page):
    """Opened from file:// (Origin: null), the page shows "数据已接收..."."""
    server = daphne()
    path = classic_page(server.port)
    page = new_page(server.url)
    alerts = run_classic_page(page, path.as_uri())
    assert alerts[:3] == ["您的浏览器支持 WebSocket!", "数据发送中...", "数据已接收..."]


def test_classic_page_from_another_origin_gets_its_echo(
    daphne, classic_page, other_origin, new_page
):
    """Served by another site on another port, the page gets its echo too."""
    server = daphne()
    folder = classic_page(server.port).parent
    site = other_origin(folder)
    page = new_page(site)
    alerts = run_classic_page(page, site + "/runoob_websocket.html")
    assert alerts[:3] == ["您的浏览器支持 WebSocket!", "数据发送中...", "数据已接收..."]
