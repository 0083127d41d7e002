"""Test videos and PDFs made on the spot (PyAV's encoders, PDFs written by hand), ordinary and hostile."""

from __future__ import annotations

import hashlib
import io
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction

import av
from PIL import Image

# The colour every frame but the first (black) has: a poster that is this colour was taken a little way in.
LATER = (200, 60, 30)
MARKER = (255, 255, 255)  # a square in the top left corner of those frames, to tell which way up a poster is


def video(
    codec: str = "libx264",
    container: str = "mp4",
    *,
    size: tuple[int, int] = (320, 240),
    seconds: float = 2,
    fps: int = 25,
    rotation: int = 0,
    audio: bool = False,
    video_streams: int = 1,
    gop: int | None = None,
) -> bytes:
    """A clip whose first frame is black and the rest LATER; `rotation` in the container's display matrix."""
    buffer = io.BytesIO()
    with _scheduling_kept(), av.open(buffer, "w", format=container) as out:
        streams = [_video_stream(out, codec, size, fps, rotation, gop) for _ in range(video_streams)]
        sound = out.add_stream("libopus" if container == "webm" else "aac", rate=48000) if audio else None
        for index in range(round(seconds * fps)):
            picture = _frame(size, later=index > 0)
            for stream in streams:
                out.mux(stream.encode(av.VideoFrame.from_image(picture)))
        if sound:
            _silence(out, sound, seconds)
        for stream in streams:
            out.mux(stream.encode())
    return buffer.getvalue()


@contextmanager
def _scheduling_kept() -> Iterator[None]:
    """SVT-AV1's encoder, run as root, switches the thread that opens it to real-time scheduling (SCHED_FIFO,
    priority 99) and never back. Everything the test process starts afterwards (the Celery worker, Chromium and
    Playwright's driver) inherits it, and two such processes busy on two cores starve the rest of the machine: a run
    of the suite hung for minutes. The thread is put back as it was."""
    policy, param = os.sched_getscheduler(0), os.sched_getparam(0)
    try:
        yield
    finally:
        os.sched_setscheduler(0, policy, param)


def _frame(size: tuple[int, int], *, later: bool) -> Image.Image:
    picture = Image.new("RGB", size, LATER if later else "black")
    if later:
        picture.paste(MARKER, (0, 0, size[0] // 4, size[1] // 4))
    return picture


def _video_stream(out, codec: str, size: tuple[int, int], fps: int, rotation: int, gop: int | None):
    stream = out.add_stream(codec, rate=fps)
    stream.width, stream.height, stream.pix_fmt = *size, "yuv420p"
    if gop:
        stream.codec_context.gop_size = gop
    if rotation:
        stream.set_display_rotation(rotation)
    return stream


def _silence(out, stream, seconds: float) -> None:
    rate = stream.codec_context.sample_rate
    samples = 960
    for start in range(0, int(rate * seconds), samples):
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=samples)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate, frame.pts = rate, start
        out.mux(stream.encode(frame))
    out.mux(stream.encode())


def audio_only() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        _silence(out, out.add_stream("aac", rate=48000), 1)
    return buffer.getvalue()


def empty_video_track() -> bytes:
    """An MP4 with a video track of no samples beside a second of audio."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        _video_stream(out, "libx264", (320, 240), 25, 0, None)
        _silence(out, out.add_stream("aac", rate=48000), 1)
    return buffer.getvalue()


def declared_dimensions(data: bytes, width: int, height: int) -> bytes:
    """An MP4 whose sample description (avc1 box) claims width x height; the H.264 stream says otherwise."""
    at = data.find(b"avc1") + 28
    return data[:at] + struct.pack(">HH", width, height) + data[at + 4 :]


def growing_video(small: tuple[int, int], big: tuple[int, int], *, fps: int = 25) -> bytes:
    """An MP4 whose H.264 stream starts at `small` (the size its sample description and first SPS declare) and
    switches, with a new SPS in the stream, to `big` pictures two seconds in: a header that lies about the size."""
    raw = _h264(small, 2 * fps, fps) + _h264(big, 2, fps)
    buffer = io.BytesIO()
    with av.open(io.BytesIO(raw), format="h264") as source, av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        stream.time_base = Fraction(1, fps)
        packets = (packet for packet in source.demux(source.streams.video[0]) if packet.size)
        for index, packet in enumerate(packets):
            packet.pts = packet.dts = index
            packet.time_base, packet.stream = stream.time_base, stream
            out.mux(packet)
    return buffer.getvalue()


def _h264(size: tuple[int, int], frames: int, fps: int) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="h264") as out:
        stream = _video_stream(out, "libx264", size, fps, 0, None)
        stream.codec_context.options = {"preset": "ultrafast"}
        for index in range(frames):
            out.mux(stream.encode(av.VideoFrame.from_image(_frame(size, later=index > 0))))
        out.mux(stream.encode())
    return buffer.getvalue()


# --- PDFs ---------------------------------------------------------------------------------------------------


def pdf(*, pages: int = 1, page_size: tuple[float, float] = (595, 842), content: bytes | None = None) -> bytes:
    """A PDF written by hand: `pages` pages of `page_size` points, the first with a dark square (or `content`)."""
    drawing = content if content is not None else b"0.1 0.2 0.6 rg 100 100 300 300 re f"
    kids = " ".join(f"{4 + i} 0 R" for i in range(pages))
    width, height = page_size
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(drawing), drawing),
    ]
    objects += [
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width:g} {height:g}] /Contents 3 0 R >>".encode()
        for _ in range(pages)
    ]
    return _pdf_file(objects)


def _pdf_file(objects: list[bytes], trailer: bytes = b"") -> bytes:
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer, xref)
    return bytes(out)


# PDF's password padding (ISO 32000-1, 7.6.3.3).
_PAD = bytes.fromhex("28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a")


def encrypted_pdf(user_password: bytes = b"secret") -> bytes:
    """A PDF under the standard security handler (RC4, 40-bit, revision 2) that opens only with the password.

    The page's stream is left unencrypted: PDFium asks for the password before it reads any page."""
    file_id = hashlib.md5(b"mediahub test").digest()  # noqa: S324 (PDF's own algorithm)
    owner = _rc4(hashlib.md5(_padded(b"owner")).digest()[:5], _padded(user_password))  # noqa: S324
    permissions = -4
    key = hashlib.md5(  # noqa: S324
        _padded(user_password) + owner + struct.pack("<i", permissions) + file_id
    ).digest()[:5]
    user = _rc4(key, _PAD)
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>" % (
        owner.hex().encode(),
        user.hex().encode(),
        permissions,
    )
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"]
    objects += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>", encrypt]
    ids = b"<%s>" % file_id.hex().encode()
    return _pdf_file(objects, trailer=b"/Encrypt 4 0 R /ID [%s %s] " % (ids, ids))


def _padded(password: bytes) -> bytes:
    return (password + _PAD)[:32]


def _rc4(key: bytes, data: bytes) -> bytes:
    state, j = list(range(256)), 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def padded_video(size: int, fill: bytes = b"") -> bytes:
    """A real clip grown to `size` bytes by a trailing `free` box (which players skip), for files large enough to
    go in parts that processing still reads as the video they are. `fill` (random bytes, say) starts the padding;
    the rest is zeros."""
    clip = video()
    box = struct.pack(">I4sQ", 1, b"free", size - len(clip))
    padding = size - len(clip) - len(box)
    return clip + box + fill[:padding] + bytes(padding - len(fill[:padding]))


def write_padded_video(path, size: int):
    """padded_video() written sparsely: the zeros cost no disk or time."""
    clip = video()
    with open(path, "wb") as out:
        out.write(clip + struct.pack(">I4sQ", 1, b"free", size - len(clip)))
        out.truncate(size)
    return path
