"""The upload engine: 20 photos through the page against the former sequential script, and a 2 GiB file through
the page, the CLI and boto3's own parallel `upload_file`, with their peak memory.

    .venv/bin/python bench/uploads.py

moto's server runs in this process on a free loopback port (bench/stack.py, watched: requests in flight, busy
time); Django's development server (`manage.py runserver --noreload`, threaded) runs in a subprocess on another,
with SITE_URL set to its origin so the uploads bucket's CORS admits the page. Debian's headless Chromium drives
the real upload page through Playwright, signed in through the sign-in form as a user made for the run. The
former page script (one file after another, one presigned POST each) is served in place of the bundle with
`page.route`, in the same run; concurrency settings other than the uploader's own go in as data attributes on
the form, set by a line served before the bundle (frontend/src/upload/index.js reads them). Prints the figures and
replaces the "## Uploads" section of docs/benchmarks.md with them.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import psutil  # noqa: E402
from images import PHOTO_SIZES, photo  # noqa: E402 (needs bench/ on the path)
from report import machine, write_section  # noqa: E402 (needs bench/ on the path)
from stack import AwsCalls, configure, start_local_aws  # noqa: E402 (needs bench/ and ROOT on the path)

HEADING = "## Uploads"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHOTOS = 20
PHOTO_BYTES = (3_000_000, 5_000_000)
PHOTO_CACHE = ROOT / ".data" / "bench-images" / "uploads"
ROUNDS = 3  # each engine this many times on the photos, alternating; the median is reported
TARGET_SPEEDUP = 4.0
BIG_BYTES = 2 * 1024**3
TARGET_OF_BOTO3 = 0.8
MiB = 1024**2
BOTO3_CONFIG = {"multipart_threshold": 16 * MiB, "multipart_chunksize": 16 * MiB, "max_concurrency": 10}
SEQUENTIAL_SCRIPT = "a0bbe2d:static/js/upload.js"  # the page script before the upload engine
# Concurrency of the page: files at once, parts of a file at once, storage requests at once (uploader.js).
DEFAULT_TUNING = (4, 4, 6)
TUNINGS = [(1, 1, 1), (2, 2, 2), (6, 6, 6)]  # tried once each on the photos, beside the default's median
PASSWORD = uuid.uuid4().hex
PHOTO_TIMEOUT_MS = 180_000
BIG_TIMEOUT_S = 600.0
SAMPLE_SECONDS = 0.1


# --- what is measured --------------------------------------------------------------------------------------


@dataclass
class Traffic:
    """What one run cost the servers: moto's view (bench/stack.py) and the API requests in Django's log."""

    seconds: float
    moto_busy: float
    storage_peak: int  # requests (POST, part PUT) in flight at once at the storage endpoint, preflights aside
    preflights: int
    storage_requests: int
    dynamodb: int
    s3_by_app: int
    api: Counter[str] = field(default_factory=Counter)

    @property
    def busy_share(self) -> float:
        return self.moto_busy / self.seconds


@dataclass
class Memory:
    """Resident memory of a group of processes, sampled every SAMPLE_SECONDS while a transfer runs (MiB)."""

    before: float = 0.0
    peak: float = 0.0
    peak_first_half: float = 0.0
    peak_second_half: float = 0.0


@dataclass
class BigRun:
    label: str
    seconds: float
    memory: dict[str, Memory]
    traffic: Traffic | None = None
    js_heap_mib: float | None = None
    note: str = ""

    @property
    def mb_per_s(self) -> float:
        return BIG_BYTES / 1e6 / self.seconds


class Sampler:
    """RSS sums of named process groups, in a thread, until stopped; then `Memory` per group."""

    def __init__(self, groups: dict[str, Callable[[], list[psutil.Process]]]) -> None:
        self.groups = groups
        self.samples: dict[str, list[tuple[float, float]]] = {name: [] for name in groups}
        self.before = {name: rss_mib(find()) for name, find in groups.items()}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self.started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.ended = time.perf_counter()
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            for name, find in self.groups.items():
                self.samples[name].append((time.perf_counter(), rss_mib(find())))

    def memory(self) -> dict[str, Memory]:
        middle = (self.started + self.ended) / 2
        result = {}
        for name, samples in self.samples.items():
            first = [rss for t, rss in samples if t < middle] or [0.0]
            second = [rss for t, rss in samples if t >= middle] or [0.0]
            result[name] = Memory(self.before[name], max(first + second), max(first), max(second))
        return result


def rss_mib(processes: list[psutil.Process]) -> float:
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):  # ended between listing and reading
            total += process.memory_info().rss
    return total / MiB


def chromium(renderers_only: bool) -> Callable[[], list[psutil.Process]]:
    """Chromium's processes under this one (Playwright's driver starts it): all, or the renderers (the tab)."""

    def find() -> list[psutil.Process]:
        found = []
        for process in psutil.Process().children(recursive=True):
            try:
                if "chrom" in process.name() and (not renderers_only or "--type=renderer" in process.cmdline()):
                    found.append(process)
            except psutil.Error:
                pass
        return found

    return find


def this_process() -> list[psutil.Process]:
    return [psutil.Process()]


# --- the stack: moto here, Django's server in a subprocess ------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def django_server(port: int, log_path: Path) -> Iterator[None]:
    """runserver (threaded, as `make run` has it) on `port`, with this process's settings in its environment."""
    command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    with open(log_path, "wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not answers(f"http://127.0.0.1:{port}/healthz"):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"Django's server did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own http:// URL)
            return response.status == 200
    except OSError:
        return False


def make_user() -> tuple[str, str]:
    """A user for the run, and a read-write API token for the CLI."""
    from django.contrib.auth.models import User

    from profiles.models import ApiToken
    from profiles.tokens import token_create

    user = User.objects.create_user(f"bench-{uuid.uuid4().hex[:6]}", "bench@example.com", PASSWORD)
    _, token = token_create(user, name="bench", scope=ApiToken.WRITE)
    return user.username, token


def empty_uploads_bucket() -> None:
    """Between runs: moto holds every object in memory, so what one run sent would weigh on the next."""
    import gc

    from django.conf import settings

    from mediahub import aws
    from uploads import storage

    storage.delete_prefix_versions(settings.UPLOADS_BUCKET, "")
    for upload in aws.client("s3").list_multipart_uploads(Bucket=settings.UPLOADS_BUCKET).get("Uploads", []):
        storage.abort_multipart(upload["Key"], upload["UploadId"])
    gc.collect()


class Watch:
    """Traffic of one run: moto's counters reset at the start, Django's log read from where it was."""

    def __init__(self, calls: AwsCalls, log_path: Path) -> None:
        self.calls, self.log_path = calls, log_path

    def start(self) -> None:
        self.calls.reset()
        self.log_offset = self.log_path.stat().st_size
        self.started = time.perf_counter()

    def stop(self) -> Traffic:
        seconds = time.perf_counter() - self.started
        calls = self.calls
        unsigned = calls.by_service("unsigned")
        with open(self.log_path, "rb") as log:
            log.seek(self.log_offset)
            api = Counter(api_request(line) for line in log.read().decode(errors="replace").splitlines())
        api.pop(None, None)
        return Traffic(
            seconds=seconds,
            moto_busy=calls.busy,
            storage_peak=calls.peak["unsigned"] or calls.peak["s3"],  # presigned (browser, CLI), else boto3's
            preflights=sum(n for op, n in unsigned.items() if op.startswith("OPTIONS")),
            storage_requests=sum(n for op, n in unsigned.items() if not op.startswith("OPTIONS")),
            dynamodb=sum(calls.by_service("dynamodb").values()),
            s3_by_app=sum(calls.by_service("s3").values()),
            api=api,
        )


def api_request(line: str) -> str | None:
    """`POST api/media/{id}/complete` from runserver's request line; None for other lines."""
    if '"' not in line or " /api/" not in line:
        return None
    method, path = line.split('"')[1].split()[:2]
    return call_label(method, path)


def call_label(method: str, path: str) -> str:
    """The method and path with ids folded, query left out."""
    parts = path.split("?")[0].strip("/").split("/")
    return " ".join([method, "/".join("{id}" if len(p) > 20 else p for p in parts)])


def time_requests(page: Any, site: str) -> dict[str, list[float]]:
    """Milliseconds each request of the page took (Chromium's own timing), by call: the API's by path, the
    storage's as `POST storage` or `PUT storage`."""
    took: dict[str, list[float]] = {}

    def finished(request: Any) -> None:
        url, timing = request.url, request.timing
        if url.startswith(f"{site}/api/"):
            label = call_label(request.method, url.removeprefix(site))
        elif url.startswith(os.environ["AWS_ENDPOINT_URL"]):
            label = f"{request.method} storage"
        else:
            return
        took.setdefault(label, []).append(timing["responseEnd"])

    page.on("requestfinished", finished)
    return took


# --- the page in Chromium ----------------------------------------------------------------------------------


@dataclass
class Browser:
    browser: Any
    site: str
    storage_state: dict
    sequential_script: str


def sign_in(browser: Any, site: str, username: str) -> dict:
    """Through the sign-in form once; each run's fresh context (no Golden Retriever state) reuses the cookies."""
    context = browser.new_context(base_url=site)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.get_by_test_id("user-menu").wait_for()
    state = context.storage_state()
    context.close()
    return state


def upload_page(chrome: Browser, *, sequential: bool = False, tuning: tuple[int, int, int] | None = None) -> Any:
    context = chrome.browser.new_context(base_url=chrome.site, storage_state=chrome.storage_state)
    page = context.new_page()
    page.set_default_timeout(PHOTO_TIMEOUT_MS)
    if sequential:
        page.route(
            "**/static/build/upload.js",
            lambda route: route.fulfill(body=chrome.sequential_script, content_type="text/javascript"),
        )
    if tuning and tuning != DEFAULT_TUNING:
        page.route("**/static/build/upload.js", lambda route: tuned(route, tuning))
    page.goto("/upload/")
    # While a route is set, Chromium hands every request to Playwright, a part's bytes too (seconds per part):
    # the script is in, so none is needed any more.
    page.unroute_all()
    return page


def tuned(route: Any, tuning: tuple[int, int, int]) -> None:
    """The bundle, preceded by a line that sets the uploader's concurrency on the form, where
    frontend/src/upload/index.js reads it. (The script, not the page: a page fulfilled by Playwright counts as
    public to Chromium's local network access checks, which then block its uploads to the loopback storage.)"""
    files, parts, connections = tuning
    dataset = json.dumps({"filesAtOnce": files, "partsPerFile": parts, "connections": connections})
    prefix = f"Object.assign(document.getElementById('upload-form').dataset, {dataset});\n"
    response = route.fetch()
    route.fulfill(response=response, body=prefix + response.text())


# Done: the new page's overall line, or every row of the former script saying "Done.".
ALL_UPLOADED = (
    "n => (document.querySelector('[data-testid=overall]')?.textContent || '').startsWith(`${n} of ${n} uploaded`)"
)
ALL_DONE = (
    "n => { const rows = [...document.querySelectorAll('[data-testid=progress-text]')];"
    " return rows.length === n && rows.every(r => r.textContent === 'Done.'); }"
)


@dataclass
class PhotoRun:
    engine: str
    tuning: tuple[int, int, int] | None
    traffic: Traffic
    took: dict[str, list[float]]  # ms per request, by call (time_requests)


def photo_run(chrome: Browser, watch: Watch, paths: list[Path], *, sequential: bool, tuning=DEFAULT_TUNING) -> PhotoRun:
    page = upload_page(chrome, sequential=sequential, tuning=tuning)
    page.set_input_files("#id_file", [str(p) for p in paths])
    took = time_requests(page, chrome.site)
    watch.start()
    page.click("#upload-button")
    try:
        page.wait_for_function(ALL_DONE if sequential else ALL_UPLOADED, arg=len(paths), polling="raf")
    except Exception:
        rows = page.get_by_test_id("progress-text").all_inner_texts()
        raise SystemExit(f"The photos did not all upload: {Counter(rows).most_common(5)}") from None
    traffic = watch.stop()
    page.context.close()
    empty_uploads_bucket()
    engine = "sequential" if sequential else "engine"
    print(f"  photos, {engine} {tuning if not sequential else ''}: {traffic.seconds:.2f} s", file=sys.stderr)
    return PhotoRun(engine, None if sequential else tuning, traffic, took)


def big_page_run(chrome: Browser, watch: Watch, path: Path) -> BigRun:
    """The big file through the page: from the click to the page it goes to once the file has arrived."""
    page = upload_page(chrome)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.set_input_files("#id_file", str(path))
    heap = 0.0
    groups = {"tab": chromium(renderers_only=True), "chromium": chromium(renderers_only=False), "moto": this_process}
    with Sampler(groups) as sampler:
        watch.start()
        page.click("#upload-button")
        deadline = time.monotonic() + BIG_TIMEOUT_S
        while "/uploaded/" not in page.url:
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"The big file did not upload: {page.get_by_test_id('progress-text').all_inner_texts()}"
                )
            metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
            heap = max(heap, metrics.get("JSHeapUsedSize", 0) / MiB)
            page.wait_for_timeout(500)
        traffic = watch.stop()
    page.context.close()
    run = BigRun("page", traffic.seconds, sampler.memory(), traffic, heap)
    print(f"  big file, page: {run.seconds:.1f} s, {run.mb_per_s:.0f} MB/s", file=sys.stderr)
    return run


# --- the CLI and boto3, each in a process of its own ----------------------------------------------------------


def process_run(label: str, command: list[str], watch: Watch, note: str = "") -> BigRun:
    """Wall time of `command` from start to exit, its own RSS (and its children's) and moto's, sampled."""
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    tree = psutil.Process(process.pid)

    def own() -> list[psutil.Process]:
        try:
            return [tree, *tree.children(recursive=True)]
        except psutil.Error:
            return []

    with Sampler({label: own, "moto": this_process}) as sampler:
        watch.start()
        output, _ = process.communicate(timeout=BIG_TIMEOUT_S)
        traffic = watch.stop()
    if process.returncode != 0:
        raise SystemExit(f"{label} failed (exit {process.returncode}):\n{output.decode(errors='replace')[-3000:]}")
    memory = sampler.memory()
    memory["process"] = memory.pop(label)
    run = BigRun(label, traffic.seconds, memory, traffic, note=note)
    print(f"  big file, {label}: {run.seconds:.1f} s, {run.mb_per_s:.0f} MB/s", file=sys.stderr)
    return run


def cli_command(path: Path, site: str, token: str, state: Path) -> list[str] | None:
    if not (ROOT / "mediahub_cli").exists():
        return None
    options = ["--url", site, "--token", token, "--no-progress", "--state", str(state)]
    return [sys.executable, "-m", "mediahub_cli", "upload", str(path), *options]


def boto3_command(path: Path) -> list[str]:
    from django.conf import settings

    return [sys.executable, __file__, "boto3", str(path), settings.UPLOADS_BUCKET, f"bench/boto3/{path.name}"]


def boto3_upload(path: str, bucket: str, key: str) -> None:
    """The child's side: boto3's managed transfer, parallel parts, to the same endpoint and bucket."""
    import boto3
    from boto3.s3.transfer import TransferConfig

    credentials = {"aws_access_key_id": "bench", "aws_secret_access_key": "bench"}
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1", **credentials)
    s3.upload_file(path, bucket, key, Config=TransferConfig(**BOTO3_CONFIG))


def sha256_seconds(path: Path) -> float:
    """What hashing the whole file costs here (the CLI does it first, to skip files already in the library)."""
    import hashlib

    started = time.perf_counter()
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(8 * MiB):
            digest.update(chunk)
    return time.perf_counter() - started


# --- the files ----------------------------------------------------------------------------------------------


def photo_files() -> list[Path]:
    """20 camera-like JPEGs of 3-5 MB (kept in .data between runs: making them takes half a minute)."""
    paths = []
    for n in range(PHOTOS):
        path = PHOTO_CACHE / f"IMG_{n:04}.jpg"
        if not path.exists() or not PHOTO_BYTES[0] <= path.stat().st_size <= PHOTO_BYTES[1]:
            write_photo_in_range(path, PHOTO_SIZES[n % len(PHOTO_SIZES)], seed=n)
        paths.append(path)
    return paths


def write_photo_in_range(path: Path, size: tuple[int, int], seed: int) -> None:
    """Saved at the JPEG quality that lands it within PHOTO_BYTES (the grain varies with the seed)."""
    import io

    picture = photo(size, seed)
    for quality in (90, 86, 93, 82, 95, 78):
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=quality)
        if PHOTO_BYTES[0] <= out.tell() <= PHOTO_BYTES[1]:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(out.getvalue())
            return
    raise SystemExit(f"No JPEG quality puts {path.name} ({size}) within {PHOTO_BYTES} bytes.")


def video_file(path: Path, size: int) -> Path:
    """An MP4 by its first bytes (what arrival sniffs), the rest sparse zeros (as the browser tests make one)."""
    with open(path, "wb") as out:
        out.write(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")
        out.truncate(size)
    return path


# --- report --------------------------------------------------------------------------------------------------


def describe(tuning: tuple[int, int, int]) -> str:
    files, parts, connections = tuning
    return f"{files} files × {parts} parts, {connections} connections"


def verdict(ok: bool) -> str:
    return "**PASS**" if ok else "**FAIL**"


def median_run(runs: list[PhotoRun]) -> PhotoRun:
    return sorted(runs, key=lambda r: r.traffic.seconds)[len(runs) // 2]


def markdown(
    photos: dict[str, list[PhotoRun]],
    tunings: list[PhotoRun],
    photo_mb: float,
    big: list[BigRun],
    sha_s: float,
    cli_missing: bool,
    load: tuple[float, ...],
) -> str:
    sequential, engine = median_run(photos["sequential"]), median_run(photos["engine"])
    speedup = sequential.traffic.seconds / engine.traffic.seconds
    lines = [
        HEADING,
        "",
        "The upload engine (issue 11): photos through the real upload page in Chromium against the former "
        "sequential script, and one big file through the page, the CLI and boto3's own parallel `upload_file`. "
        "Measured by `.venv/bin/python bench/uploads.py` (also run by `make bench`).",
        "",
        "How: moto's server on loopback, in the benchmark's process, holds S3 and DynamoDB (it serves one request "
        "at a time: `mediahub/localaws.py` `one_request_at_a_time`); Django's development server "
        "(`runserver --noreload`, threaded, `DEBUG` on, SQLite) runs in a subprocess with `SITE_URL` set to its "
        "origin, so the uploads bucket's CORS admits the page. Rate limits are raised for the run "
        "(`RATE_LIMIT_UPLOAD`, `RATE_LIMIT_API`: the bench uploads hundreds of files a minute) but still counted "
        "in DynamoDB on every call. No worker runs: completed items are queued for processing, not processed. "
        "Debian's headless Chromium (Playwright, a fresh context per run, signed in through the form) picks the "
        "files and clicks Upload; time runs from the click to the page saying all are uploaded. Uploaded objects "
        "are deleted between runs. moto's figures are counted inside its server: requests in flight at once, "
        "and its busy share (the part of the run it had a request to answer).",
        "",
        f"### {PHOTOS} photos ({photo_mb:.0f} MB, JPEGs of 3–5 MB)",
        "",
        f"The sequential path is the page script before the engine (`git show {SEQUENTIAL_SCRIPT}`: one file "
        "after another, create, one presigned POST, complete), served in place of the bundle with Playwright's "
        f"`page.route`. Engine and sequential alternate, {ROUNDS} runs each; medians.",
        "",
        "| page | seconds (median) | runs | MB/s | storage requests in flight, most | moto busy | "
        "API calls per photo | DynamoDB calls per photo |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for name, label in (
        ("sequential", "sequential (former script)"),
        ("engine", f"engine, {describe(DEFAULT_TUNING)}"),
    ):
        median = median_run(photos[name])
        lines.append(photo_row(label, median, photos[name], photo_mb))
    lines += [
        "",
        f"Speed-up, sequential / engine: **{speedup:.2f}×** (target ≥ {TARGET_SPEEDUP:.0f}×) "
        f"{verdict(speedup >= TARGET_SPEEDUP)}",
        "",
        "Concurrency of the page (once each; the default's row is its median above):",
        "",
        "| files at once × parts per file, storage connections | seconds | MB/s | storage requests in flight, most | "
        "moto busy |",
        "|---|---:|---:|---:|---:|",
    ]
    for run in sorted([*tunings, engine], key=lambda r: r.tuning):
        t = run.traffic
        lines.append(
            f"| {describe(run.tuning)} | {t.seconds:.2f} | {photo_mb / t.seconds:.1f} | {t.storage_peak} | "
            f"{t.busy_share:.0%} |"
        )
    lines += ["", *where_the_time_goes(sequential, engine), ""]
    lines += big_section(big, sha_s, cli_missing)
    lines += [
        "",
        machine(f"{software()}; load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end"),
    ]
    return "\n".join(lines) + "\n"


def photo_row(label: str, median: PhotoRun, runs: list[PhotoRun], photo_mb: float) -> str:
    t = median.traffic
    each = ", ".join(f"{r.traffic.seconds:.2f}" for r in runs)
    return (
        f"| {label} | {t.seconds:.2f} | {each} | {photo_mb / t.seconds:.1f} | {t.storage_peak} | {t.busy_share:.0%} | "
        f"{sum(t.api.values()) / PHOTOS:.1f} | {t.dynamodb / PHOTOS:.1f} |"
    )


def where_the_time_goes(sequential: PhotoRun, engine: PhotoRun) -> list[str]:
    s, e = sequential.traffic, engine.traffic
    calls = ", ".join(f"`{op}` × {n / PHOTOS:g}" for op, n in sorted(e.api.items()))
    spent = {label: sum(ms) / 1000 for label, ms in sequential.took.items()}
    lines = [
        f"Where the time goes. Per photo the page makes {calls} (counted in runserver's log); together they make "
        f"{e.dynamodb / PHOTOS:.1f} DynamoDB calls (rate-limit counters included) and {e.s3_by_app / PHOTOS:.1f} "
        "S3 calls (the arrival's checks) per photo, all through the same one-request-at-a-time moto, on the same "
        f"two cores as Chromium and Django's server. moto was busy {s.moto_busy:.2f} s of the sequential run's "
        f"{s.seconds:.2f} s ({s.busy_share:.0%}) and {e.moto_busy:.2f} s of the engine's {e.seconds:.2f} s "
        f"({e.busy_share:.0%}). In the sequential run, one request at a time, the requests took "
        + ", ".join(f"`{label}` {seconds:.2f} s" for label, seconds in sorted(spent.items()))
        + f" ({sum(spent.values()):.2f} s in all; the rest is the page). Mean milliseconds per request, as "
        "Chromium timed them:",
        "",
        "| request | sequential | engine |",
        "|---|---:|---:|",
    ]
    for label in sorted(set(sequential.took) | set(engine.took)):
        cells = [
            f"{statistics.mean(run.took[label]):.0f}" if run.took.get(label) else "" for run in (sequential, engine)
        ]
        lines.append(f"| `{label}` | {' | '.join(cells)} |")
    return lines


def big_section(big: list[BigRun], sha_s: float, cli_missing: bool) -> list[str]:
    boto3 = next(r for r in big if r.label == "boto3")
    clients = "The page, the CLI and boto3" if not cli_missing else "The page and boto3"
    lines = [
        f"### One file of {BIG_BYTES / 1e9:.2f} GB ({BIG_BYTES // MiB} MiB)",
        "",
        "An MP4 by its first bytes, sparse zeros after them (reading it costs no disk time). "
        f"{clients} each upload it once, in the same run. boto3: `upload_file` with "
        f"`TransferConfig(multipart_chunksize={BOTO3_CONFIG['multipart_chunksize'] // MiB} MiB, "
        f"max_concurrency={BOTO3_CONFIG['max_concurrency']})` to the same endpoint and bucket, in a process of its "
        "own, "
        "timed from start to exit (as the CLI is). The page: from the click to the page it goes to once the file "
        "has arrived (complete included). Memory is resident memory sampled every "
        f"{SAMPLE_SECONDS:.1f} s: for the page, Chromium's renderer process(es) (the tab; the whole browser "
        "beside it) and the JS heap (CDP `Performance.getMetrics`, every 0.5 s); for the CLI and boto3 their "
        "processes. Peaks in the first and second half of each transfer show whether memory keeps growing.",
        "",
        "| client | seconds | MB/s | of boto3's | target | | peak MiB (first half / second half) | before | "
        "storage requests in flight, most | moto busy |",
        "|---|---:|---:|---:|---:|---|---|---:|---:|---:|",
    ]
    for run in big:
        own = run.memory.get("tab") or run.memory["process"]
        share = run.mb_per_s / boto3.mb_per_s
        target = "" if run.label == "boto3" else f"≥ {TARGET_OF_BOTO3:.0%}"
        result = "" if run.label == "boto3" else verdict(share >= TARGET_OF_BOTO3)
        name = run.label if run.label != "page" else f"page, {describe(DEFAULT_TUNING)}"
        lines.append(
            f"| {name} | {run.seconds:.1f} | {run.mb_per_s:.0f} | {share:.0%} | {target} | {result} | "
            f"{own.peak:.0f} ({own.peak_first_half:.0f} / {own.peak_second_half:.0f}) | {own.before:.0f} | "
            f"{run.traffic.storage_peak} | {run.traffic.busy_share:.0%} |"
        )
    lines += ["", *memory_notes(big, sha_s, cli_missing)]
    return lines


def memory_notes(big: list[BigRun], sha_s: float, cli_missing: bool) -> list[str]:
    page = next(r for r in big if r.label == "page")
    browser = page.memory["chromium"]
    moto = [f"{r.label} {r.memory['moto'].peak - r.memory['moto'].before:+,.0f}" for r in big]
    notes = [
        f"The tab: its renderer(s) peaked at {page.memory['tab'].peak:.0f} MiB, the JS heap at {page.js_heap_mib:.0f} "
        f"MiB, and all of Chromium's processes at {browser.peak:.0f} MiB (from {browser.before:.0f}): the file is "
        f"{BIG_BYTES // MiB} MiB, read one part at a time.",
        "",
        "moto holds every object in memory: the benchmark's own process (moto's server with it) grew by "
        f"{', '.join(moto)} MiB at its peak during each upload (the parts, then the joined object; the objects "
        "are deleted after each run). That is the emulator's cost, not the clients'.",
    ]
    cli = next((r for r in big if r.label == "CLI"), None)
    if cli:
        notes += [
            "",
            f"The CLI's time includes hashing the whole file first (to skip files already in the library); "
            f"SHA-256 of this file takes {sha_s:.1f} s here.",
        ]
    if cli_missing:
        notes += ["", "The CLI (`python -m mediahub_cli`) is not in this checkout yet: no CLI row."]
    return notes


def software() -> str:
    from importlib import metadata

    import django

    version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return (
        f"Python {platform.python_version()}, Django {django.get_version()}, {version or 'Chromium'}, Playwright "
        f"{metadata.version('playwright')}"
    )


# --- main ----------------------------------------------------------------------------------------------------


def main() -> None:
    site_port = free_port()
    site = f"http://127.0.0.1:{site_port}"
    server, calls = start_local_aws()
    host, port = server.get_host_and_port()
    try:
        with tempfile.TemporaryDirectory(prefix="mediahub-bench-") as data_dir:
            # Rate limits stay on (their DynamoDB counters are part of every call) but high enough for the runs.
            configure(
                f"http://{host}:{port}",
                data_dir,
                SITE_URL=site,
                RATE_LIMIT_UPLOAD="100000/60",
                RATE_LIMIT_API="100000/60",
            )
            log_path = Path(data_dir) / "runserver.log"
            with django_server(site_port, log_path):
                report = measure(site, Watch(calls, log_path), Path(data_dir))
    finally:
        server.stop()
    print(report)
    write_section(HEADING, report)


def measure(site: str, watch: Watch, folder: Path) -> str:
    from playwright.sync_api import sync_playwright

    load = os.getloadavg()
    username, token = make_user()
    paths = photo_files()
    photo_mb = sum(p.stat().st_size for p in paths) / 1e6
    video = video_file(folder / "holiday.mp4", BIG_BYTES)
    script = subprocess.run(["git", "show", SEQUENTIAL_SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        chrome = Browser(launched, site, sign_in(launched, site, username), script.stdout)
        photo_run(chrome, watch, paths, sequential=False)  # warm-up: Django's templates, moto's first bucket calls
        photos: dict[str, list[PhotoRun]] = {"sequential": [], "engine": []}
        for n in range(ROUNDS):
            for sequential in (n % 2 == 0, n % 2 == 1):  # alternate which goes first
                run = photo_run(chrome, watch, paths, sequential=sequential)
                photos[run.engine].append(run)
        tunings = [photo_run(chrome, watch, paths, sequential=False, tuning=t) for t in TUNINGS]
        launched.close()
        # A browser of its own, so that its renderers are this page's alone.
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        big = [big_page_run(Browser(launched, site, chrome.storage_state, ""), watch, video)]
        launched.close()
        empty_uploads_bucket()
    command = cli_command(video, site, token, folder / "cli-state.json")
    if command:
        big.append(process_run("CLI", command, watch))
        empty_uploads_bucket()
    big.append(process_run("boto3", boto3_command(video), watch))
    empty_uploads_bucket()
    return markdown(photos, tunings, photo_mb, big, sha256_seconds(video), command is None, load)


if __name__ == "__main__":
    if sys.argv[1:2] == ["boto3"]:
        boto3_upload(*sys.argv[2:5])
    else:
        main()
