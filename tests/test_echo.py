"""The echo endpoint through the real ASGI application."""

from channels.testing import WebsocketCommunicator
from django.test import override_settings

from project.asgi import application
from realtime.core.envelope import CloseCode
from realtime.echo.protocol import accept_key


async def connect(path="/ws/echo/", origin=b"http://localhost", subprotocols=None):
    communicator = WebsocketCommunicator(
        application, path, headers=[(b"origin", origin)], subprotocols=subprotocols
    )
    connected, subprotocol = await communicator.connect()
    return communicator, connected, subprotocol


async def send_frame(communicator, payload):
    """Send one frame; unlike ``send_to`` this can send empty ones."""
    key = "bytes" if isinstance(payload, bytes) else "text"
    await communicator.send_input({"type": "websocket.receive", key: payload})


async def test_text_frames_come_back_unchanged():
    """Text, including non-ASCII and empty text, is echoed as text."""
    communicator, connected, _ = await connect()
    assert connected
    for text in ["hello", "你好, WebSocket", "", '{"type": "not parsed"}']:
        await send_frame(communicator, text)
        assert await communicator.receive_output(1) == {
            "type": "websocket.send",
            "text": text,
        }
    await communicator.disconnect()


async def test_binary_frames_come_back_as_binary():
    """Bytes, including zero bytes and an empty frame, are echoed as bytes."""
    communicator, _, _ = await connect()
    for payload in [b"\x00\x01\xfe\xff", b"", bytes(range(256)) * 4]:
        await send_frame(communicator, payload)
        assert await communicator.receive_output(1) == {
            "type": "websocket.send",
            "bytes": payload,
        }
    await communicator.disconnect()


async def test_large_frame_up_to_the_limit_is_echoed():
    """A frame of exactly the configured maximum comes back whole."""
    with override_settings(DUPLEX={"ECHO_MAX_BYTES": 64 * 1024}):
        communicator, _, _ = await connect()
        payload = "x" * (64 * 1024)
        await communicator.send_to(text_data=payload)
        assert await communicator.receive_from() == payload
        await communicator.disconnect()


async def test_oversized_frame_closes_with_1009():
    """One byte over the maximum closes the socket with 1009 (message too big)."""
    with override_settings(DUPLEX={"ECHO_MAX_BYTES": 1024}):
        communicator, _, _ = await connect()
        await communicator.send_to(bytes_data=b"x" * 1025)
        assert await communicator.receive_output(1) == {
            "type": "websocket.close",
            "code": CloseCode.MESSAGE_TOO_BIG,
        }


async def test_classic_echo_url_works_too():
    """``/echo``, the classic example's URL, is the same echo."""
    communicator, connected, _ = await connect("/echo")
    assert connected
    await communicator.send_to(text_data="classic")
    assert await communicator.receive_from() == "classic"
    await communicator.disconnect()


async def test_first_offered_subprotocol_is_selected():
    """The echo accepts the first subprotocol the client offers."""
    communicator, connected, subprotocol = await connect(
        subprotocols=["superchat", "chat"]
    )
    assert connected
    assert subprotocol == "superchat"
    await communicator.disconnect()


async def test_handshake_endpoint_reports_headers_and_accept_key():
    """The handshake mirror shows the request headers and the RFC 6455 accept value."""
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    communicator = WebsocketCommunicator(
        application,
        "/ws/echo/handshake/",
        headers=[
            (b"origin", b"http://localhost"),
            (b"sec-websocket-key", key.encode()),
            (b"sec-websocket-version", b"13"),
        ],
        subprotocols=["chat"],
    )
    connected, subprotocol = await communicator.connect()
    assert connected and subprotocol == "chat"
    frame = await communicator.receive_json_from()
    assert frame["type"] == "echo.handshake"
    # The example from RFC 6455, section 1.3.
    assert frame["accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" == accept_key(key)
    assert frame["headers"]["sec-websocket-version"] == "13"
    assert frame["offered_protocols"] == ["chat"]
    # Not under daphne, the response is what RFC 6455 requires of it.
    assert frame["response_status"] == "HTTP/1.1 101 Switching Protocols"
    assert frame["response_headers"] == [
        ["Upgrade", "websocket"],
        ["Connection", "Upgrade"],
        ["Sec-WebSocket-Protocol", "chat"],
        ["Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="],
    ]
    assert await communicator.receive_output(1) == {
        "type": "websocket.close",
        "code": 1000,
    }
