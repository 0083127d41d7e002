"""DynamoDB calls and latency of an album page in a library of 10,000 items, against moto's server over HTTP.

    .venv/bin/python bench/albums.py [library_size] [album_size]

The library is written straight to the media table in batches (BatchWriteItem, 25 items a call): ready items with
renditions, a third of them with an EXIF date taken. An album of `album_size` of them gets its membership rows
the same way (moto copies every table on each TransactWriteItems, so thousands of adds through the service would
take hours there); ADDS more go through `albums.services.add_items`, which times a membership write. Then
each page kind is timed RUNS times: the service's page (one Query on the order's index, one BatchGetItem) and the
whole signed-in page through Django's test client (the same two calls, plus the album's GetItem, its links' Query,
the session and the rendition links signed). Calls are counted on the server side (bench/stack.py).
Prints the figures and replaces the "## Albums" section of docs/benchmarks.md with them.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

import stack  # noqa: E402 (needs bench/ on the path)
from report import machine, write_section  # noqa: E402 (needs bench/ on the path)

HEADING = "## Albums"
LIBRARY = 10_000
ALBUM = 2_000
RUNS = 30
ADDS = 20
OWNER = "1"


def renditions(media_id: str) -> dict:
    files = {ext: {"key": f"renditions/{OWNER}/{media_id}/thumb.{ext}", "bytes": 9000} for ext in ("jpg", "webp")}
    return {"thumb": {"width": 320, "height": 240, "files": files}}


def write_library(size: int) -> list[str]:
    from uploads.models import MediaItem, Status

    start = datetime(2024, 1, 1, tzinfo=UTC)
    ids = []
    with MediaItem.batch_write() as batch:
        for n in range(size):
            media_id = uuid.uuid4().hex
            taken = (start - timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%S") if n % 3 == 0 else None
            batch.save(
                MediaItem(
                    media_id,
                    owner_id=OWNER,
                    name=f"Photo {n}",
                    file_name=f"photo-{n}.jpg",
                    object_key=f"uploads/{OWNER}/{media_id}/original.jpg",
                    declared_type="image/jpeg",
                    detected_type="image/jpeg",
                    size=2_000_000,
                    status=Status.READY,
                    exif={"taken_at": taken} if taken else None,
                    renditions=renditions(media_id),
                    created_at=start + timedelta(minutes=n),
                )
            )
            ids.append(media_id)
    return ids


def fill(album, ids: list[str]) -> None:
    """Membership rows as `add` writes them, in batches, and the album's count to match."""
    from albums.models import Album, Membership
    from albums.services import taken_of
    from uploads.models import MediaItem, utcnow

    with Membership.batch_write() as batch:
        for offset in range(0, len(ids), 100):
            for item in MediaItem.batch_get(ids[offset : offset + 100]):
                batch.save(Membership(album.id, item.id, taken=taken_of(item), added_at=utcnow()))
    album.update(actions=[Album.item_count.set(len(ids)), Album.cover_id.set(ids[0])])


def percentile(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))]


def timed(calls: stack.AwsCalls, run) -> tuple[list[float], dict[str, int], float]:
    """RUNS timings of `run` (ms), the DynamoDB calls of one run, and the mean time moto spent answering (ms)."""
    times, server = [], 0.0
    for _ in range(RUNS):
        calls.reset()
        started = time.perf_counter()
        response = run()
        times.append((time.perf_counter() - started) * 1000)
        server += calls.seconds * 1000
        assert getattr(response, "status_code", 200) == 200, response
    return times, dict(calls.by_service("dynamodb")), server / RUNS


def measure(library_size: int, album_size: int, calls: stack.AwsCalls) -> dict:
    from django.contrib.auth.models import User
    from django.test import Client

    from albums import services
    from albums.models import Album, Order

    User.objects.create_user("bench")  # pk 1: the library's owner (signed in by force_login)
    started = time.perf_counter()
    ids = write_library(library_size)
    figures: dict = {"library": library_size, "album_size": album_size}
    figures["library_write_s"] = time.perf_counter() - started
    album = services.album_create(owner_id=OWNER, name="Bench")
    fill(album, ids[:album_size])
    calls.reset()
    started = time.perf_counter()
    services.add_items(owner_id=OWNER, album_id=album.id, ids=ids[album_size : album_size + ADDS])
    figures["add_ms_per_item"] = (time.perf_counter() - started) * 1000 / ADDS
    figures["add_server_ms_per_item"] = calls.seconds * 1000 / ADDS
    figures["add_calls"] = {op: n / ADDS for op, n in calls.by_service("dynamodb").items()}
    for n in range(19):
        services.album_create(owner_id=OWNER, name=f"Album {n}")

    client = Client()
    client.force_login(User.objects.get(pk=1))
    rows = []
    for order in Order.ALL:
        album = services.album_update(owner_id=OWNER, album_id=album.id, name="Bench", description="", order=order)
        fresh = Album.get(album.id)
        middle = services.album_page(fresh, cursor=None)
        for _ in range(20):  # page 21: a cursor deep in the album
            middle = services.album_page(fresh, cursor=middle.next_cursor)
        cases = [
            ("first page (service)", lambda a=fresh: services.album_page(a, cursor=None)),
            ("page 22 (service)", lambda a=fresh, c=middle.next_cursor: services.album_page(a, cursor=c)),
            ("first page (whole page)", lambda a=fresh: client.get(f"/albums/{a.id}/")),
        ]
        for name, run in cases:
            rows.append((f"{order}: {name}", *timed(calls, run)))
    rows.append(("album list, 20 albums (whole page)", *timed(calls, lambda: client.get("/albums/"))))
    figures["rows"] = rows
    return figures


def markdown(figures: dict) -> str:
    lines = [
        HEADING,
        "",
        f"`bench/albums.py`: an album of {figures['album_size']:,} items in a library of {figures['library']:,} "
        f"(ready items with renditions, a third with an EXIF date taken), against moto's server over HTTP on "
        f"loopback; {RUNS} runs each, 24 items a page. DynamoDB calls are counted by the server, per run.",
        "",
        "| page | p50 ms | p95 ms | of which moto, mean ms | DynamoDB calls per page |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, times, per_run, server in figures["rows"]:
        calls = ", ".join(f"{op} {n}" for op, n in sorted(per_run.items()))
        median, p95 = statistics.median(times), percentile(times, 95)
        lines.append(f"| {name} | {median:.1f} | {p95:.1f} | {server:.1f} | {calls} |")
    adds = ", ".join(f"{op} {n:.2f}" for op, n in sorted(figures["add_calls"].items()))
    lines += [
        "",
        f"Adding {ADDS} items in one bulk add: {figures['add_ms_per_item']:.1f} ms an item, of which moto "
        f"{figures['add_server_ms_per_item']:.1f} ms (it copies every table, the 10,000-item library included, on "
        f"each transaction; DynamoDB does not). DynamoDB calls an item: {adds}: one BatchGetItem per 100 ids to "
        "check ownership, the album's GetItem, then one TransactWriteItems an item (the row, the count, the "
        "item's check).",
        f"Writing the library took {figures['library_write_s']:.0f} s (BatchWriteItem, 25 a call).",
        "",
        "The calls per page do not grow with the album or the library: one Query (keys only, 24 rows) and one "
        "BatchGetItem, wherever the cursor is; the whole page adds the album's GetItem and its links' Query. "
        "moto's time does grow: it answers a Query on an index by walking and sorting the partition in Python "
        f"({figures['album_size']:,} rows here), so most of each figure is moto. What mediahub spends itself is "
        f"the rest: about {ours(figures, 'service')} ms for the service's page (two HTTP calls, PynamoDB's "
        f"parsing) and {ours(figures, 'whole')} ms for the whole page (the session, 24 cards rendered and their "
        "rendition links signed). On DynamoDB each of the calls is single-digit milliseconds.",
        "",
        machine("moto server, PynamoDB, Django test client"),
        "",
    ]
    return "\n".join(lines)


def ours(figures: dict, kind: str) -> int:
    """The median over the page rows of one kind of (p50 - moto's mean): the time spent outside moto."""
    spent = [statistics.median(t) - server for name, t, _, server in figures["rows"] if kind in name]
    return round(statistics.median(spent))


def main(argv: list[str]) -> None:
    library_size = int(argv[0]) if argv else LIBRARY
    album_size = int(argv[1]) if len(argv) > 1 else ALBUM
    server, calls = stack.start_local_aws()
    host, port = server.get_host_and_port()
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            stack.configure(f"http://{host}:{port}", data_dir, ALLOWED_HOSTS="testserver")
            figures = measure(library_size, album_size, calls)
    finally:
        server.stop()
    section = markdown(figures)
    print(section)
    write_section(HEADING, section)


if __name__ == "__main__":
    main(sys.argv[1:])
