"""DynamoDB calls and latency of searches, and of a gallery page by date taken, in a library of 10,000 items.

    .venv/bin/python bench/search.py [items]

Against moto's server on loopback (the local AWS `make run` uses), bootstrapped by our own command with a table
prefix of its own. The library is written in batches (BatchWriteItem, 25 a call): the items as processing leaves
them, and their search rows as `search.index` makes them (names of two words and a number from a small vocabulary,
a caption of three words, camera file names, five cameras, dates taken over five years). Then each search runs
seven times through `search.query.search` (what the page and the API call); the calls are counted at the server,
by operation. Prints the figures and replaces the "## Search" section of docs/benchmarks.md with them.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from report import machine, write_section  # noqa: E402 (needs bench/ on the path)

HEADING = "## Search"
ITEMS = 10_000
RUNS = 3
OWNER = "bench-owner"
ADJECTIVES = ["sunny", "misty", "golden", "quiet", "windy", "snowy", "bright", "late", "early", "old"]
NOUNS = ["beach", "harbour", "street", "garden", "mountain", "forest", "market", "river", "bridge", "sunset"]
CAPTION_WORDS = [f"{a}{b}" for a in ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "ze") for b in ("bar", "dun", "fel")]
CAMERAS = ["Canon EOS R5", "FUJIFILM X-T4", "Apple iPhone 15", "SONY ILCE-7M4", "NIKON Z 6"]
START = datetime(2021, 1, 1, tzinfo=UTC)


class Counting:
    """Wraps the moto server's WSGI app: counts DynamoDB operations (X-Amz-Target) while switched on."""

    def __init__(self, app) -> None:
        self.app, self.on, self.calls, self.lock = app, False, Counter(), threading.Lock()

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if self.on and target.startswith("DynamoDB_"):
            with self.lock:
                self.calls[target.split(".")[-1]] += 1
        return self.app(environ, start_response)


def configure() -> Counting:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
    import django

    django.setup()
    from django.test import override_settings

    from mediahub import aws
    from mediahub.localaws import start_server

    server = start_server("127.0.0.1", 0)
    counting = Counting(server._server.app)
    server._server.app = counting
    host, port = server.get_host_and_port()
    run = uuid.uuid4().hex[:8]
    override_settings(
        AWS_ENDPOINT_URL=f"http://{host}:{port}",
        DYNAMODB_TABLE_PREFIX=f"bench-{run}-",
        UPLOADS_BUCKET=f"bench-{run}-uploads",
        RENDITIONS_BUCKET=f"bench-{run}-renditions",
    ).enable()
    aws._client.cache_clear()
    from mediahub.bootstrap import bootstrap

    bootstrap()
    return counting


def build_library(count: int) -> float:
    from search import index
    from search.models import SearchTerm
    from uploads.models import MediaItem, Status

    rng = random.Random(13)
    began = time.perf_counter()
    rows = 0
    with MediaItem.batch_write() as items, SearchTerm.batch_write() as terms:
        for n in range(count):
            media_id = f"{n:032x}"
            camera = rng.choice(CAMERAS) if rng.random() < 0.8 else None
            item = MediaItem(
                media_id,
                owner_id=OWNER,
                name=f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {n}",
                caption=" ".join(rng.sample(CAPTION_WORDS, 3)),
                file_name=f"IMG_{n:05}.jpg",
                object_key=f"uploads/{OWNER}/{media_id}/original.jpg",
                declared_type="image/jpeg",
                detected_type="image/jpeg" if rng.random() < 0.9 else "video/mp4",
                size=1,
                status=Status.READY,
                shot_at=START + timedelta(minutes=rng.randrange(5 * 365 * 24 * 60)),
                camera=camera,
                processed_at=START,
            )
            items.save(item)
            for term in index.item_terms(item):
                terms.save(index._row(item, term))
                rows += 1
    for camera in CAMERAS:
        SearchTerm(OWNER, index.CAMERAS).update(actions=[SearchTerm.cameras.add({camera})])
    print(f"{count} items, {rows} term rows written in {time.perf_counter() - began:.1f} s")
    return rows


def measure(counting: Counting, label: str, call) -> tuple[str, dict, float, int, str]:
    times = []
    for run in range(RUNS):
        counting.calls.clear()
        counting.on = True
        began = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - began)
        counting.on = False
        calls = dict(counting.calls)
        if run == 0:
            first = result
    found = len(first.items) if hasattr(first, "items") else len(first[0])
    note = f"too broad ({first.too_broad})" if getattr(first, "too_broad", None) else ""
    return label, calls, statistics.median(times) * 1000, found, note


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else ITEMS
    counting = configure()
    from search.query import Search, search
    from uploads import selectors

    rows = build_library(count)
    year = datetime(2024, 1, 1, tzinfo=UTC)
    cases = [
        ("one rare word: `4242` (an item's number)", Search(OWNER, words=("4242",))),
        ("a prefix: `sun` (sunny, sunset: ~19% of items)", Search(OWNER, words=("sun",))),
        ("two words: `golden beach`", Search(OWNER, words=("golden", "beach"))),
        ("a word and a camera: `misty` + Canon EOS R5", Search(OWNER, words=("misty",), camera="Canon EOS R5")),
        ("a file name: `IMG_00424` (img is in every item)", Search(OWNER, words=("img", "00424"))),
        ("a month taken (no words)", Search(OWNER, since=year, until=year + timedelta(days=31))),
        ("videos of one camera (no words)", Search(OWNER, family="video", camera="NIKON Z 6")),
        ("nothing matches: `zebra`", Search(OWNER, words=("zebra",))),
    ]
    results = [measure(counting, label, lambda s=s: search(s)) for label, s in cases]
    results.append(
        measure(
            counting,
            "gallery by date taken, first page",
            lambda: selectors.media_page_for_owner(owner_id=OWNER, cursor=None, order="taken"),
        )
    )
    lines = [
        HEADING,
        "",
        f"`.venv/bin/python bench/search.py` (also run by `make bench`): a library of {count:,} "
        f"items of one owner with {rows:,} term rows, written in batches to moto's server on loopback; each search "
        f"through `search.query.search`, {RUNS} runs, the median; DynamoDB calls counted at the server. A page is "
        "24 items.",
        "",
        "| search | DynamoDB calls | median latency | items on the page | |",
        "|---|---|---:|---:|---|",
    ]
    for label, calls, ms, found, note in results:
        described = ", ".join(f"{n} {op}" for op, n in sorted(calls.items()))
        lines.append(f"| {label} | {described} | {ms:.0f} ms | {found} | {note} |")
    lines += [
        "",
        "The calls are the design's: one Query per word (at most 8; `img` beside `00424` is too broad to read "
        "whole, so it is checked on the page's items instead), one BatchGetItem per page, and without words one "
        "Query of the date-taken index per page, up to 5 when the filter keeps little (`videos of one camera` "
        "found 1 item in its 5 reads and hands a cursor on); never a Scan. `sun` matches more than the 2,000 rows"
        " a word may read, and says so. The latencies are moto's and say nothing of DynamoDB's: moto answers a "
        "Query by going through every row of the table in Python, so its time grows with the table (~17 s a word"
        " Query over these 80,000 term rows, ~0.2 s over 2,400 in a run with 300 items), whereas "
        "DynamoDB reads only the key range it returns. What a search costs on DynamoDB follows the rows it reads "
        "(docs/search.md: ~2 RRU for a word of 100 items, ~40 RRU at the 2,000-row cap, ~12 RRU for a page's "
        "BatchGetItem); the gallery page by date taken is one Query of 24 items, as by upload.",
        "",
        machine(f"Python {sys.version.split()[0]}, moto server"),
    ]
    section = "\n".join(lines) + "\n"
    print(section)
    write_section(HEADING, section)


if __name__ == "__main__":
    import faulthandler

    faulthandler.dump_traceback_later(float(os.environ.get("BENCH_DUMP_AFTER", "0")) or 10**6, exit=True)
    main()
