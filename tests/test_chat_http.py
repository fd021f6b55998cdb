"""Chat over HTTP: the pages, and the image upload with its checks."""

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from django.test import Client
from PIL import ExifTags, Image, PngImagePlugin

from realtime.chat.models import Message, Room

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def lobby():
    return Room.objects.create(slug="lobby", name="大厅 <b>Lobby</b>", topic="<i>x</i>")


@pytest.fixture
def ann_client(login, ann):
    return login(ann)


def png(size=(8, 8), fmt="PNG") -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(data, fmt)
    data.seek(0)
    data.name = "picture.png"
    return data


def test_room_list_shows_readable_rooms_with_names_as_text(client, lobby, make_user):
    """/chat/ lists public rooms (names escaped); a private one only to members."""
    secret = Room.objects.create(slug="staff", name="Staff", is_public=False)
    page = client.get("/chat/").content.decode()
    assert "大厅 &lt;b&gt;Lobby&lt;/b&gt;" in page and "<b>Lobby</b>" not in page
    assert "&lt;i&gt;x&lt;/i&gt;" in page
    assert "/chat/staff/" not in page
    member = make_user("mia")
    secret.members.add(member)
    client.force_login(member)
    assert "/chat/staff/" in client.get("/chat/").content.decode()


def test_room_page_hides_private_rooms_and_configures_the_client(client, lobby):
    """A room page carries its config as JSON; a private room is a 404 to others."""
    Room.objects.create(slug="staff", name="Staff", is_public=False)
    assert client.get("/chat/staff/").status_code == 404
    assert client.get("/chat/nowhere/").status_code == 404
    response = client.get("/chat/lobby/")
    assert response.status_code == 200
    page = response.content.decode()
    config = page.split('id="chat-config" type="application/json">')[1]
    config = json.loads(config.split("</script>")[0])
    assert config["slug"] == "lobby" and config["user"] is None
    assert "Log in to post" in page


def test_upload_needs_a_login_and_a_csrf_token(lobby, make_user):
    """Anonymous uploads get 401; a logged-in POST without CSRF token gets 403."""
    anonymous = Client()
    response = anonymous.post("/chat/lobby/upload/", {"image": png()})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user("ann"))
    assert strict.post("/chat/lobby/upload/", {"image": png()}).status_code == 403
    assert strict.get("/chat/lobby/upload/").status_code == 405
    assert not Message.objects.exists()


def test_upload_refuses_big_files_and_files_that_are_not_images(
    ann_client, lobby, settings, media
):
    """Over 2 MiB: 413; text named .png, or an SVG: 400. Nothing is stored."""
    settings.DUPLEX = {**settings.DUPLEX, "CHAT_IMAGE_BYTES": 1000}
    big = png(size=(600, 600), fmt="BMP")
    big.name = "big.bmp"
    response = ann_client.post("/chat/lobby/upload/", {"image": big})
    assert response.status_code == 413 and response.json()["code"] == "too_big"
    settings.DUPLEX = {**settings.DUPLEX, "CHAT_IMAGE_BYTES": 2 * 1024 * 1024}
    for name, body in [
        ("fake.png", b"<script>alert(1)</script>"),
        ("x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>'),
    ]:
        upload = io.BytesIO(body)
        upload.name = name
        response = ann_client.post("/chat/lobby/upload/", {"image": upload})
        assert response.status_code == 400 and response.json()["code"] == "invalid"
    assert ann_client.post("/chat/lobby/upload/", {}).status_code == 400
    assert not Message.objects.exists()
    assert not list(Path(media).rglob("*.*"))


def test_upload_posts_an_image_message_stored_under_media_root(
    ann_client, lobby, media
):
    """A real PNG becomes a message with its URL; the file is kept under MEDIA_ROOT."""
    response = ann_client.post(
        "/chat/lobby/upload/", {"image": png(), "text": "look 看"}
    )
    assert response.status_code == 200
    body = response.json()
    message = Message.objects.get(pk=body["id"])
    assert message.text == "look 看" and message.seq == body["seq"] == 1
    assert body["image"].startswith("/media/chat/lobby/")
    assert body["image"].endswith(".png")
    stored = Path(media) / message.image.name
    with Image.open(stored) as image:
        assert image.format == "PNG"


def test_upload_obeys_the_rooms_rules(ann_client, lobby):
    """A closed room refuses uploads like it refuses sockets."""
    Room.objects.filter(pk=lobby.pk).update(closed=True, closed_reason="Archived.")
    response = ann_client.post("/chat/lobby/upload/", {"image": png()})
    assert response.status_code == 403 and response.json()["detail"] == "Archived."


def bomb_png(width=20000, height=20000) -> io.BytesIO:
    """A PNG of ``width`` x ``height`` black pixels in a few tens of KB."""
    raw = zlib.compress(b"\x00" * (1 + (width + 7) // 8) * height, 9)

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grey
    data = io.BytesIO(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )
    data.name = "bomb.png"
    return data


@pytest.mark.parametrize("size", [(20000, 20000), (8000, 8000)])
def test_upload_refuses_a_decompression_bomb_with_a_clear_400(
    ann_client, lobby, media, size
):
    """A small file standing for too many pixels: 400 saying so, nothing stored."""
    bomb = bomb_png(*size)
    assert len(bomb.getvalue()) < 100_000
    response = ann_client.post("/chat/lobby/upload/", {"image": bomb})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "too large" in body["detail"]
    assert not Message.objects.exists()
    assert not list(Path(media).rglob("*.*"))


def phone_jpeg() -> io.BytesIO:
    """A 40x20 JPEG as a phone takes it: GPS position, camera, orientation 6
    (shown rotated a quarter turn: 20 wide, 40 high)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (52.0, 31.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (13.0, 24.0, 36.0),
    }
    data = io.BytesIO()
    Image.new("RGB", (40, 20), (10, 200, 10)).save(data, "JPEG", exif=exif)
    data.seek(0)
    with Image.open(data) as check:  # the fixture really carries it
        gps = check.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert gps[ExifTags.GPS.GPSLatitudeRef] == "N"
    data.seek(0)
    data.name = "IMG_0001.jpg"
    return data


def stored_file(response, media) -> bytes:
    assert response.status_code == 200, response.content
    message = Message.objects.get(pk=response.json()["id"])
    return (Path(media) / message.image.name).read_bytes()


def test_upload_strips_exif_and_gps_but_keeps_the_orientation(ann_client, lobby, media):
    """The stored JPEG has no EXIF (no GPS, no camera) and is turned upright."""
    response = ann_client.post("/chat/lobby/upload/", {"image": phone_jpeg()})
    stored = stored_file(response, media)
    assert b"Exif" not in stored and b"PhoneCo" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert image.size == (20, 40)


def test_upload_stores_the_image_not_a_polyglots_payload(ann_client, lobby, media):
    """Script in a PNG text chunk and HTML and a zip after the image are dropped."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "<script>alert('chunk')</script>")
    image = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(image, "PNG", pnginfo=info)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("index.html", "<html><script>alert('zip')</script></html>")
    body = image.getvalue() + b"<html><script>alert(1)</script>" + archive.getvalue()
    upload = io.BytesIO(body)
    upload.name = "cat.png"
    stored = stored_file(
        ann_client.post("/chat/lobby/upload/", {"image": upload}), media
    )
    assert b"<script" not in stored and b"PK\x03\x04" not in stored
    with Image.open(io.BytesIO(stored)) as clean:
        assert clean.format == "PNG" and clean.size == (8, 8)
        assert clean.getpixel((0, 0)) == (200, 30, 30)


def test_upload_keeps_an_animation_but_not_its_comment(ann_client, lobby, media):
    """An animated GIF is stored with all its frames and without its comment."""
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [Image.new("RGB", (8, 8), colour) for colour in colours]
    gif = io.BytesIO()
    frames[0].save(
        gif,
        "GIF",
        save_all=True,
        append_images=frames[1:],
        duration=50,
        loop=0,
        comment=b"<script>alert(1)</script>",
    )
    gif.seek(0)
    gif.name = "dance.gif"
    stored = stored_file(ann_client.post("/chat/lobby/upload/", {"image": gif}), media)
    assert b"<script" not in stored
    with Image.open(io.BytesIO(stored)) as clean:
        assert clean.format == "GIF" and clean.n_frames == 3
        assert clean.info["loop"] == 0


def test_upload_to_a_private_room_is_a_404_as_its_page_is(ann_client, lobby):
    """A non-member cannot tell a private room from a missing one."""
    Room.objects.create(slug="staff", name="Staff", is_public=False)
    private = ann_client.post("/chat/staff/upload/", {"image": png()})
    missing = ann_client.post("/chat/nowhere/upload/", {"image": png()})
    assert ann_client.get("/chat/staff/").status_code == 404
    assert private.status_code == missing.status_code == 404
    assert (
        private.json()
        == missing.json()
        == {
            "type": "error",
            "code": "not_found",
            "detail": "No such room.",
        }
    )
    assert not Message.objects.exists()
