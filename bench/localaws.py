"""Start-up of the local AWS with its state kept on disk: empty, and after 500 processed uploads.

    .venv/bin/python bench/localaws.py [uploads]

`manage.py localaws` runs as `make run` starts it (a process of its own, bootstrapping), on a free loopback port
with its state in a temporary folder. This process makes the uploads through the application's own services, as
the API does (`media_create`, the presigned POST over HTTP, `media_complete`, with PROCESSING_MODE=lambda), and
processes each at once as its S3 event would have it (`process_object`: renditions in the renditions bucket).
Then it stops the local AWS (SIGTERM, which saves), starts it again and times it until ready, checks that the
gallery lists the uploads and an original downloads intact, and measures what the snapshot costs on disk and to
write and read.
Prints the figures and replaces the "## Local AWS start-up" section of docs/benchmarks.md with them.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from images import photo  # noqa: E402 (needs bench/ on the path)
from report import cpu_model, write_section  # noqa: E402 (needs bench/ on the path)

HEADING = "## Local AWS start-up"
UPLOADS = 500
PHOTO_SIZE = (1600, 1200)  # 1.9 MP: three renditions (thumb, medium, large = the original's size), JPEG + WebP
BASE_PHOTOS = 8  # distinct pictures; each upload marks one differently, so no two bodies are the same
OWNER = "bench-owner"
READY_TIMEOUT = 120.0
TARGET_START = 5.0  # seconds, "a few seconds"


@dataclass
class Start:
    ready_s: float  # process start -> "Ready." (imports, restore, listening, bootstrap)
    cpu_s: float  # the process's CPU time by then: what other jobs on the machine disturb less
    restore_s: float  # the command's own figure: importing moto's server and restoring the snapshot
    rss_mb: float  # its resident memory once ready


@dataclass
class Figures:
    uploads: int
    upload_s: float
    empty: Start
    full: Start
    stop_s: float
    busy_rss_mb: float  # the local AWS's resident memory after the uploads, before the stop
    objects: int
    body_bytes: int
    snapshot_bytes: int
    save_s: float
    load_s: float
    gallery_items: int
    load: tuple[float, float]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configure(data_dir: Path) -> dict[str, str]:
    """Settings for this process and the local AWS: a free port, the temporary folder, processing in-process."""
    os.environ.pop("DATABASE_URL", None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="mediahub.settings",
        LOCAL_DATA_DIR=str(data_dir),
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{free_port()}",
        PROCESSING_MODE="lambda",  # complete enqueues nothing: upload_all processes as the S3 event would
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    return dict(os.environ)


def start(env: dict[str, str], log_path: Path) -> tuple[subprocess.Popen, Start]:
    log_path.write_bytes(b"")
    started = time.perf_counter()
    with open(log_path, "ab") as log:
        command = [sys.executable, "manage.py", "localaws"]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    while "Ready." not in (text := log_path.read_text()):
        if process.poll() is not None or time.perf_counter() - started > READY_TIMEOUT:
            raise SystemExit(f"The local AWS did not start:\n{text}")
        time.sleep(0.02)
    ready = time.perf_counter() - started
    restore = float(text.split("(started in ")[1].split(" s)")[0])
    return process, Start(ready, cpu_seconds(process.pid), restore, rss_mb(process.pid))


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(process: subprocess.Popen) -> float:
    started = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)
    return time.perf_counter() - started


def pictures(count: int) -> list[bytes]:
    """`count` distinct JPEGs: BASE_PHOTOS photo-like pictures, each copy marked with its own small pattern."""
    from PIL import ImageDraw

    bases = [photo(PHOTO_SIZE, seed) for seed in range(BASE_PHOTOS)]
    jpegs = []
    for n in range(count):
        picture = bases[n % BASE_PHOTOS].copy()
        draw = ImageDraw.Draw(picture)
        for bit in range(10):  # n in binary, as squares along the top edge
            shade = 255 if n >> bit & 1 else 0
            draw.rectangle((20 + bit * 40, 20, 50 + bit * 40, 50), fill=(shade, shade, shade))
        buffer = io.BytesIO()
        picture.save(buffer, "JPEG", quality=90)
        jpegs.append(buffer.getvalue())
    return jpegs


def upload_all(jpegs: list[bytes]) -> list[str]:
    """Each picture through the upload flow, then processed as its S3 event would have it; returns the item ids."""
    import requests
    from django.conf import settings

    from uploads import processing, services

    ids = []
    for n, data in enumerate(jpegs):
        ticket = services.media_create(
            owner_id=OWNER, name=f"Photo {n}", caption="", file_name=f"IMG_{n}.jpg", content_type="image/jpeg",
            size=len(data),
        )  # fmt: skip
        files = {"file": (f"IMG_{n}.jpg", data, "image/jpeg")}
        requests.post(ticket.url, data=ticket.fields, files=files, timeout=60).raise_for_status()
        item = services.media_complete(owner_id=OWNER, media_id=ticket.item.id)
        processing.process_object(settings.UPLOADS_BUCKET, item.object_key)
        ids.append(item.id)
    return ids


def check_restored(ids: list[str], first: bytes) -> int:
    """The gallery's first page lists the newest uploads, every item is ready, the first original is intact."""
    from mediahub.aws import client
    from uploads.models import MediaItem
    from uploads.selectors import media_page_for_owner

    items, _ = media_page_for_owner(owner_id=OWNER, cursor=None)
    if not items or items[0].id != ids[-1]:
        raise SystemExit("After the restart the gallery does not start with the newest upload.")
    statuses = {item.status for item in MediaItem.batch_get(ids)}
    if statuses != {"ready"}:
        raise SystemExit(f"After the restart the items are {statuses}, not all ready.")
    from django.conf import settings

    item = MediaItem.get(ids[0])
    body = client("s3").get_object(Bucket=settings.UPLOADS_BUCKET, Key=item.object_key)["Body"].read()
    if hashlib.sha256(body).digest() != hashlib.sha256(first).digest():
        raise SystemExit("After the restart the first original does not download intact.")
    return len(items)


def snapshot_costs(folder: Path) -> tuple[float, float]:
    """(save s, load s) of the snapshot itself, in this process (the local AWS is stopped)."""
    from moto.backends import get_backend

    from mediahub.localaws import PERSISTED_SERVICES, Store

    for service in PERSISTED_SERVICES:  # import moto's models first: the figure is the restore alone
        get_backend(service)
    store = Store(folder)
    started = time.perf_counter()
    store.load()
    loaded = time.perf_counter()
    store.save()
    return time.perf_counter() - loaded, loaded - started


def measure(count: int, data_dir: Path) -> Figures:
    env = configure(data_dir)
    log_path = data_dir / "localaws.log"
    folder = data_dir / "localaws"
    load_before = os.getloadavg()[0]
    process, empty = start(env, log_path)
    print(f"empty start {empty.ready_s:.2f} s; making {count} pictures", file=sys.stderr)
    jpegs = pictures(count)
    started = time.perf_counter()
    ids = upload_all(jpegs)
    upload_s = time.perf_counter() - started
    busy_rss = rss_mb(process.pid)
    stop_s = stop(process)
    blobs = list((folder / "blobs").iterdir())
    process, full = start(env, log_path)
    try:
        gallery = check_restored(ids, jpegs[0])
    finally:
        stop(process)
    save_s, load_s = snapshot_costs(folder)
    return Figures(
        uploads=count,
        upload_s=upload_s,
        empty=empty,
        full=full,
        stop_s=stop_s,
        busy_rss_mb=busy_rss,
        objects=len(blobs),
        body_bytes=sum(path.stat().st_size for path in blobs),
        snapshot_bytes=(folder / "state.pickle").stat().st_size,
        save_s=save_s,
        load_s=load_s,
        gallery_items=gallery,
        load=(load_before, os.getloadavg()[0]),
    )


def markdown(f: Figures) -> str:
    from mediahub.localaws import SNAPSHOT_SECONDS, SNAPSHOT_SHARE

    verdict = "**PASS**" if f.full.cpu_s < TARGET_START else "**FAIL**"
    mib = 1024 * 1024
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        HEADING,
        "",
        "`manage.py localaws` (what `make run` starts) keeps its state under `.data/localaws/`: a snapshot of moto's "
        "S3 and DynamoDB backends (`state.pickle`) and the object bodies, one file per distinct content "
        f"(`blobs/`). Measured by `.venv/bin/python bench/localaws.py` (also run by `make bench`): {f.uploads} "
        f"uploads of distinct {PHOTO_SIZE[0]}×{PHOTO_SIZE[1]} photo-like JPEGs through the application's services "
        "(`media_create`, the presigned POST over HTTP, `media_complete`), each processed at once into its "
        f"renditions ({f.uploads} uploads in {f.upload_s:.0f} s, snapshots being taken meanwhile), then a stop "
        "(SIGTERM) and a start.",
        "",
        "| start | to ready | CPU time to ready | of which moto's import and the restore | target (CPU) | |",
        "|---|---:|---:|---:|---:|---|",
        f"| empty | {f.empty.ready_s:.2f} s | {f.empty.cpu_s:.2f} s | {f.empty.restore_s:.2f} s | | |",
        f"| after {f.uploads} uploads | {f.full.ready_s:.2f} s | {f.full.cpu_s:.2f} s | {f.full.restore_s:.2f} s | "
        f"< {TARGET_START:.0f} s | {verdict} |",
        "",
        "\"To ready\" is from starting the process to its `Ready.` line: Django's start-up, importing moto's "
        "server, the restore, listening, and the bootstrap (which checks and re-applies every bucket's and table's "
        "configuration). The verdict is on the process's CPU time, which other jobs on this shared machine "
        "(load average below) disturb less than wall time.",
        "",
        f"On disk after {f.uploads} uploads: {f.objects:,} object bodies, {f.body_bytes / mib:.0f} MiB (originals "
        f"and renditions), and a {f.snapshot_bytes / mib:.1f} MiB snapshot of everything else. Writing one "
        f"snapshot takes {f.save_s * 1000:.0f} ms (bodies already on disk are not written again; the server holds "
        f"requests meanwhile), reading it back {f.load_s:.2f} s. Stopping, the final save included, took "
        f"{f.stop_s:.2f} s. After the restart the gallery's first page listed the newest {f.gallery_items} "
        "items, every item was ready, and the first original downloaded byte for byte.",
        "",
        f"Memory: the local AWS held {f.busy_rss_mb:.0f} MB after the uploads (moto keeps each body under 5 MB it "
        f"receives in memory) and {f.full.rss_mb:.0f} MB once restarted and ready ({f.empty.rss_mb:.0f} MB empty): "
        "restored bodies stay on disk until something reads them.",
        "",
        f"A kill -9 loses what changed since the last snapshot. Snapshots follow changes every "
        f"{SNAPSHOT_SECONDS:.0f} s, or {SNAPSHOT_SHARE} times as long as the last one took if that is longer (so "
        f"requests are never held more than a fifth of the time): at this size one every "
        f"{max(SNAPSHOT_SECONDS, SNAPSHOT_SHARE * f.save_s):.1f} s, so a kill -9 loses at most that much activity.",
        "",
        f"Machine: {cpu_model()}, {len(os.sched_getaffinity(0))} cores; Python {platform.python_version()}; load "
        f"average {f.load[0]:.1f} before and {f.load[1]:.1f} after (other jobs share the machine); {today}.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    count = int(argv[0]) if argv else UPLOADS
    with tempfile.TemporaryDirectory(prefix="mediahub-bench-localaws-") as data_dir:
        figures = measure(count, Path(data_dir))
    report = markdown(figures)
    print(report)
    write_section(HEADING, report)


if __name__ == "__main__":
    main(sys.argv[1:])
