"""Uploaded images, decoded and re-encoded: what is stored is what Pillow drew.

Re-encoding drops everything a file carries besides its pixels: EXIF (a
phone's GPS position), XMP, comments, and whatever a polyglot appends after
the image or hides in a chunk. The EXIF orientation is applied first, so the
picture still shows the right way up.
"""

import io

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from realtime.core.envelope import ErrorCode, ProtocolError

# Formats a browser shows inline and that cannot carry script (no SVG).
IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}
MAX_PIXELS = 40_000_000  # of all frames together
KEEP_INFO = ("transparency",)  # what a frame needs to look the same
SAVE_OPTIONS = {"JPEG": {"quality": 90}, "WEBP": {"quality": 90}}


def clean_image(upload) -> tuple[bytes, str]:
    """The upload re-encoded without metadata, and its extension.

    Raises ProtocolError (``invalid``) for a file that is not one of
    IMAGE_FORMATS, or one whose pixels would take too much memory to decode.
    """
    try:
        with Image.open(upload) as image:
            extension = IMAGE_FORMATS.get(image.format)
            if extension is None:
                raise _not_an_image()
            _check_pixels(image)
            return _encode(image), extension
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _not_an_image() from None
    finally:
        upload.seek(0)


def _not_an_image() -> ProtocolError:
    return ProtocolError(
        ErrorCode.INVALID, _("That file is not a PNG, JPEG, GIF or WebP.")
    )


def _too_many_pixels() -> ProtocolError:
    millions = MAX_PIXELS // 1_000_000
    detail = _("The image is too large: at most %d million pixels.") % millions
    return ProtocolError(ErrorCode.INVALID, detail)


def _check_pixels(image: Image.Image) -> None:
    """Refuse before decoding: a few KB of PNG can stand for gigabytes."""
    width, height = image.size
    if width * height * getattr(image, "n_frames", 1) > MAX_PIXELS:
        raise _too_many_pixels()


def _bare(frame: Image.Image) -> Image.Image:
    """A copy of ``frame`` with its pixels and nothing else."""
    copy = frame.copy()
    copy.info = {key: frame.info[key] for key in KEEP_INFO if key in frame.info}
    return copy


def _encode(image: Image.Image) -> bytes:
    fmt, out = image.format, io.BytesIO()
    options = dict(SAVE_OPTIONS.get(fmt, {}))
    if getattr(image, "is_animated", False):
        if "loop" in image.info:
            options["loop"] = image.info["loop"]
        frames, durations = [], []
        for frame in ImageSequence.Iterator(image):
            durations.append(frame.info.get("duration", 100))
            frames.append(_bare(frame))
        options.update(save_all=True, append_images=frames[1:], duration=durations)
        frames[0].save(out, fmt, **options)
    else:
        _bare(ImageOps.exif_transpose(image)).save(out, fmt, **options)
    return out.getvalue()
