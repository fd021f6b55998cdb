"""The echo playground's teaching panels in Chromium: frames as bytes, the
handshake both ways, close codes, and the tutorials' own pages."""

import pytest
from playwright.sync_api import expect

from tests.servers import free_port

pytestmark = pytest.mark.browser
# ruff: noqa: RUF001 (Chinese text has its own full-width punctuation)

ZH = {"extra_http_headers": {"Accept-Language": "zh-hans"}}
HELLO_WORLD = "你好，世界 🌍"  # its full-width comma is 3 bytes in UTF-8

# frames.js against RFC 6455's own examples (section 5.7) and the length edges.
VECTORS = """async (world) => {
  const f = await import("/static/realtime/js/frames.js");
  const hello = f.utf8("Hello");
  const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
  const binary = (n) => f.buildFrame({opcode: f.OPCODE.binary,
                                      payload: new Uint8Array(n)});
  const head = (n) => f.hex(binary(n).header);
  const masked = f.buildFrame({opcode: f.OPCODE.text, payload: hello, mask: key});
  const keys = [f.randomMask(), f.randomMask()];
  return {
    unmasked: f.hex(f.buildFrame({opcode: f.OPCODE.text, payload: hello}).bytes),
    masked: f.hex(masked.bytes),
    unmaskedAgain: f.hex(f.applyMask(masked.masked, key)),
    heads: [125, 126, 256, 65535, 65536].map(head),
    encodings: [125, 126, 65535, 65536].map((n) => binary(n).encoding.name),
    frameSize64k: binary(65536).bytes.length,
    worldBytes: f.utf8(world).length,
    keyLengths: keys.map((k) => k.length),
    keysDiffer: f.hex(keys[0]) !== f.hex(keys[1]),
    fragment: f.hex(f.buildFrame({opcode: f.OPCODE.text, payload: f.utf8("Hel"),
                                  fin: false}).bytes),
    closes: [["1000", ""], ["3000", "x"], ["4999", ""], ["1001", ""], ["2999", ""],
             ["999", ""], ["5000", ""], ["", ""], ["4000.5", ""],
             ["4000", "再".repeat(41)], ["4000", "再".repeat(41) + "x"]]
      .map(([code, reason]) => f.checkClose(code, reason).why),
  };
}"""


def test_frames_module_matches_the_rfc_examples(daphne, new_page):
    """frames.js builds RFC 6455's example frames byte for byte."""
    server = daphne(redis=False)
    page = new_page(server.url)
    page.goto("/echo/")
    got = page.evaluate(VECTORS, HELLO_WORLD)
    assert got["unmasked"] == "81 05 48 65 6c 6c 6f"
    assert got["masked"] == "81 85 37 fa 21 3d 7f 9f 4d 51 58"
    assert got["unmaskedAgain"] == "48 65 6c 6c 6f"
    assert got["heads"] == [
        "82 7d",
        "82 7e 00 7e",
        "82 7e 01 00",  # RFC 6455 5.7: 256 bytes, one 16-bit length
        "82 7e ff ff",
        "82 7f 00 00 00 00 00 01 00 00",  # 64 KiB, one 64-bit length
    ]
    assert got["encodings"] == ["7-bit", "16-bit", "16-bit", "64-bit"]
    assert got["frameSize64k"] == 65536 + 10
    assert got["worldBytes"] == 20
    assert got["keyLengths"] == [4, 4] and got["keysDiffer"]
    assert got["fragment"] == "01 03 48 65 6c"  # RFC 6455 5.7: FIN clear
    assert got["closes"] == [
        None,
        None,
        None,
        "reserved",
        "reserved",
        "out-of-range",
        "out-of-range",
        "not-a-number",
        "not-a-number",
        None,  # 123 bytes
        "reason-too-long",  # 124 bytes
    ]


def field(frame, name):
    return frame.locator(f'dd[data-field="{name}"]')


def test_the_inspector_shows_each_frame_as_bytes(daphne, new_page):
    """A sent message is masked with the key shown; the echo comes back unmasked;
    lengths count UTF-8 bytes; the log reads oldest first."""
    server = daphne(redis=False)
    page = new_page(server.url)
    page.goto("/echo/")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.locator("#ws-ready-state")).to_have_text("1 OPEN")
    expect(page.locator("#ws-extensions")).to_contain_text("permessage-deflate")
    page.locator("#echo-text").fill(HELLO_WORLD)
    page.get_by_role("button", name="Send text").click()

    sent = page.locator(".frame-sent").last
    received = page.locator(".frame-received").last
    expect(received).to_be_visible()
    expect(sent.locator("h3")).to_have_text("browser → server · text · 20 bytes")
    expect(field(sent, "fin")).to_contain_text("1")
    expect(field(sent, "opcode")).to_have_text("0x1 (text)")
    expect(field(sent, "mask")).to_contain_text("1 (a client masks")
    expect(field(sent, "length")).to_contain_text("20 bytes: 7-bit")
    expect(field(sent, "key")).to_contain_text("illustrative")
    expect(field(sent, "rsv1")).to_contain_text("permessage-deflate")
    payload = HELLO_WORLD.encode()
    assert field(sent, "payload").text_content() == payload.hex(" ")
    key = bytes.fromhex(field(sent, "key").text_content()[:11])
    masked = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    assert field(sent, "masked").text_content() == masked.hex(" ")
    assert field(sent, "header").text_content() == "81 94 " + key.hex(" ")

    expect(received.locator("h3")).to_have_text("server → browser · text · 20 bytes")
    expect(field(received, "mask")).to_contain_text("0 (a server never masks")
    expect(field(received, "key")).to_have_count(0)
    expect(field(received, "header")).to_have_text("81 14")
    expect(field(received, "payload")).to_have_text(payload.hex(" "))

    page.locator("#echo-text").fill("x" * 300)
    page.get_by_role("button", name="Send as ArrayBuffer").click()
    big = page.locator(".frame-received").last
    expect(big.locator("h3")).to_have_text("server → browser · binary · 300 bytes")
    expect(field(big, "length")).to_contain_text("300 bytes: 16-bit")
    expect(field(big, "header")).to_have_text("82 7e 01 2c")

    page.locator("#echo-text").fill("")
    page.get_by_role("button", name="Send text").click()
    empty = page.locator(".frame-received").last
    expect(empty.locator("h3")).to_have_text("server → browser · text · 0 bytes")
    expect(field(empty, "payload")).to_have_text("(empty)")
    expect(field(page.locator(".frame-sent").last, "masked")).to_have_text("(empty)")

    log = page.locator("#echo-log li")
    expect(log.nth(0)).to_have_class("log-connecting")
    expect(page.locator("#echo-log .log-send").first).to_contain_text(
        "20 bytes in UTF-8; .length is 8"
    )
    kinds = log.evaluate_all("(items) => items.map((li) => li.className)")
    assert kinds[:5] == [
        "log-connecting",
        "log-open",
        "log-send",
        "log-message",
        "log-send",
    ]


def test_the_handshake_shows_both_sides_and_starts_afresh(daphne, new_page):
    """The response sits next to the request, the tutorials' hixie-76 header is
    explained, and a new connection clears what the last one showed."""
    server = daphne(redis=False)
    page = new_page(server.url)
    page.goto("/echo/")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.locator("#accept-match")).to_have_text("yes, identical")
    response = page.locator("#handshake-response")
    accept = page.locator("#accept-server").text_content()
    expect(response.locator("tr", has_text="Sec-WebSocket-Accept")).to_contain_text(
        accept
    )
    expect(response).to_contain_text("HTTP/1.1 101 Switching Protocols")
    expect(response).to_contain_text("permessage-deflate")
    expect(response).not_to_contain_text("Sec-WebSocket-Location")
    expect(page.locator(".tutorial-response")).to_contain_text(
        "Sec-WebSocket-Location: ws://example.com/"
    )
    expect(page.locator("#hixie-note")).to_contain_text("hixie")

    page.get_by_role("button", name="Disconnect").click()
    page.locator("#echo-url").fill(f"ws://127.0.0.1:{free_port()}/ws/echo/")  # refused
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.locator("#echo-log .log-connecting")).to_have_count(2)
    expect(page.locator("#echo-log .log-retry").first).to_be_visible()
    expect(page.locator("#accept-match")).to_have_text("-")
    expect(page.locator("#accept-server")).to_have_text("-")
    expect(page.locator("#handshake-response")).not_to_contain_text(accept)
    expect(page.locator("#handshake-headers")).to_contain_text("Waiting")


def test_close_codes_are_checked_and_what_comes_back_is_explained(daphne, new_page):
    """Invalid codes and long reasons are refused with the reason why (and the
    browser's own error); a valid close comes back with its code and reason."""
    server = daphne(redis=False)
    page = new_page(server.url)
    page.goto("/echo/")
    code, reason = page.locator("#close-code"), page.locator("#close-reason")
    result = page.locator("#close-result")
    close = page.get_by_role("button", name="Close with this code")
    close.click()
    expect(result).to_contain_text("Not connected")

    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.locator("#ws-ready-state")).to_have_text("1 OPEN")
    refusals = [
        ("1001", "", "1001 to 2999"),
        ("5000", "", "5000 up"),
        ("abc", "", "whole number"),
        ("4000", "关" * 42, "126 bytes in UTF-8"),
    ]
    errors = ["InvalidAccessError", "InvalidAccessError", None, "SyntaxError"]
    for (number, text, why), error in zip(refusals, errors, strict=True):
        code.fill(number)
        reason.fill(text)
        close.click()
        expect(result).to_contain_text(why)
        if error:
            expect(result).to_contain_text(f"The browser agrees: close() threw {error}")
    expect(page.locator("#ws-ready-state")).to_have_text("1 OPEN")

    code.fill("4001")
    reason.fill("再见 bye")
    expect(page.locator("#close-reason-bytes")).to_have_text("10 of 123 bytes in UTF-8")
    close.click()
    expect(result).to_contain_text("wasClean is true")
    expect(result).to_contain_text('You sent code 4001 with the reason "再见 bye"')
    expect(result).to_contain_text('came back with code 4001 and the reason "再见 bye"')
    expect(result).to_contain_text("4000 to 4999 are for private use")
    expect(page.locator("#ws-ready-state")).to_have_text("3 CLOSED")
    expect(page.locator("#echo-log .log-close")).to_contain_text("code=4001")
    expect(page.locator("#echo-log .log-open")).to_have_count(1)  # no reconnect


def test_sending_while_not_connected_says_so(daphne, new_page):
    """Before Connect and after Disconnect, Send explains that nothing was sent."""
    server = daphne(redis=False)
    page = new_page(server.url)
    page.goto("/echo/")
    status = page.locator("#echo-send-status")
    page.get_by_role("button", name="Send text").click()
    expect(status).to_have_text("Not connected: press Connect first. Nothing was sent.")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.locator("#ws-ready-state")).to_have_text("1 OPEN")
    page.get_by_role("button", name="Send text").click()
    expect(status).to_have_text("")
    expect(page.locator("#echo-log .log-message")).to_have_count(1)
    page.get_by_role("button", name="Disconnect").click()
    page.get_by_role("button", name="Send as Blob").click()
    expect(status).to_contain_text("Not connected")
    expect(page.locator("#echo-log .log-not-sent")).to_have_count(2)
    expect(page.locator("#echo-log .log-queued")).to_have_count(0)


def test_the_tutorials_pages_run_here_without_alerts(daphne, new_page):
    """ws_client.html and runoob_websocket.html get their echo, shown on the page."""
    server = daphne(redis=False)
    page = new_page(server.url)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto("/echo/tutorials/")
    english = page.locator('[data-tutorial="ws_client"]')
    chinese = page.locator('[data-tutorial="runoob_websocket"]')
    expect(english.locator("pre")).to_contain_text(
        f'new WebSocket("ws://127.0.0.1:{server.port}/echo")'
    )
    expect(english.locator("pre")).not_to_contain_text("9998")
    runs = [
        (english, "Run WebSocket", "WebSocket is supported by your Browser!",
         "Message is sent...", "Message to send", "Message is received..."),
        (chinese, "运行 WebSocket", "您的浏览器支持 WebSocket!",
         "数据发送中...", "发送数据", "数据已接收..."),
    ]  # fmt: skip
    for section, button, supported, sent, data, received in runs:
        section.get_by_role("button", name=button).click()
        expect(section.locator("ol li")).to_have_text(
            [
                f"alert(): {supported}",
                f"alert(): {sent}",
                f"data received: {data}",
                f"alert(): {received}",
            ]
        )
    assert dialogs == []


def test_the_panels_speak_chinese(daphne, new_page):
    """In Chinese, the hints, the inspector, the close explanations and the
    tutorials' page are all translated."""
    server = daphne(redis=False)
    page = new_page(server.url, **ZH)
    page.goto("/echo/")
    page.get_by_role("button", name="发送文本").click()
    expect(page.locator("#echo-send-status")).to_have_text(
        "未连接：请先按“连接”。没有发送任何内容。"
    )
    expect(page.locator("#hixie-note")).to_contain_text("Sec-WebSocket-Location")
    page.get_by_role("button", name="连接", exact=True).click()
    expect(page.locator("#ws-ready-state")).to_have_text("1 OPEN")
    page.locator("#echo-text").fill(HELLO_WORLD)
    page.get_by_role("button", name="发送文本").click()
    sent = page.locator(".frame-sent").last
    expect(sent.locator("h3")).to_have_text("浏览器 → 服务器 · text · 20 字节")
    expect(field(sent, "key")).to_contain_text("仅为示意")
    expect(field(sent, "length")).to_contain_text("20 字节：7 位编码")
    expect(page.locator(".frame-received").last.locator("h3")).to_have_text(
        "服务器 → 浏览器 · text · 20 字节"
    )

    page.locator("#close-code").fill("1001")
    page.get_by_role("button", name="用这个关闭码关闭").click()
    expect(page.locator("#close-result")).to_contain_text("属于协议")
    expect(page.locator("#close-result")).to_contain_text("浏览器也这么判断")
    page.locator("#close-code").fill("4001")
    page.get_by_role("button", name="用这个关闭码关闭").click()
    expect(page.locator("#close-result")).to_contain_text("wasClean 为 true")
    expect(page.locator("#close-result")).to_contain_text("关闭码 4001")

    page.goto("/echo/tutorials/")
    expect(page.get_by_role("heading", level=1)).to_have_text("教程页面，在这里运行")
    chinese = page.locator('[data-tutorial="runoob_websocket"]')
    chinese.get_by_role("button", name="运行 WebSocket").click()
    expect(chinese.locator("ol li").nth(2)).to_have_text("收到的数据： 发送数据")
