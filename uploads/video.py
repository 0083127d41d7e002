"""A video's facts and its poster frame, read with PyAV (FFmpeg's libraries) from a seekable file.

Plain Python: no storage or database here (processing hands `probe()` a uploads.ranged.RangedOriginal). A file FFmpeg
cannot open as the container it claims to be raises imaging.BadMedia, with a message for the person who sent it. A
container that opens but yields no picture (audio only, empty streams, a codec FFmpeg cannot decode, frames that
take too long) is a result without a poster: the file is kept and can still be downloaded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import BinaryIO

import av
from av.error import FFmpegError
from django.conf import settings
from PIL import Image

from uploads import imaging
from uploads.imaging import BadMedia, Rendition
from uploads.ranged import OutOfTime

# FFmpeg's demuxer for each sniffed type. Naming it means FFmpeg never probes for another format: its HLS, concat or
# image-sequence demuxers would open further files or URLs named inside an upload. (The MP4 demuxer's external
# data references, drefs, are off by default.)
_DEMUXERS = {"video/mp4": "mov", "video/quicktime": "mov", "video/webm": "matroska"}
_NAMES = {"video/mp4": "MP4", "video/quicktime": "QuickTime", "video/webm": "WebM"}
# Phones write 2-5 streams (video, audio, metadata, timecode); professional cameras a dozen or so audio tracks.
# FFmpeg keeps a context per stream: a container declaring thousands costs memory and time before any decoding.
MAX_STREAMS = 64
# Frames decoded from a keyframe to reach the poster's time, when there is no keyframe after that time (a clip
# that is one long group of pictures). Bounded, so a long group costs at most this many decodes.
MAX_POSTER_FRAMES = 120
# How much FFmpeg may read to find parameters the header lacks: MP4 and WebM headers carry them all.
_PROBE_BYTES = 2_000_000
# PyAV's buffer between FFmpeg and the file: the largest read FFmpeg asks of it.
_IO_BUFFER = 64 * 1024
# The display matrix's turn (counterclockwise degrees, as FFmpeg reports it) -> the transpose that shows it upright.
_UPRIGHT = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, -90: Image.Transpose.ROTATE_270}


@dataclass
class VideoResult:
    duration: float | None  # seconds
    width: int | None  # as shown: after rotation
    height: int | None
    video_codec: str | None
    audio_codec: str | None
    frame_rate: float | None
    rotation: int  # degrees counterclockwise the frames are turned to be shown: 0, 90, 180 or -90
    poster: list[Rendition] = field(default_factory=list)
    timings: dict[str, int] = field(default_factory=dict)  # milliseconds: open, poster, resize, encode


def probe(
    fp: BinaryIO,
    content_type: str,
    *,
    renditions: dict | None = None,
    max_pixels: int | None = None,
    seconds: float | None = None,
) -> VideoResult:
    """The facts of the video in `fp` (sniffed as `content_type`) and its poster's renditions.

    Defaults come from MAX_IMAGE_PIXELS and MEDIA_PREVIEW_SECONDS. Raises BadMedia for a file that is not a readable
    container of that type, declares more than MAX_STREAMS streams or a picture larger than the pixel limit.
    """
    limit = settings.MAX_IMAGE_PIXELS if max_pixels is None else max_pixels
    budget = settings.MEDIA_PREVIEW_SECONDS if seconds is None else seconds
    deadline = time.monotonic() + budget
    started = time.perf_counter()
    container = _open(fp, content_type, budget)
    with container:
        opened = time.perf_counter()
        result = _facts(container, limit)
        stream = container.streams.video[0] if container.streams.video else None
        frame = _poster_frame(container, stream, limit, deadline) if stream is not None and result.width else None
        result.timings = {"open": _ms(opened - started), "poster": _ms(time.perf_counter() - opened)}
        if frame is not None:
            picture, result.rotation = _upright(frame)
            if result.rotation in (90, -90):
                result.width, result.height = result.height, result.width
            result.poster, made = imaging.render_still(picture, renditions=renditions)
            result.timings.update(made)
    return result


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _open(fp: BinaryIO, content_type: str, seconds: float) -> av.container.InputContainer:
    options = {"max_streams": str(MAX_STREAMS), "probesize": str(_PROBE_BYTES)}
    try:
        return av.open(
            fp, format=_DEMUXERS[content_type], options=options, buffer_size=_IO_BUFFER, timeout=(seconds, seconds)
        )
    except (OutOfTime, av.error.ExitError) as exc:  # ExitError: FFmpeg's own timeout
        raise BadMedia(f"This video took too long to read (more than {seconds:g} seconds).") from exc
    except av.error.MemoryError as exc:
        # What FFmpeg answers when a container declares more streams than max_streams.
        raise BadMedia(f"This video declares more than {MAX_STREAMS} streams; videos have a few.") from exc
    except FFmpegError as exc:
        raise BadMedia(f"This file is not a valid {_NAMES[content_type]} video (it is damaged or truncated).") from exc


def _facts(container: av.container.InputContainer, limit: int) -> VideoResult:
    video = container.streams.video[0] if container.streams.video else None
    audio = container.streams.audio[0] if container.streams.audio else None
    width = height = None
    if video is not None:
        width, height = video.codec_context.width, video.codec_context.height
        if width * height > limit:
            raise BadMedia(
                f"The video is {width}×{height} pixels; the limit is {limit / 1_000_000:.3g} megapixels a frame."
            )
    return VideoResult(
        duration=_duration(container, video),
        width=width or None,
        height=height or None,
        video_codec=_codec(video),
        audio_codec=_codec(audio),
        frame_rate=_rate(video.average_rate or video.guessed_rate) if video is not None else None,
        rotation=0,
    )


def _duration(container: av.container.InputContainer, video) -> float | None:
    if container.duration and container.duration > 0:
        return round(container.duration / av.time_base, 3)
    if video is not None and video.duration and video.time_base:
        return round(float(video.duration * video.time_base), 3)
    return None


def _codec(stream) -> str | None:
    # The codec, not the decoder that reads it: FFmpeg decodes AV1 with libdav1d, and browsers play "av1".
    return stream.codec_context.codec.canonical_name if stream is not None else None


def _rate(rate: Fraction | None) -> float | None:
    return round(float(rate), 3) if rate else None


def _poster_time(duration: float | None) -> float:
    """A little way in, past the often black first frame: a tenth of the video, at least a second (or half of a
    shorter video) and at most three."""
    if not duration:
        return 0.0
    return min(3.0, max(duration / 10, min(1.0, duration / 2)))


def _poster_frame(container, stream, limit: int, deadline: float) -> av.VideoFrame | None:
    """The first keyframe at or after the poster's time; failing that, the frame at that time decoded from the
    keyframe before it. None when nothing decodes in time."""
    context = stream.codec_context
    # The decoder itself refuses frames over the limit, should the stream's pictures differ from its header; one
    # thread, so its memory is one set of reference frames.
    context.options = {"max_pixels": str(limit)}
    context.thread_count = 1
    target = _poster_time(_duration(container, stream))
    start = stream.start_time or 0
    offset = start + int(target / stream.time_base) if stream.time_base else 0
    try:
        try:
            container.seek(offset, stream=stream, backward=False)
        except FFmpegError:
            container.seek(offset, stream=stream, backward=True)
        return _decode_to(container, stream, target, deadline)
    except (FFmpegError, OutOfTime):  # damaged past its header, or out of time: no poster
        return None


def _decode_to(container, stream, target: float, deadline: float) -> av.VideoFrame | None:
    best = None
    decoded = 0
    for packet in container.demux(stream):
        for frame in packet.decode():
            best, decoded = frame, decoded + 1
            if (frame.time or 0) >= target - 0.001 or decoded >= MAX_POSTER_FRAMES:
                return best
        if time.monotonic() > deadline:
            break
    return best


def _upright(frame: av.VideoFrame) -> tuple[Image.Image, int]:
    rotation = frame.rotation
    turn = round(rotation / 90) * 90 if rotation else 0
    turn = -90 if turn == 270 else 180 if turn == -180 else turn
    picture = frame.to_image()
    return (picture.transpose(_UPRIGHT[turn]) if turn in _UPRIGHT else picture), turn
