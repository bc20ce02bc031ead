"""Generated user pictures: the user's initials on a colour drawn from their name (Pillow).

Each picture is made once and kept under ``DATA_DIR/avatars/<sha256 of the username>.png``
(written atomically), so it stays the same for a user and costs one file read afterwards.
"""
from __future__ import annotations

import colorsys
import hashlib
import io
from pathlib import Path

from django.conf import settings
from PIL import Image, ImageDraw, ImageFont

from library.covers import write_atomically

SIZE = 256
FONT_SIZE = 112


def initials(name: str) -> str:
    """Up to two letters: the first letters of the first and last words (split on anything but
    letters and digits: ``anna.lena_smith`` -> ``AS``); ``?`` when the name has none."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in name).split() if w]
    letters = "".join(w[0] for w in (words[:1] + words[-1:] if len(words) > 1 else words)) or "?"
    return letters.upper()[:2]


def _colour(name: str) -> tuple[int, int, int]:
    hue = int.from_bytes(hashlib.sha256(name.encode()).digest()[:2], "big") / 65535
    red, green, blue = colorsys.hls_to_rgb(hue, 0.38, 0.55)  # dark enough for white letters
    return round(red * 255), round(green * 255), round(blue * 255)


def draw(name: str) -> bytes:
    """The PNG of ``name``'s picture."""
    image = Image.new("RGB", (SIZE, SIZE), _colour(name))
    canvas = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=FONT_SIZE)
    canvas.text((SIZE / 2, SIZE / 2), initials(name), fill=(255, 255, 255), font=font, anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def avatar_path(name: str) -> Path:
    """The picture file of the user called ``name``, made first when missing."""
    path = Path(settings.DATA_DIR) / "avatars" / f"{hashlib.sha256(name.encode()).hexdigest()}.png"
    if not path.is_file():
        data = draw(name)
        write_atomically(path, lambda handle: handle.write(data))
    return path
