"""Small PNG charts drawn without a plotting library, for scripted answers' images."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

_BLUE = (31, 119, 180)
_BAR_COLORS = [(66, 133, 244), (219, 68, 55), (244, 180, 0), (15, 157, 88)]


def _png(pixels: list[list[tuple[int, int, int]]]) -> bytes:
    width, height = len(pixels[0]), len(pixels)
    raw = b"".join(b"\x00" + bytes(c for px in row for c in px) for row in pixels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def chart_png(
    values: Sequence[float], *, kind: str = "line", width: int = 200, height: int = 120
) -> bytes:
    """A PNG of ``values``: dots along a line (``kind="line"``) or bars (``"bar"``)."""
    if kind not in ("line", "bar"):
        raise ValueError(f"kind: {kind!r} is not 'line' or 'bar'")
    pixels = [[(255, 255, 255)] * width for _ in range(height)]
    top = max((abs(v) for v in values), default=0.0) or 1.0
    count = max(1, len(values))
    for i, value in enumerate(values):
        if kind == "line":
            x = 5 + i * (width - 10) // count
            y = height - 5 - int((height - 10) * abs(value) / top)
            for dx in (0, 1):
                for dy in (0, 1):
                    pixels[min(y + dy, height - 1)][x + dx] = _BLUE
        else:
            slot = width // count
            bar = int((height - 20) * abs(value) / top)
            for y in range(height - 10 - bar, height - 10):
                for x in range(i * slot + slot // 8, (i + 1) * slot - slot // 8):
                    pixels[y][x] = _BAR_COLORS[i % len(_BAR_COLORS)]
    return _png(pixels)
