"""Complete -> ready latency of a 14-megapixel JPEG through a running local Celery worker.

    .venv/bin/python bench/latency.py [runs]

moto's server runs in this process on a free loopback port; a real Celery worker (prefork, concurrency 1, a queue
of its own on Redis) runs beside it, as `make run` starts one. Each run creates an item with `media_create`,
uploads the photo to the presigned POST over HTTP as a browser does, then times `media_complete` (which enqueues)
until a consistent read of the item says it is ready. The first run warms the worker up and is reported apart.
Prints the figures and replaces the "## Processing latency" section of docs/benchmarks.md with them.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import stack  # noqa: E402 (needs bench/ on the path)
from images import write_photo  # noqa: E402 (needs bench/ on the path)
from report import cpu_model, write_section  # noqa: E402 (needs bench/ on the path)

from mediahub.localaws import start_server  # noqa: E402 (needs ROOT on the path; reads no settings on import)

HEADING = "## Processing latency"
CACHE = ROOT / ".data" / "bench-images"
PHOTO_SIZE = (4592, 3064)  # 14.1 megapixels, a common camera size
PHOTO_SEED = 14
RUNS = 12  # the first is the warm-up
POLL_SECONDS = 0.02
RUN_TIMEOUT = 60.0
WORKER_START_TIMEOUT = 60.0
TARGET_P50 = 2.0  # seconds
STAGES = ("fetch", "decode", "resize", "encode", "store")
DONE = ("ready", "rejected", "failed")
SUCCEEDED = re.compile(r"Task uploads\.process_media\[(?P<task>[^\]]+)\] succeeded in (?P<seconds>[0-9.e-]+)s")
PROCESSED = '{"event": "processed"'


@dataclass
class Sample:
    item_id: str
    task_id: str
    status: str
    complete_s: float  # media_complete() itself: GetItem, HEAD, ranged GET, UpdateItem, publish
    latency_s: float  # from just before media_complete() until a read says ready
    task_s: float = 0.0  # the worker's own time for the task (Celery's "succeeded in")
    stages_ms: dict[str, int] = field(default_factory=dict)  # from the worker's structured log line


@dataclass
class Figures:
    samples: list[Sample]
    photo_bytes: int
    poll_ms: tuple[float, float]  # wall and CPU ms of one status read
    load: tuple[float, float]  # 1-minute load average before and after the runs


# --- set-up ------------------------------------------------------------------------------------------------


def configure(endpoint: str, data_dir: str) -> dict[str, str]:
    """Settings for this process and the worker: tables, buckets and queue of this run only. Returns the env."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    broker = broker if broker.startswith("redis") else "redis://127.0.0.1:6379/0"
    stack.configure(
        endpoint,
        data_dir,
        PROCESSING_MODE="celery",
        CELERY_BROKER_URL=broker,
        CELERY_RESULT_BACKEND=broker,
        CELERY_TASK_DEFAULT_QUEUE=f"mediahub-bench-{uuid.uuid4().hex[:8]}",
    )
    return {**os.environ, "LOG_LEVEL": "INFO"}  # the worker logs its structured line at INFO


def start_worker(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """A real worker as run locally (prefork), one process, on this run's queue; returns once it says ready."""
    queue = env["CELERY_TASK_DEFAULT_QUEUE"]
    command = [sys.executable, "-m", "celery", "-A", "mediahub", "worker", "-P", "prefork", "--concurrency", "1"]
    command += ["-Q", queue, "--without-gossip", "--without-mingle", "-l", "info"]
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"The Celery worker exited early:\n{log_path.read_text()}")
        if "ready." in log_path.read_text():
            return worker
        time.sleep(0.1)
    stop_worker(worker)
    raise SystemExit(f"The Celery worker did not become ready:\n{log_path.read_text()}")


def stop_worker(worker: subprocess.Popen) -> None:
    """Warm shutdown (SIGTERM: finish the task in hand, then exit); a kill only if that hangs."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def forget_queue(queue: str, task_ids: list[str]) -> None:
    """Remove this run's queue, its bindings and its task results from Redis, so runs leave nothing behind."""
    from mediahub.celery import app

    for task_id in task_ids:
        app.AsyncResult(task_id).forget()
    with app.connection_for_write() as connection:
        # A fresh channel knows no bindings to delete: declare the queue on it first, as the worker did.
        bound = app.amqp.queues[queue].bind(connection.default_channel)
        bound.declare()
        bound.delete()


def camera_photo() -> bytes:
    """One photo-like JPEG of PHOTO_SIZE (bench/images.py), cached with the other benchmarks' pictures."""
    path = CACHE / f"photo-latency-{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}.jpg"
    if not path.exists():
        write_photo(path, PHOTO_SIZE, PHOTO_SEED)
    return path.read_bytes()


# --- one run -------------------------------------------------------------------------------------------------


def one_run(owner_id: str, data: bytes, published: list[str]) -> Sample:
    from uploads import services

    ticket = services.media_create(
        owner_id=owner_id,
        name="Latency run",
        caption="",
        file_name="IMG_1400.jpg",
        content_type="image/jpeg",
        size=len(data),
    )
    upload(ticket.url, ticket.fields, data)
    started = time.perf_counter()
    services.media_complete(owner_id=owner_id, media_id=ticket.item.id)
    completed = time.perf_counter()
    status = wait_until_done(ticket.item.id, started + RUN_TIMEOUT)
    latency = time.perf_counter() - started
    return Sample(ticket.item.id, published[-1], status, completed - started, latency)


def upload(url: str, fields: dict[str, str], data: bytes) -> None:
    import requests

    response = requests.post(url, data=fields, files={"file": ("IMG_1400.jpg", data, "image/jpeg")}, timeout=60)
    if response.status_code not in (200, 204):
        raise SystemExit(f"The presigned POST answered {response.status_code}: {response.text[:500]}")


def wait_until_done(media_id: str, deadline: float) -> str:
    """Poll the item until processing has finished with it, one way or another."""
    while time.perf_counter() < deadline:
        status = read_status(media_id)
        if status in DONE:
            return status
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"Item {media_id} was not processed within {RUN_TIMEOUT:.0f} s.")


def read_status(media_id: str) -> str:
    """A consistent read of the status alone: the whole item would cost moto (in this process) a third more."""
    from uploads.models import MediaItem

    return MediaItem.get(media_id, consistent_read=True, attributes_to_get=["status"]).status


def poll_cost(media_id: str, calls: int = 50) -> tuple[float, float]:
    """(wall ms, CPU ms of this process) per poll: the client and moto's server thread together."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        read_status(media_id)
    return 1000 * (time.perf_counter() - wall) / calls, 1000 * (time.process_time() - cpu) / calls


def record_publishes() -> list[str]:
    """Ids of the tasks this process publishes, in order (media_complete enqueues without returning one)."""
    from celery.signals import after_task_publish

    published: list[str] = []

    def remember(sender: str | None = None, headers: dict | None = None, **_: Any) -> None:
        if sender == "uploads.process_media" and headers:
            published.append(headers["id"])

    after_task_publish.connect(remember, weak=False)
    return published


# --- the worker's side ---------------------------------------------------------------------------------------


def read_worker_log(log_path: Path, samples: list[Sample], timeout: float = 10.0) -> None:
    """Fill in each sample's task time and stage times from the worker's log (both lines follow the status)."""
    deadline = time.monotonic() + timeout
    while True:
        task_seconds, stages = parse_worker_log(log_path.read_text())
        if all(s.task_id in task_seconds and s.item_id in stages for s in samples) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for sample in samples:
        sample.task_s = task_seconds.get(sample.task_id, 0.0)
        sample.stages_ms = stages.get(sample.item_id, {})


def parse_worker_log(text: str) -> tuple[dict[str, float], dict[str, dict[str, int]]]:
    """Task id -> seconds (Celery's "succeeded in"), and item id -> ms per stage (uploads.processing's line)."""
    task_seconds = {m["task"]: float(m["seconds"]) for m in SUCCEEDED.finditer(text)}
    stages: dict[str, dict[str, int]] = {}
    decoder = json.JSONDecoder()
    for line in text.splitlines():
        start = line.find(PROCESSED)
        if start >= 0:
            record, _ = decoder.raw_decode(line[start:])
            stages[record["item"]] = record["ms"]
    return task_seconds, stages


# --- figures -------------------------------------------------------------------------------------------------


def percentile(values: list[float], percent: int) -> float:
    """Linear interpolation between the closest ranks (statistics.quantiles, inclusive)."""
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def split_ms(sample: Sample) -> dict[str, float]:
    """Where one run's time went, in ms; the parts add up to its latency. The stages all happen before the item
    turns ready (`store` ends with it); Celery's task time also counts work after that, so it is not used here."""
    stages = {stage: float(sample.stages_ms.get(stage, 0)) for stage in STAGES}
    complete_ms = 1000 * sample.complete_s
    return {"complete": complete_ms, **stages, "rest": 1000 * sample.latency_s - complete_ms - sum(stages.values())}


def mean_split(samples: list[Sample]) -> dict[str, float]:
    splits = [split_ms(s) for s in samples]
    return {part: statistics.fmean(split[part] for split in splits) for part in splits[0]}


# --- report --------------------------------------------------------------------------------------------------

SPLIT_LABELS = {
    "complete": "`media_complete()` in the web process: GetItem, HEAD, ranged GET (sniff), UpdateItem, publish",
    "fetch": "worker: fetch the original from S3 (`GetObject`, sha256)",
    "decode": "worker: decode (JPEG DCT-scaled to what the largest rendition needs), orient, sRGB",
    "resize": "worker: resize to every rendition",
    "encode": "worker: encode JPEG and WebP of each",
    "store": "worker: store the renditions (one `PutObject` per file) and mark ready (UpdateItem)",
    "rest": "the rest: Redis to the worker, dispatch to its pool process, the task's GetItem, attempt count "
    "(UpdateItem), HEAD and sniff, then noticing (up to one poll)",
}


def markdown(figures: Figures) -> str:
    samples, photo_bytes = figures.samples, figures.photo_bytes
    warmup, measured = samples[0], samples[1:]
    latencies = [s.latency_s for s in measured]
    p50 = percentile(latencies, 50)
    verdict = "**PASS**" if p50 < TARGET_P50 else "**FAIL**"
    megapixels = PHOTO_SIZE[0] * PHOTO_SIZE[1] / 1e6
    lines = [
        HEADING,
        "",
        f"Time from completing an upload to the item being ready, through a running local Celery worker, for a "
        f"{PHOTO_SIZE[0]}×{PHOTO_SIZE[1]} ({megapixels:.1f} MP, {photo_bytes / 1e6:.1f} MB) photo-like JPEG "
        "(`bench/images.py`). Measured by `.venv/bin/python bench/latency.py` (also run by `make bench`).",
        "",
        "How: moto's server on a free loopback port in the benchmark's process, bootstrapped by `bootstrap`; a real "
        "worker in a subprocess with the same settings (`celery -A mediahub worker -P prefork --concurrency 1`, a "
        "queue of its own on Redis). Each run calls `media_create`, uploads the bytes to the presigned POST with "
        "`requests` as a browser would, then starts the clock, calls `media_complete` (which checks the upload and "
        "enqueues `process_media`) and reads the item's status (`GetItem`, consistent, `status` only) every "
        f"{POLL_SECONDS * 1000:.0f} ms until it is ready. {len(samples)} runs, one at a time; the first warms the "
        "worker up (its first task imports codecs and opens connections) and is reported apart. Percentiles "
        "interpolate between ranks.",
        "",
        "| runs | p50 | p95 | max | warm-up run | target p50 | |",
        "|---:|---:|---:|---:|---:|---:|---|",
        f"| {len(measured)} | {p50:.2f} s | {percentile(latencies, 95):.2f} s | {max(latencies):.2f} s | "
        f"{warmup.latency_s:.2f} s | < {TARGET_P50:.0f} s | {verdict} |",
        "",
        *split_table(warmup, measured),
        "",
        poll_note(figures.poll_ms),
        "",
        machine(figures.load),
    ]
    return "\n".join(lines) + "\n"


def split_table(warmup: Sample, measured: list[Sample]) -> list[str]:
    means, first = mean_split(measured), split_ms(warmup)
    total = statistics.fmean(s.latency_s for s in measured) * 1000
    task, first_task = statistics.fmean(s.task_s for s in measured) * 1000, warmup.task_s * 1000
    lines = [
        "Where the time goes, mean ms per run. The worker's stages come from the JSON line `uploads.processing` "
        "logs for each run (`ms`); the rest is what remains of the latency. For comparison, Celery reports the "
        f"measured runs' task at {task:.0f} ms on average (`succeeded in`; it also counts what follows the item "
        f"turning ready: the log line and storing the result in Redis) and the warm-up's at {first_task:.0f} ms.",
        "",
        "| part | mean ms | share | warm-up run ms |",
        "|---|---:|---:|---:|",
    ]
    for part, label in SPLIT_LABELS.items():
        lines.append(f"| {label} | {means[part]:.0f} | {means[part] / total:.0%} | {first[part]:.0f} |")
    lines.append(f"| **complete → ready** | **{total:.0f}** | | **{warmup.latency_s * 1000:.0f}** |")
    return lines


def poll_note(poll_ms: tuple[float, float]) -> str:
    wall, cpu = poll_ms
    share = cpu / (wall + POLL_SECONDS * 1000)
    return (
        f"The benchmark's own load: one status read takes {wall:.1f} ms and {cpu:.1f} ms of CPU in this process "
        f"(the client and moto's server thread together), so polling every {POLL_SECONDS * 1000:.0f} ms keeps about "
        f"{share:.0%} of a core busy while the worker runs. moto also serves the worker's S3 and DynamoDB calls from "
        "this process, so `fetch` and `store` include moto's own time (real S3 adds network latency instead)."
    )


def machine(load: tuple[float, float]) -> str:
    import celery
    import PIL

    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Machine: {cpu_model()}, {len(os.sched_getaffinity(0))} cores; Python {platform.python_version()}, "
        f"Pillow {PIL.__version__}, Celery {celery.__version__}; load average {load[0]:.1f} before the runs and "
        f"{load[1]:.1f} after (other jobs share the machine); {today}."
    )


def summary(samples: list[Sample]) -> str:
    return "\n".join(
        f"run {n:2} {s.status:8} {s.latency_s * 1000:6.0f} ms  complete {s.complete_s * 1000:4.0f} ms  "
        f"task {s.task_s * 1000:5.0f} ms  {s.stages_ms}"
        for n, s in enumerate(samples)
    )


# --- main ----------------------------------------------------------------------------------------------------


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv else RUNS
    if runs < 3:
        raise SystemExit("Give at least 3 runs: a warm-up and two to take percentiles of.")
    server = start_server("127.0.0.1", 0)
    host, port = server.get_host_and_port()
    try:
        with tempfile.TemporaryDirectory(prefix="mediahub-bench-") as data_dir:
            env = configure(f"http://{host}:{port}", data_dir)
            figures = measure(runs, env, Path(data_dir) / "worker.log")
    finally:
        server.stop()
    print(summary(figures.samples), file=sys.stderr)
    report = markdown(figures)
    print(report)
    write_section(HEADING, report)


def measure(runs: int, env: dict[str, str], log_path: Path) -> Figures:
    data = camera_photo()
    published = record_publishes()
    load = os.getloadavg()[0]
    worker = start_worker(env, log_path)
    try:
        owner_id = str(uuid.uuid4())
        samples = [one_run(owner_id, data, published) for _ in range(runs)]
        read_worker_log(log_path, samples)
    finally:
        stop_worker(worker)
        forget_queue(env["CELERY_TASK_DEFAULT_QUEUE"], published)
    bad = [s for s in samples if s.status != "ready" or not s.stages_ms]
    if bad:
        raise SystemExit(f"{len(bad)} run(s) did not end ready with a log line:\n{log_path.read_text()[-5000:]}")
    return Figures(samples, len(data), poll_cost(samples[-1].item_id), (load, os.getloadavg()[0]))


if __name__ == "__main__":
    main(sys.argv[1:])
