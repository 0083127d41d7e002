"""Bytes read and time to a video's poster and facts: a generated 1 GB 4K MP4, read in ranges from the local S3.

    .venv/bin/python bench/video.py [runs]

The video: one second of 3840x2160 H.264 at 30 frames a second (libx264 from PyAV's wheel, a keyframe every
second, noise so that frames are large), its packets then repeated with shifted timestamps until the file passes
1 GiB; the index (`moov`) at the end, as cameras write it. Made once and kept in .data/bench-video/.
moto's server runs in this process on a free loopback port; the file goes to the uploads bucket under an item's key
(boto3's multipart upload). Each run then processes it as its S3 event would (`process_object`, forced after the
first): HEAD, ranged reads through uploads.ranged.RangedOriginal for FFmpeg, the poster's renditions stored, the
item marked ready. The bytes read and stage timings come from the run's structured log line; the ranged requests
from a direct `video.probe` over the same reader. For comparison: the time to stream the whole file once
(`storage.hash_original`), what downloading it, as processing did before, costs at the least.
Prints the figures and replaces the "## Video" section of docs/benchmarks.md with them.
"""

from __future__ import annotations

import datetime
import io
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from report import cpu_model, write_section  # noqa: E402 (needs bench/ on the path)

from mediahub.localaws import start_server  # noqa: E402 (needs ROOT on the path; reads no settings on import)

HEADING = "## Video"
CACHE = ROOT / ".data" / "bench-video"
SIZE = (3840, 2160)
FPS = 30
TARGET_BYTES = 1024**3
RUNS = 3
TARGET_READ = 16 * 1024**2  # "a few MB"


@dataclass
class Run:
    seconds: float  # process_object, start to ready
    bytes_read: int
    stages_ms: dict[str, int]


@dataclass
class Figures:
    file_bytes: int
    duration: float
    generate_s: float | None  # None: the file was made by an earlier run
    runs: list[Run]
    probe_s: float
    probe_bytes: int
    probe_requests: int
    probe_fetch_s: float  # of probe_s, waiting for the ranged GETs
    small_range_s: tuple[float, float]  # one 1-byte ranged GET: of this file, of a 1 MB object
    whole_s: float
    facts: dict
    load: tuple[float, float]


# --- the video -------------------------------------------------------------------------------------------------


def bench_video() -> tuple[Path, float | None]:
    """The 1 GiB 4K MP4 (made once), and the seconds making it took (None if it was already there)."""
    path = CACHE / "4k-1gib.mp4"
    if path.exists() and path.stat().st_size >= TARGET_BYTES:
        return path, None
    started = time.monotonic()
    CACHE.mkdir(parents=True, exist_ok=True)
    clip = encode_clip()
    repeat_packets(clip, path)
    return path, time.monotonic() - started


def encode_clip() -> bytes:
    """One second (one group of pictures) of noisy 4K frames: large packets, as a high-bitrate camera writes."""
    import av
    from PIL import Image, ImageDraw

    noise = [Image.effect_noise(SIZE, 40).convert("RGB") for _ in range(3)]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"preset": "ultrafast", "crf": "32", "keyint": str(FPS)})
        stream.width, stream.height, stream.pix_fmt = *SIZE, "yuv420p"
        for index in range(FPS):
            picture = noise[index % len(noise)].copy()
            ImageDraw.Draw(picture).rectangle((0, 0, 200 + 100 * index, 400), fill=(200, 60, 30))
            out.mux(stream.encode(av.VideoFrame.from_image(picture)))
        out.mux(stream.encode())
    return buffer.getvalue()


def repeat_packets(clip: bytes, path: Path) -> None:
    """The clip's packets again and again, timestamps shifted by the clip's length, until the file is big enough."""
    import av

    with av.open(io.BytesIO(clip)) as source:
        original = source.streams.video[0]
        time_base = original.time_base
        packets = [(bytes(p), p.pts, p.dts, p.duration, p.is_keyframe) for p in source.demux(original) if p.size]
        length = round(Fraction(1) / time_base)  # one second in the stream's time base
        partial = path.with_suffix(".partial")
        with av.open(str(partial), "w", format="mp4") as out:
            stream = out.add_stream_from_template(original)
            written, repeat = 0, 0
            while written < TARGET_BYTES:
                for data, pts, dts, duration, keyframe in packets:
                    packet = av.Packet(data)
                    packet.pts, packet.dts = pts + repeat * length, dts + repeat * length
                    packet.duration, packet.is_keyframe = duration, keyframe
                    packet.time_base, packet.stream = time_base, stream
                    out.mux(packet)
                    written += len(data)
                repeat += 1
    partial.rename(path)


# --- set-up and runs --------------------------------------------------------------------------------------------


def configure(endpoint: str, data_dir: str) -> None:
    run = uuid.uuid4().hex[:8]
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mediahub.settings",
        LOCAL_DATA_DIR=data_dir,
        AWS_ENDPOINT_URL=endpoint,
        DYNAMODB_TABLE_PREFIX=f"bench-{run}-",
        UPLOADS_BUCKET=f"bench-{run}-uploads",
        RENDITIONS_BUCKET=f"bench-{run}-renditions",
        PROCESSING_MODE="lambda",  # nothing enqueued: this process runs process_object itself
        MULTIPART_THRESHOLD=str(20 * 1024**3),  # one presigned POST ticket; the bytes go up with boto3 anyway
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    with open(os.devnull, "w") as quiet:
        call_command("migrate", verbosity=0, stdout=quiet)
        call_command("bootstrap", stdout=quiet)


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(json.loads(record.getMessage()))


def measure(path: Path, generate_s: float | None, runs: int) -> Figures:
    from django.conf import settings

    from mediahub.aws import client
    from uploads import processing, services, storage, video
    from uploads.models import MediaItem
    from uploads.ranged import RangedOriginal

    size = path.stat().st_size
    ticket = services.media_create(
        owner_id="bench", name="4K", caption="", file_name="4k.mp4", content_type="video/mp4", size=size
    )
    key = ticket.item.object_key
    client("s3").upload_file(str(path), settings.UPLOADS_BUCKET, key, ExtraArgs={"ContentType": "video/mp4"})
    lines = Lines()
    logger = logging.getLogger("uploads.processing")
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    load = os.getloadavg()[0]
    samples = []
    for index in range(runs):
        started = time.perf_counter()
        outcome = processing.process_object(settings.UPLOADS_BUCKET, key, force=index > 0)
        seconds = time.perf_counter() - started
        if outcome != "ready":
            raise SystemExit(f"Run {index + 1} ended {outcome}: {lines.records[-1]}")
        line = lines.records[-1]
        samples.append(Run(seconds, line["bytes_read"], line["ms"]))
    item = MediaItem.get(ticket.item.id)
    facts = {
        "size": f"{item.width}×{item.height}",
        "codecs": item.video_codec,
        "fps": float(item.frame_rate),
        "duration": float(item.duration),
        "posters": len(item.renditions or {}),
        "sha256": item.sha256,
    }
    reader = RangedOriginal(key, size, version_id=item.version_id)
    started = time.perf_counter()
    video.probe(reader, "video/mp4")
    probe_s = time.perf_counter() - started
    small_range_s = (one_byte(key, item.version_id), one_byte(small_object(), None))
    started = time.perf_counter()
    storage.hash_original(key, item.version_id)
    whole_s = time.perf_counter() - started
    return Figures(
        file_bytes=size,
        duration=facts["duration"],
        generate_s=generate_s,
        runs=samples,
        probe_s=probe_s,
        probe_bytes=reader.bytes_fetched,
        probe_requests=reader.requests,
        probe_fetch_s=reader.fetch_seconds,
        small_range_s=small_range_s,
        whole_s=whole_s,
        facts=facts,
        load=(load, os.getloadavg()[0]),
    )


def one_byte(key: str, version_id: str | None) -> float:
    """The median time of a 1-byte ranged GET (five of them)."""
    from uploads import storage

    times = []
    for _ in range(5):
        started = time.perf_counter()
        storage.read_original_range(key, 1000, 1001, version_id)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def small_object() -> str:
    from django.conf import settings

    from mediahub.aws import client

    key = "uploads/bench/small/original.mp4"
    client("s3").put_object(Bucket=settings.UPLOADS_BUCKET, Key=key, Body=bytes(1024**2))
    return key


# --- report ---------------------------------------------------------------------------------------------------


def mib(size: float) -> str:
    return f"{size / 1024**2:,.1f} MiB"


def markdown(figures: Figures) -> str:
    import av

    runs = figures.runs
    median_s = statistics.median(r.seconds for r in runs)
    read = max(r.bytes_read for r in runs)
    verdict, target = "**PASS**" if read <= TARGET_READ else "**FAIL**", mib(TARGET_READ)
    stages = sorted({name for r in runs for name in r.stages_ms})
    stage_rows = "\n".join(
        f"| {name} | {statistics.median(r.stages_ms.get(name, 0) for r in runs):,.0f} |" for name in stages
    )
    made = f"made in {figures.generate_s:.0f} s" if figures.generate_s else "made by an earlier run and kept"
    facts = figures.facts
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""{HEADING}

What reading a video in ranges costs: bytes fetched from S3 and time to the poster's renditions and the facts, for
a generated {mib(figures.file_bytes)} ({figures.file_bytes:,} bytes) 3840×2160 H.264 MP4 of {figures.duration:.0f} s
at {FPS} frames a second, a keyframe every second, its index (`moov`) at the end ({made}). Measured by
`.venv/bin/python bench/video.py` (also run by `make bench`).

How: moto's server on a free loopback port in the benchmark's process; the file uploaded to the uploads bucket
under an item's key; each run is `process_object` (forced after the first) as the item's S3 event runs it: HEAD,
ranged GETs through `uploads.ranged.RangedOriginal` (256 kB read-ahead) for FFmpeg's MP4 demuxer and H.264 decoder
(PyAV {av.__version__}), the poster (the first keyframe from 3 s in) made into the three renditions as JPEG and
WebP, stored, and the item marked ready. The file is above `FULL_HASH_MAX_BYTES` (256 MiB), so it is not
streamed for its SHA-256 (the item's `sha256` is {facts["sha256"]!r}).

| runs | bytes read (max) | share of the file | process_object, median | target | |
|---:|---:|---:|---:|---:|---|
| {len(runs)} | {mib(read)} | {read / figures.file_bytes:.2%} | {median_s:.2f} s | ≤ {target} read | {verdict} |

Stages of a run, median ms (from its log line: `preview` is HEAD to poster picture, `open` and `poster` are
FFmpeg's, `resize` and `encode` the renditions', `store` the PutObjects and the ready write):

| stage | ms |
|---|---:|
{stage_rows}

`video.probe` alone over a fresh reader: {figures.probe_s:.2f} s, {figures.probe_requests} ranged GETs,
{mib(figures.probe_bytes)}; {figures.probe_fetch_s:.2f} s of it waiting for the GETs, so
{figures.probe_s - figures.probe_fetch_s:.2f} s demuxing, decoding the keyframe and converting it to RGB. The wait
is moto's: it reads the whole object for every ranged GET (a 1-byte range of this file takes
{figures.small_range_s[0] * 1000:,.0f} ms, of a 1 MB object {figures.small_range_s[1] * 1000:,.0f} ms), where S3
answers a range in tens of milliseconds whatever the object's size. Facts found: {facts["size"]}, {facts["codecs"]},
{facts["fps"]:g} fps, {facts["duration"]:.1f} s. For comparison, streaming the whole file once from the same
server (what downloading it, as processing did before, costs at the least): {figures.whole_s:.1f} s.

Machine: {cpu_model()}, {os.cpu_count()} cores; Python {platform.python_version()}, PyAV {av.__version__} (FFmpeg
{".".join(map(str, av.library_versions["libavcodec"]))} libavcodec); load average {figures.load[0]:.1f} before the
runs and {figures.load[1]:.1f} after (other jobs share the machine); {now}.
"""


def unwrapped(text: str) -> str:
    """Each paragraph on one line, as the rest of docs/benchmarks.md has them; tables and headings kept."""
    lines, out = text.split("\n"), []
    for line in lines:
        joinable = out and out[-1] and line and not line.startswith(("|", "#")) and not out[-1].startswith(("|", "#"))
        if joinable:
            out[-1] += " " + line
        else:
            out.append(line)
    return "\n".join(out)


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv else RUNS
    path, generate_s = bench_video()
    print(f"video: {path} ({path.stat().st_size:,} bytes)", file=sys.stderr)
    server = start_server("127.0.0.1", 0)
    host, port = server.get_host_and_port()
    try:
        with tempfile.TemporaryDirectory(prefix="mediahub-bench-") as data_dir:
            configure(f"http://{host}:{port}", data_dir)
            figures = measure(path, generate_s, runs)
    finally:
        server.stop()
    report = unwrapped(markdown(figures))
    print(report)
    write_section(HEADING, report)


if __name__ == "__main__":
    main(sys.argv[1:])
