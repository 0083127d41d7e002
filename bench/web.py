"""Web throughput: the presign API and a 50-item gallery page against a trivial view, and AWS calls per page.

    .venv/bin/python bench/web.py [seconds_per_endpoint]

Everything runs in this process: moto's server on a free loopback port (reached over HTTP, as the app reaches
AWS), a throw-away SQLite database, and Django's test Client driving the whole WSGI stack. Prints a table and
replaces the "## Web" section of docs/benchmarks.md with the figures.
"""

from __future__ import annotations

import gc
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from report import machine, write_section  # noqa: E402 (needs bench/ on the path)
from stack import AwsCalls, configure, start_local_aws  # noqa: E402 (needs bench/ and ROOT on the path)

PAGE_SIZE = 50  # the gallery page the issue asks about
SMALL_GALLERY = 10  # a second user, to show the DynamoDB calls per page do not grow with the items
SECONDS = 5.0  # measured wall time per endpoint
WARMUP_SECONDS = 0.5
# The (separate, instrumented) where-the-time-goes pass: per endpoint at least this many requests and seconds.
BREAKDOWN_REQUESTS = 5
BREAKDOWN_SECONDS = 2.0
TARGETS = {"presign": 0.5, "gallery": 0.25}  # requests/s as a fraction of the trivial view's
PRESIGN_BODY = {"fileName": "IMG_0001.jpg", "contentType": "image/jpeg", "size": 3_500_000, "name": "A photo"}


# --- set-up ------------------------------------------------------------------------------------------------


def signed_in_client(username: str) -> tuple[Any, str]:
    from django.contrib.auth.models import User
    from django.test import Client

    user = User.objects.create_user(username, f"{username}@example.com", uuid.uuid4().hex)
    client = Client()
    client.force_login(user)
    return client, str(user.pk)


def add_ready_images(owner_id: str, count: int) -> None:
    """Items made by the app's own service, then marked ready with renditions, as processing would leave them."""
    from uploads import services
    from uploads.models import MediaItem, Status, utcnow

    for n in range(count):
        ticket = services.media_create(
            owner_id=owner_id,
            name=f"Holiday photo {n}",
            caption="Evening light over the harbour.",
            file_name=f"IMG_{n:04}.jpg",
            content_type="image/jpeg",
            size=3_500_000,
        )
        item, now = ticket.item, utcnow()
        item.update(
            actions=[
                MediaItem.status.set(Status.READY),
                MediaItem.detected_type.set("image/jpeg"),
                MediaItem.width.set(4000),
                MediaItem.height.set(3000),
                MediaItem.uploaded_at.set(now),
                MediaItem.processed_at.set(now),
                MediaItem.renditions.set(renditions(owner_id, item.id, 4000, 3000)),
                MediaItem.expires_at.remove(),
            ]
        )


def renditions(owner_id: str, media_id: str, width: int, height: int) -> dict:
    """The `renditions` attribute for every configured size, in the format processing writes."""
    from django.conf import settings

    result = {}
    for name, spec in settings.MEDIA_RENDITIONS.items():
        scale = spec["size"] / max(width, height)
        w, h = (spec["size"], spec["size"]) if spec["crop"] else (round(width * scale), round(height * scale))
        files = {
            ext: {"key": f"renditions/{owner_id}/{media_id}/{name}.{ext}", "bytes": w * h // 8}
            for ext in ("jpg", "webp")
        }
        result[name] = {"width": w, "height": h, "files": files}
    return result


# --- measuring ---------------------------------------------------------------------------------------------


@dataclass
class Endpoint:
    name: str
    label: str
    send: Callable[[], Any]
    status: int


@dataclass
class Rate:
    endpoint: Endpoint
    seconds: float
    latencies: list[float] = field(default_factory=list)
    aws_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def app_per_second(self) -> float:
        """As if the local AWS answered instantly: its server time subtracted (the client waits while it works)."""
        return len(self.latencies) / (self.seconds - self.aws_seconds)

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def endpoints(client: Any) -> list[Endpoint]:
    return [
        Endpoint("trivial", "trivial view `GET /healthz`", lambda: client.get("/healthz"), 200),
        Endpoint("gallery", f"gallery `GET /`, {PAGE_SIZE} items", lambda: client.get("/"), 200),
        Endpoint(
            "presign",
            "presign `POST /api/media/`",
            lambda: client.post("/api/media/", PRESIGN_BODY, content_type="application/json"),
            201,
        ),
    ]


def send(endpoint: Endpoint) -> Any:
    response = endpoint.send()
    if response.status_code != endpoint.status:
        raise SystemExit(f"{endpoint.label} answered {response.status_code}: {response.content[:500]!r}")
    return response


def run_for(endpoint: Endpoint, seconds: float, calls: AwsCalls) -> Rate:
    """One request at a time for `seconds` of wall time, after a warm-up (caches, connections, templates)."""
    run_loop(endpoint, WARMUP_SECONDS)
    gc.collect()
    calls.reset()
    latencies, elapsed = run_loop(endpoint, seconds)
    return Rate(endpoint, elapsed, latencies, calls.seconds)


def run_loop(endpoint: Endpoint, seconds: float) -> tuple[list[float], float]:
    latencies = []
    started = time.perf_counter()
    deadline = started + seconds
    now = started
    while now < deadline:
        send(endpoint)
        latencies.append(time.perf_counter() - now)
        now = time.perf_counter()
    return latencies, now - started


# --- AWS calls per request ---------------------------------------------------------------------------------


@dataclass
class CallCount:
    label: str
    dynamodb: Counter[str]
    s3: Counter[str]
    others: int
    urls_built: int | None = None
    urls_in_page: int | None = None
    cards: int | None = None


def count_calls(label: str, endpoint: Endpoint, calls: AwsCalls) -> CallCount:
    """The HTTP requests the local AWS receives during one (warm) request, and the rendition links it signs."""
    from django.conf import settings

    from uploads import storage

    send(endpoint)  # warm: a first request may open connections or look things up once per process
    built = Counter()
    original = storage.rendition_url

    def counting(*args: Any, **kwargs: Any) -> str:
        built["urls"] += 1
        return original(*args, **kwargs)

    calls.reset()
    with mock.patch.object(storage, "rendition_url", counting):
        response = send(endpoint)
    html = response.content.decode()
    others = sum(n for (svc, _), n in calls.calls.items() if svc not in ("dynamodb", "s3"))
    count = CallCount(label, calls.by_service("dynamodb"), calls.by_service("s3"), others)
    if endpoint.name == "gallery":
        count.urls_built = built["urls"]
        count.urls_in_page = html.count(f"/{settings.RENDITIONS_BUCKET}/")
        count.cards = html.count('data-testid="media-card"')
    return count


# --- where the time goes -----------------------------------------------------------------------------------


@contextmanager
def timing(parts: Iterable[tuple[Any, str, str]], totals: Counter[str]) -> Iterator[None]:
    """Add the time spent in each (object, attribute) to totals[part] while the block runs."""

    def timed(original: Callable, part: str) -> Callable:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                totals[part] += time.perf_counter() - started

        return wrapper

    with ExitStack() as stack:
        for owner, attribute, part in parts:
            stack.enter_context(mock.patch.object(owner, attribute, timed(getattr(owner, attribute), part)))
        yield


def breakdown(endpoint: Endpoint, calls: AwsCalls) -> dict[str, float]:
    """Mean milliseconds per request: in total, in the DynamoDB call (and moto's share of it), in presigning."""
    from uploads import selectors, storage
    from uploads.models import MediaItem

    # The views call these through their modules, so patching the module attributes reaches them.
    parts = {
        "gallery": [(selectors, "library_page", "dynamodb"), (selectors, "rendition_urls", "presigning")],
        "presign": [(MediaItem, "save", "dynamodb"), (storage, "presigned_post", "presigning")],
    }.get(endpoint.name, [])
    totals: Counter[str] = Counter()
    calls.reset()
    requests = 0
    with timing(parts, totals):
        started = time.perf_counter()
        while requests < BREAKDOWN_REQUESTS or time.perf_counter() - started < BREAKDOWN_SECONDS:
            send(endpoint)
            requests += 1
        totals["total"] = time.perf_counter() - started
    totals["moto"] = calls.seconds
    times = {part: 1000 * seconds / requests for part, seconds in totals.items()}
    return {**times, "requests": requests}


# --- report --------------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "**PASS**" if ok else "**FAIL**"


def markdown(rates: dict[str, Rate], counts: list[CallCount], times: dict[str, dict[str, float]]) -> str:
    trivial = rates["trivial"].per_second
    lines = [
        "## Web",
        "",
        f"Requests per second of the presign API and of a {PAGE_SIZE}-item gallery page, each against a trivial "
        "view (`/healthz`: JSON, no database, no AWS) measured in the same run, and the AWS calls each makes. "
        "Measured by `.venv/bin/python bench/web.py` (also run by `make bench`).",
        "",
        "How: Django's test Client drives the whole WSGI stack (every middleware, sessions and auth in SQLite, "
        "settings as in local runs, so `DEBUG` on), signed in with `force_login`, one request at a time, "
        f"{rates['trivial'].seconds:.0f} s per endpoint after a {WARMUP_SECONDS} s warm-up, all three with the "
        "same client and session. DynamoDB and S3 are moto's server on loopback, reached over HTTP as the app "
        "reaches AWS, but in the same process: its own processing shares the interpreter and counts in the time. "
        f"The gallery user has {PAGE_SIZE} ready JPEG items, created by `media_create` and given renditions "
        f"({rendition_names()}, JPEG and WebP each), so the page signs rendition links as it does in use "
        f"(`MEDIA_PAGE_SIZE={PAGE_SIZE}`). Each presign request records a new pending item.",
        "",
        "| endpoint | requests/s | median ms | p95 ms | ratio to trivial | target | | without moto's time: "
        "requests/s | ratio |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for name, rate in rates.items():
        ratio = rate.per_second / trivial
        target = TARGETS.get(name)
        goal = f"≥ {target}" if target else ""
        result = verdict(ratio >= target) if target else ""
        lines.append(
            f"| {rate.endpoint.label} | {rate.per_second:,.1f} | {rate.percentile_ms(0.5):.2f} | "
            f"{rate.percentile_ms(0.95):.2f} | {ratio:.3f} | {goal} | {result} | {rate.app_per_second:,.1f} | "
            f"{rate.app_per_second / rates['trivial'].app_per_second:.3f} |"
        )
    lines += [
        "",
        "The last two columns subtract the time moto's server spent answering (timed inside it): a rough bound for "
        "an instant AWS, since real DynamoDB adds network latency instead. The verdicts use the measured figures.",
    ]
    page = next(c for c in counts if c.cards == PAGE_SIZE)
    lines += ["", *calls_table(counts), "", *time_table(times, rates), "", signing_note(times["gallery"], page)]
    lines += ["", machine(f"Python {platform.python_version()}, Django {django_version()}")]
    return "\n".join(lines) + "\n"


def django_version() -> str:
    import django

    return django.get_version()


def rendition_names() -> str:
    from django.conf import settings

    return ", ".join(settings.MEDIA_RENDITIONS)


def calls_table(counts: list[CallCount]) -> list[str]:
    gallery = [c for c in counts if c.cards is not None]
    flat = len({sum(c.dynamodb.values()) for c in gallery}) == 1 and sum(gallery[0].dynamodb.values()) == 1
    lines = [
        "AWS calls per request: the HTTP requests moto's server received during one warm request (counted in "
        "the server, so PynamoDB's own botocore client is seen too). Presigned links are signed locally and "
        "make no call.",
        "",
        "| request | DynamoDB calls | S3 calls | other AWS calls | cards in page | rendition links signed | "
        "rendition links in page |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for c in counts:
        extra = [c.cards, c.urls_built, c.urls_in_page]
        cells = " | ".join("" if value is None else str(value) for value in extra)
        lines.append(
            f"| {c.label} | {sum(c.dynamodb.values())} ({ops(c.dynamodb)}) | {sum(c.s3.values())} | {c.others} "
            f"| {cells} |"
        )
    lines += ["", f"Target, DynamoDB calls per gallery page: 1, plus none per item. {verdict(flat)}"]
    return lines


def ops(counter: Counter[str]) -> str:
    return ", ".join(f"{op} × {n}" if n > 1 else op for op, n in sorted(counter.items())) or "none"


def time_table(times: dict[str, dict[str, float]], rates: dict[str, Rate]) -> list[str]:
    moto_share = ", ".join(
        f"{1000 * rate.aws_seconds / len(rate.latencies):.2f} ms per {name} request" for name, rate in rates.items()
    )
    lines = [
        f"Where the time goes: mean ms per request in a separate pass of at least {BREAKDOWN_SECONDS:.0f} s per "
        "endpoint, with the functions named here wrapped in timers. The DynamoDB call (`library_page()` for "
        "the gallery, `MediaItem.save()` for presign) includes PynamoDB, botocore, the loopback HTTP round trip and "
        "moto's time serving it, timed inside its server. Presigning is `rendition_urls()` for the gallery and "
        f"`presigned_post()` for presign. In the throughput runs above moto spent {moto_share}.",
        "",
        "| endpoint | requests | total | DynamoDB call | of which in moto | presigning | "
        "rest (Django, session, template) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, t in times.items():
        dynamodb, moto, presigning = t.get("dynamodb", 0.0), t.get("moto", 0.0), t.get("presigning", 0.0)
        rest = t["total"] - dynamodb - presigning
        lines.append(
            f"| {name} | {t['requests']:.0f} | {t['total']:.2f} | {dynamodb:.2f} | {moto:.2f} | {presigning:.2f} | "
            f"{rest:.2f} |"
        )
    return lines


def signing_note(gallery: dict[str, float], page: CallCount) -> str:
    per_link = gallery["presigning"] / page.urls_built
    unused = page.urls_built - page.urls_in_page
    return (
        f"Rendition links: the {PAGE_SIZE}-item page signs {page.urls_built} links (the thumbnails it shows, JPEG "
        f"and WebP) and puts {page.urls_in_page} of them in the HTML; at {per_link:.2f} ms per link "
        f"(`mediahub.aws.presigned_get`) the {unused} unused ones cost {unused * per_link:.0f} ms of each page."
    )


# --- main ----------------------------------------------------------------------------------------------------


def main(argv: list[str]) -> None:
    seconds = float(argv[0]) if argv else SECONDS
    server, calls = start_local_aws()
    host, port = server.get_host_and_port()
    try:
        with tempfile.TemporaryDirectory(prefix="mediahub-bench-") as data_dir:
            # ALLOWED_HOSTS: the test Client's host; added here rather than by setup_test_environment(), which
            # would also instrument template rendering and so slow the gallery down.
            configure(f"http://{host}:{port}", data_dir, MEDIA_PAGE_SIZE=str(PAGE_SIZE), ALLOWED_HOSTS="testserver")
            report = measure(seconds, calls)
    finally:
        server.stop()
    print(report)
    write_section("## Web", report)


def measure(seconds: float, calls: AwsCalls) -> str:
    client, owner_id = signed_in_client("gallery")
    small_client, small_owner = signed_in_client("small")
    add_ready_images(owner_id, PAGE_SIZE)
    add_ready_images(small_owner, SMALL_GALLERY)
    trivial, gallery, presign = endpoints(client)
    small = endpoints(small_client)[1]
    # Presign last: each presign request adds a pending item, which would then lead the gallery (newest first).
    counts = [count_calls(f"gallery, {SMALL_GALLERY} items", small, calls)]
    counts.append(count_calls(f"gallery, {PAGE_SIZE} items", gallery, calls))
    rates, times = {}, {}
    for endpoint in (trivial, gallery, presign):
        if endpoint is presign:
            counts.append(count_calls("presign", presign, calls))
        rates[endpoint.name] = run_for(endpoint, seconds, calls)
        times[endpoint.name] = breakdown(endpoint, calls)
    print(summary(rates), file=sys.stderr)
    return markdown(rates, counts, times)


def summary(rates: dict[str, Rate]) -> str:
    trivial = rates["trivial"].per_second
    return "\n".join(
        f"{name:8} {rate.per_second:9.1f} req/s  ratio {rate.per_second / trivial:.3f}  "
        f"median {statistics.median(rate.latencies) * 1000:.2f} ms"
        for name, rate in rates.items()
    )


if __name__ == "__main__":
    main(sys.argv[1:])
