"""ThumbHash (https://evanw.github.io/thumbhash/): a picture's blurred likeness in about 25 bytes.

The encoder of the reference implementation (Evan Wallace, MIT), in Python: the average colour, then the lowest
frequencies of a DCT of luminance, two colour-difference channels and (if any) alpha. PyPI has no maintained
package of it; the decoder the pages use is in static/js/pictures.js. Each coefficient's sum is separable, so
pixels are summed along rows once per horizontal frequency: about 7 x w x h multiplications, not 25 x w x h.
"""

from __future__ import annotations

import math

MAX_SIDE = 100  # The reference refuses larger input: more pixels change nothing in so few frequencies.


def rgba_to_thumbhash(width: int, height: int, rgba: bytes) -> bytes:
    """The ThumbHash of `width` x `height` pixels of RGBA (8 bits each, not premultiplied), at most 100 x 100."""
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE) or len(rgba) != width * height * 4:
        raise ValueError(f"{width}x{height} RGBA pixels do not fit in {MAX_SIDE}x{MAX_SIDE}")
    pixels = width * height
    avg_r = avg_g = avg_b = avg_a = 0.0
    for i in range(0, pixels * 4, 4):
        alpha = rgba[i + 3] / 255
        avg_r += alpha / 255 * rgba[i]
        avg_g += alpha / 255 * rgba[i + 1]
        avg_b += alpha / 255 * rgba[i + 2]
        avg_a += alpha
    if avg_a:
        avg_r, avg_g, avg_b = avg_r / avg_a, avg_g / avg_a, avg_b / avg_a

    has_alpha = avg_a < pixels
    l_limit = 5 if has_alpha else 7  # fewer luminance terms when alpha needs room
    lx = max(1, round(l_limit * width / max(width, height)))
    ly = max(1, round(l_limit * height / max(width, height)))
    lum, p_chan, q_chan, a_chan = [], [], [], []
    for i in range(0, pixels * 4, 4):  # composited on the average colour, as LPQA
        alpha = rgba[i + 3] / 255
        r = avg_r * (1 - alpha) + alpha / 255 * rgba[i]
        g = avg_g * (1 - alpha) + alpha / 255 * rgba[i + 1]
        b = avg_b * (1 - alpha) + alpha / 255 * rgba[i + 2]
        lum.append((r + g + b) / 3)
        p_chan.append((r + g) / 2 - b)
        q_chan.append(r - g)
        a_chan.append(alpha)

    l_dc, l_ac, l_scale = _encode_channel(lum, width, height, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = _encode_channel(p_chan, width, height, 3, 3)
    q_dc, q_ac, q_scale = _encode_channel(q_chan, width, height, 3, 3)
    landscape = width > height
    header24 = (
        round(63 * l_dc)
        | (round(31.5 + 31.5 * p_dc) << 6)
        | (round(31.5 + 31.5 * q_dc) << 12)
        | (round(31 * l_scale) << 18)
        | (has_alpha << 23)
    )
    header16 = (ly if landscape else lx) | (round(63 * p_scale) << 3) | (round(63 * q_scale) << 9) | (landscape << 15)
    out = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8]
    channels = [l_ac, p_ac, q_ac]
    if has_alpha:
        a_dc, a_ac, a_scale = _encode_channel(a_chan, width, height, 5, 5)
        out.append(round(15 * a_dc) | (round(15 * a_scale) << 4))
        channels.append(a_ac)
    factors = [round(15 * f) for ac in channels for f in ac]
    for index in range(0, len(factors), 2):  # two 4-bit factors a byte, the first in the low half
        out.append(factors[index] | (factors[index + 1] << 4 if index + 1 < len(factors) else 0))
    return bytes(out)


def _encode_channel(
    channel: list[float], width: int, height: int, nx: int, ny: int
) -> tuple[float, list[float], float]:
    """DC, the AC terms normalised to 0..1, and their scale: the terms of the triangle cx/nx + cy/ny < 1."""
    cos_x = [[math.cos(math.pi / width * cx * (x + 0.5)) for x in range(width)] for cx in range(nx)]
    # rows[cx][y]: the row y summed against the horizontal frequency cx.
    rows = [[sum(channel[y * width + x] * fx[x] for x in range(width)) for y in range(height)] for fx in cos_x]
    dc, ac, scale = 0.0, [], 0.0
    for cy in range(ny):
        cos_y = [math.cos(math.pi / height * cy * (y + 0.5)) for y in range(height)]
        cx = 0
        while cx * ny < nx * (ny - cy):
            f = sum(row * fy for row, fy in zip(rows[cx], cos_y, strict=True)) / (width * height)
            if cx or cy:
                ac.append(f)
                scale = max(scale, abs(f))
            else:
                dc = f
            cx += 1
    if scale:
        ac = [0.5 + 0.5 / scale * f for f in ac]
    return dc, ac, scale
