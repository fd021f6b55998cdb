"""The fallback transport in process: event streams and POSTs running the sockets."""

import json

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings

from project.asgi import application
from realtime.chat import service
from realtime.core import fallback
from realtime.core.envelope import CloseCode
from tests.fallback_client import ORIGIN, AsgiStream

pytestmark = pytest.mark.django_db(transaction=True)
LOBBY = "/ws/chat/lobby/"


@pytest.fixture
def stream(session_for):
    """``await stream(path, user=ann)``: an opened ``AsgiStream``."""
    opened = []

    async def open_stream(path, user=None, headers=(), query=b""):
        headers = list(headers)
        if user is not None:
            key = await sync_to_async(session_for)(user)
            cookie = f"{settings.SESSION_COOKIE_NAME}={key}".encode()
            headers.append((b"cookie", cookie))
        s = AsgiStream(application, path, headers, query)
        opened.append(s)
        await s.open()
        return s

    return open_stream


async def join(stream, user, after=0):
    s = await stream(LOBBY, user=user)
    assert s.status == 200
    assert (await s.post([{"type": "chat.join", "after": after}]))["status"] == 204
    joined = await s.next_frame("chat.joined")
    return s, joined


async def test_stream_runs_the_chat_socket(stream, lobby, ann, bob):
    """Two users chat over streams and POSTs: each sees both messages, in order."""
    a, joined = await join(stream, ann)
    assert joined["you"] == {"id": ann.pk, "name": "ann"}
    b, _ = await join(stream, bob)
    assert a.response_headers[b"content-type"].startswith(b"text/event-stream")
    assert a.response_headers[b"x-accel-buffering"] == b"no"
    await a.post([{"type": "chat.send", "text": "hello 你好"}])
    await b.post([{"type": "chat.send", "text": "hi ann"}])
    for s in (a, b):
        first = await s.next_frame("chat.message")
        second = await s.next_frame("chat.message")
        assert (first["seq"], first["text"]) == (1, "hello 你好")
        assert (second["seq"], second["user"]["name"]) == (2, "bob")
    await a.close()
    await b.close()


async def test_resume_replays_what_the_stream_missed(stream, lobby, ann, bob):
    """A new stream joining after seq 1 gets the rest replayed, as a socket does."""
    for text in ["one", "two", "three"]:
        await sync_to_async(service.post_message)(lobby.pk, bob, text)
    s, joined = await join(stream, ann, after=1)
    assert joined["resume"] == "replay"
    replayed = [await s.next_frame("chat.message") for _ in range(2)]
    assert [(m["seq"], m["text"]) for m in replayed] == [(2, "two"), (3, "three")]
    await s.close()


async def test_echo_frames_keep_their_bytes(stream):
    """Text SSE cannot carry as is (empty, CR, newlines) and binary come back
    unchanged through the echo socket."""
    s = await stream("/ws/echo/")
    texts = ["", "a\r\nb", "two\nlines", " lead", "天"]
    response = await s.post([*texts, b"\x00\x01\x02\xff"])
    assert response["status"] == 204
    assert [await s.frame() for _ in texts] == texts
    assert await s.frame() == b"\x00\x01\x02\xff"
    await s.close()


async def test_subprotocol_is_offered_through_the_query(stream, lobby, ann):
    """``_subprotocol`` offers a subprotocol; the plain one chats in text."""
    s = await stream(LOBBY, user=ann, query=b"_subprotocol=chat")
    assert s.accepted_protocol == "chat"
    await s.post(["plain words"])
    assert "plain words" in await s.frame()
    await s.close()


async def test_stream_from_another_site_is_refused(stream, lobby, ann):
    """Another site's Origin, or a request that is not a same-origin fetch
    (a link, an image), is refused as a handshake would be."""
    evil = await stream(LOBBY, user=ann, headers=[(b"origin", b"http://evil.test")])
    assert evil.status == 403
    s = AsgiStream(application, LOBBY, headers=[(b"sec-fetch-mode", b"navigate")])
    assert await s.open() == 403
    cross = AsgiStream(application, LOBBY)
    cross.headers[1] = (b"sec-fetch-site", b"cross-site")
    assert await cross.open() == 403


async def test_consumer_refusal_is_a_close_event(stream, ann):
    """A socket that accepts and refuses (no such room) sends its close code."""
    s = await stream("/ws/chat/nowhere/", user=ann)
    assert (await s.closed())["code"] == CloseCode.NOT_FOUND


async def test_post_is_checked_like_a_handshake(stream, lobby, ann, bob):
    """A POST needs the page's Origin, a valid stream id and the same session."""
    a, _ = await join(stream, ann)
    b, _ = await join(stream, bob)
    frame = [{"type": "chat.send", "text": "forged"}]
    assert (await a.post(frame, origin="http://evil.test"))["status"] == 403
    assert (await a.post(frame, origin=None))["status"] == 403
    tampered = a.stream_id[:-2] + ("AA" if a.stream_id[-2:] != "AA" else "BB")
    assert (await a.post(frame, stream_id=tampered))["status"] == 403
    # bob's session with ann's stream id: refused.
    assert (await b.post(frame, stream_id=a.stream_id))["status"] == 403
    no_json = [h for h in a.post_headers() if h[0] != b"content-type"]
    assert (await a.post(frame, headers=no_json))["status"] == 415
    await a.post([{"type": "chat.send", "text": "real"}])
    assert (await a.next_frame("chat.message"))["text"] == "real"
    await a.close()
    await b.close()


async def test_post_bounds(stream, ann):
    """Too many frames or bytes in one POST get 413; a bad body gets 400."""
    s = await stream("/ws/echo/")
    many = ["x"] * (fallback.MAX_BATCH + 1)
    assert (await s.post(many))["status"] == 413
    big = ["x" * (fallback.MAX_POST_BYTES + 1)]
    assert (await s.post(big))["status"] == 413
    assert (await s.post([]))["status"] == 400
    bad = json.dumps([{"binary": "not base64!"}]).encode()
    assert (await s.post([], body=bad))["status"] == 400
    assert (await s.post([], body=b"[1, 2]"))["status"] == 400
    assert (await s.post(["still here"]))["status"] == 204
    assert await s.frame() == "still here"
    await s.close()


async def test_repeated_post_is_delivered_once(stream):
    """A batch retried with the same number (its answer was lost) is skipped."""
    s = await stream("/ws/echo/")
    await s.post(["once"], batch=1)
    await s.post(["once"], batch=1)
    await s.post(["next"], batch=2)
    assert [await s.frame(), await s.frame()] == ["once", "next"]
    await s.close()


async def test_a_stream_that_is_flooded_closes_1008(stream, monkeypatch):
    """Frames the consumer has not taken are bounded: past them, 1008."""
    monkeypatch.setattr(fallback, "MAX_PENDING", 3)
    s = await stream("/ws/echo/")
    await s.post(["a", "b", "c", "d"])
    assert (await s.closed())["code"] == CloseCode.POLICY_VIOLATION


async def test_lost_batch_ends_the_stream(stream):
    """A batch number skipped means frames lost on the way: the stream ends,
    and the client reconnects (and resumes) as after a broken socket."""
    s = await stream("/ws/echo/")
    await s.post(["a"], batch=2)
    assert (await s.closed())["code"] == fallback.LOST_FRAMES


async def test_only_get_opens_a_stream():
    """Another method on a stream path is 405; the send path takes only POST."""
    from channels.testing import HttpCommunicator

    put = HttpCommunicator(application, "PUT", "/sse/ws/echo/")
    assert (await put.get_response())["status"] == 405
    get = HttpCommunicator(
        application, "GET", "/sse/send/", headers=[(b"origin", ORIGIN.encode())]
    )
    response = await get.get_response()
    assert response["status"] == 405
    assert json.loads(b'"' + response["body"] + b'"')


async def test_an_account_socket_refuses_an_anonymous_stream(stream):
    """The socket's own rules apply: no session, no notifications (4001)."""
    s = await stream("/ws/notifications/")
    assert (await s.closed())["code"] == CloseCode.UNAUTHENTICATED


async def test_a_token_client_streams_and_posts_without_origin(stream, lobby, ann):
    """A bearer token opens a stream and POSTs without an Origin, as its user;
    the token's stream id is refused with a cookie instead of the token."""
    from realtime.tokens.service import create_token

    _, token = await sync_to_async(create_token)(user=ann, name="bot")
    bearer = (b"authorization", f"Bearer {token}".encode())
    s = await stream(LOBBY, headers=[bearer])
    assert (await s.post([{"type": "chat.join"}], origin=None))["status"] == 204
    assert (await s.next_frame("chat.joined"))["you"]["name"] == "ann"
    s.headers.remove(bearer)
    s.headers.append((b"cookie", b"sessionid=someone-else"))
    assert (await s.post([{"type": "chat.send", "text": "x"}]))["status"] == 403
    await s.close()
