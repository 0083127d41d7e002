"""Decoding limits: what the worst image each format admits costs, the JPEG scan bomb before and after the fix, and
how long a normal upload waits behind two scan bombs in a real Celery worker.

    .venv/bin/python bench/decoding.py

Every decode runs in a fresh interpreter (this file with --case) started by this process while it is still small:
a child begins with its parent's high-water mark in ru_maxrss, so each peak is that decode's own. The test files are
made in child processes too (--make) and cached in .data/bench-images. The worker part comes last (it starts moto's
server in this process). Prints the figures and replaces the "## Decoding limits" section of docs/benchmarks.md.
"""

from __future__ import annotations

import datetime
import io
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from report import cpu_model, write_section  # noqa: E402 (needs bench/ on the path)

HEADING = "## Decoding limits"
CACHE = ROOT / ".data" / "bench-images"
LIMIT_SIDE = 7071  # 49.998 MP: the largest square MAX_IMAGE_PIXELS (50 MP) admits
BOMB_SIZE, BOMB_SCANS = (7000, 7000), 5000
JUNK_BYTES = 20_000_000  # between a JPEG's markers; Pillow's header parser reads them one at a time
BUDGET_PROBE = 0.05  # seconds: a budget every worst-case file exceeds, to see how soon each decoder is stopped
LATENCY_RUNS = 5
FLAT = (40, 160, 90, 200)

# name -> (format, mode, side, what it is). Sides are the largest squares the limits admit: MAX_DECODE_BYTES
# (400 MB) over 4 bytes a pixel times the copies uploads/imaging.py counts for the format (PNG and GIF 3, AVIF 4,
# WebP 5), or the pixel limit. The "-50mp" files are what the pixel limit alone used to admit.
FILES = {
    "jpeg-baseline": ("JPEG", "RGB", LIMIT_SIDE, "photo-like, baseline (as cameras write)"),
    "jpeg-progressive": ("JPEG", "RGB", LIMIT_SIDE, "photo-like, progressive 4:4:4, 100 scans"),
    "png": ("PNG", "RGBA", 5773, "RGBA"),
    "gif": ("GIF", "P", 5773, "palette"),
    "webp": ("WEBP", "RGBA", 4472, "lossless RGBA"),
    "avif": ("AVIF", "RGBA", 5000, "RGBA"),
    "png-50mp": ("PNG", "RGBA", LIMIT_SIDE, "RGBA"),
    "gif-50mp": ("GIF", "P", LIMIT_SIDE, "palette"),
    "webp-50mp": ("WEBP", "RGBA", LIMIT_SIDE, "lossless RGBA"),
    "avif-50mp": ("AVIF", "RGBA", LIMIT_SIDE, "RGBA"),
    "scan-bomb": ("JPEG", "RGB", BOMB_SIZE[0], f"progressive, then {BOMB_SCANS:,} empty scans"),
    "junk": ("JPEG", "RGB", 64, f"{JUNK_BYTES / 1e6:.0f} MB of zero bytes after its first segment"),
}
WORST = ["jpeg-baseline", "jpeg-progressive", "png", "gif", "webp", "avif"]
BEFORE = ["png-50mp", "gif-50mp", "webp-50mp", "avif-50mp"]
UNLIMITED = 10**13


# --- test files (in a child process) ---------------------------------------------------------------------------


def path_of(name: str) -> Path:
    fmt, _, side, _ = FILES[name]
    return CACHE / f"decoding-{name}-{side}.{fmt.lower()}"


def ensure_file(name: str) -> Path:
    path = path_of(name)
    if not path.exists():
        subprocess.run([sys.executable, __file__, "--make", name], check=True)
    return path


def make(name: str) -> None:
    from images import photo
    from PIL import Image

    from uploads.imaging import MAX_JPEG_SCANS

    fmt, mode, side, _ = FILES[name]
    path = path_of(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    if name == "scan-bomb":
        Image.new("RGB", BOMB_SIZE, FLAT[:3]).save(buffer, "JPEG", progressive=True, quality=50)
        path.write_bytes(with_empty_scans(buffer.getvalue(), BOMB_SCANS))
        return
    if name == "junk":
        Image.new("RGB", (side, side), FLAT[:3]).save(buffer, "JPEG")
        data = buffer.getvalue()
        path.write_bytes(data[:20] + b"\0" * JUNK_BYTES + data[20:])  # after SOI and the 18-byte JFIF segment
        return
    if fmt == "JPEG":
        # Progressive 4:4:4 holds the most coefficients. Quality 95: Pillow gives libjpeg a larger output buffer.
        progressive = name == "jpeg-progressive"
        options = {"progressive": True, "subsampling": 0} if progressive else {}
        photo((side, side), 50).save(buffer, "JPEG", quality=95, **options)
        data = buffer.getvalue()
        path.write_bytes(with_empty_scans(data, MAX_JPEG_SCANS - 10) if progressive else data)  # libjpeg writes 10
        return
    # Flat colour: the smallest file for its size, as a bomb is sent; the decoder's memory does not depend on it.
    im = Image.new(mode, (side, side), 1 if mode == "P" else FLAT)
    options = {"WEBP": {"lossless": True}, "AVIF": {"speed": 10}}.get(fmt, {})
    im.save(buffer, fmt, **options)
    path.write_bytes(buffer.getvalue())


def with_empty_scans(jpeg: bytes, count: int) -> bytes:
    """`count` DC scans of the first component, ten bytes each, before the end of the picture (tests/images.py)."""
    return jpeg.removesuffix(b"\xff\xd9") + b"\xff\xda\x00\x08\x01\x01\x00\x00\x00\x00" * count + b"\xff\xd9"


# --- one decode (in a fresh child process) ---------------------------------------------------------------------


def run_case(name: str, **options: object) -> dict:
    """Decode one file in a fresh interpreter; `options`: render() keywords, and lift_scan_limit."""
    command = [sys.executable, __file__, "--case", name, json.dumps(options)]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def case(name: str, options: dict) -> dict:
    """In the child: render the file from disk (as the worker spills a large upload) and measure it."""
    import resource

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
    import django

    django.setup()
    from django.conf import settings
    from PIL import Image

    from uploads import imaging

    Image.init()  # Pillow imports its plugins on the first open; a worker has done so since its first image.

    limits = {
        name: getattr(settings, name) for name in ("MAX_IMAGE_PIXELS", "MAX_DECODE_BYTES", "IMAGE_DECODE_SECONDS")
    }
    limits["MAX_JPEG_SCANS"] = imaging.MAX_JPEG_SCANS
    if options.pop("lift_scan_limit", False):
        imaging.MAX_JPEG_SCANS = UNLIMITED  # the code as it was before the scan limit
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with open(path_of(name), "rb") as fp:
        # Process CPU time: AVIF decodes on libavif's threads too.
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            imaging.render(fp, **options)
            outcome = "rendered"
        except imaging.BadMedia as exc:
            outcome = str(exc)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        estimate = estimated_mb(imaging, fp)
    measured = {"wall": wall, "cpu": cpu, "start_kb": start_rss, "peak_kb": peak_rss, "mb": estimate}
    return {"outcome": outcome, **measured, "limits": limits}


def estimated_mb(imaging, fp) -> int | None:
    """What render() estimates the decode needs: the figure in its refusal under a limit of one byte."""
    fp.seek(0)
    try:
        imaging.render(fp, max_decode_bytes=1)
    except imaging.BadMedia as exc:
        found = re.search(r"about ([0-9,]+) MB", str(exc))
        return int(found[1].replace(",", "")) if found else None
    return None


# --- normal uploads behind scan bombs, through a real worker -------------------------------------------------


def small_jpeg() -> bytes:
    """A 64x48 JPEG of a few hundred bytes, like the one that waited behind the bombs."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, "JPEG")
    return buffer.getvalue()


def latency_behind_bombs(bombs: int) -> dict:
    """Complete `bombs` scan bombs and then a small JPEG, LATENCY_RUNS times; seconds until the JPEG is ready."""
    from latency import configure, forget_queue, record_publishes, start_worker, stop_worker

    from mediahub.localaws import start_server

    server = start_server("127.0.0.1", 0)
    host, port = server.get_host_and_port()
    try:
        with tempfile.TemporaryDirectory(prefix="mediahub-bench-") as data_dir:
            env = configure(f"http://{host}:{port}", data_dir)
            published = record_publishes()
            worker = start_worker(env, Path(data_dir) / "worker.log")
            try:
                owner = str(uuid.uuid4())
                bomb, photo = ensure_file("scan-bomb").read_bytes(), small_jpeg()
                one_run(owner, [photo], [])  # warms the worker up
                alone = [one_run(owner, [photo], [])[0] for _ in range(LATENCY_RUNS)]
                behind = [one_run(owner, [photo], [bomb] * bombs) for _ in range(LATENCY_RUNS)]
            finally:
                stop_worker(worker)
                forget_queue(env["CELERY_TASK_DEFAULT_QUEUE"], published)
    finally:
        server.stop()
    return {"alone": alone, "behind": [seconds for seconds, _ in behind], "statuses": behind[-1][1], "photo": photo}


def one_run(owner: str, photos: list[bytes], bombs: list[bytes]) -> tuple[float, list[str]]:
    """Upload everything, complete the bombs first, and time until the photo is ready; returns the bombs' reasons."""
    from latency import upload, wait_until_done

    from uploads import services
    from uploads.models import MediaItem

    items = []
    for data in [*bombs, *photos]:
        ticket = services.media_create(
            owner_id=owner,
            name="Decoding run",
            caption="",
            file_name="photo.jpg",
            content_type="image/jpeg",
            size=len(data),
        )
        upload(ticket.url, ticket.fields, data)
        items.append(ticket.item.id)
    started = time.perf_counter()
    for media_id in items:
        services.media_complete(owner_id=owner, media_id=media_id)
    status = wait_until_done(items[-1], started + 600)
    seconds = time.perf_counter() - started
    if status != "ready":
        raise SystemExit(f"The photo ended {status}, not ready.")
    reasons = []
    for media_id in items[:-1]:
        wait_until_done(media_id, time.perf_counter() + 60)
        reasons.append(MediaItem.get(media_id, consistent_read=True).reason)
    return seconds, reasons


# --- figures -------------------------------------------------------------------------------------------------


def measure() -> dict:
    for name in FILES:
        ensure_file(name)
    return {
        "worst": {name: run_case(name) for name in WORST},
        "probe": {name: run_case(name, decode_seconds=BUDGET_PROBE) for name in WORST},
        "before": {name: run_case(name, max_decode_bytes=UNLIMITED) for name in BEFORE},
        "refused": {name: run_case(name) for name in BEFORE},
        "bomb": {
            "before": run_case("scan-bomb", lift_scan_limit=True, decode_seconds=UNLIMITED),
            "budget only": run_case("scan-bomb", lift_scan_limit=True),
            "after": run_case("scan-bomb"),
        },
        "junk": {"before": run_case("junk", decode_seconds=UNLIMITED), "after": run_case("junk")},
        "latency": latency_behind_bombs(2),
        "load": os.getloadavg()[0],
    }


def mb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MB"


def pixels(name: str) -> str:
    fmt, _, side, what = FILES[name]
    return f"{fmt} {what}, {side}×{side} ({side * side / 1e6:.1f} MP, {path_of(name).stat().st_size / 1e6:,.3g} MB)"


def markdown(figures: dict) -> str:
    limits = figures["bomb"]["after"]["limits"]
    lines = [
        HEADING,
        "",
        f"What one decode may cost under the limits (`MAX_IMAGE_PIXELS` {limits['MAX_IMAGE_PIXELS'] / 1e6:g} MP, "
        f"`MAX_DECODE_BYTES` {limits['MAX_DECODE_BYTES'] / 1e6:g} MB, at most {limits['MAX_JPEG_SCANS']} scans "
        f"per JPEG, `IMAGE_DECODE_SECONDS` {limits['IMAGE_DECODE_SECONDS']} s of CPU), measured by "
        "`.venv/bin/python bench/decoding.py` (also run by `make bench`). Each figure is `render()` of one file "
        "from disk, with the default renditions, in a fresh process; peak RSS is `ru_maxrss` there, after "
        "importing Django and Pillow and at the end. CPU is the process's (AVIF decodes on several threads); the "
        "budget counts the decoding thread's own.",
        "",
        *worst_table(figures),
        "",
        *probe_table(figures),
        "",
        *before_table(figures),
        "",
        *bomb_table(figures),
        "",
        *latency_lines(figures["latency"], figures["bomb"]["before"]["cpu"]),
        "",
        machine(figures["load"]),
    ]
    return "\n".join(lines) + "\n"


def worst_table(figures: dict) -> list[str]:
    lines = [
        "The worst file each format admits: the largest the memory limit lets through, in the mode that costs the "
        "most (JPEG: at the pixel limit; the progressive one also has the most scans allowed). Flat colour for the "
        "lossless formats (the smallest file for the size, as a bomb is sent; their memory does not depend on the "
        "content), photo-like detail for JPEG. The estimate is `render()`'s own, from the header. So the defaults "
        f"admit JPEG up to the pixel limit, PNG and GIF up to {admitted('png')} MP (grey ones up to the pixel limit), "
        f"AVIF up to {admitted('avif')} MP and WebP up to {admitted('webp')} MP.",
        "",
        "| file | outcome | estimate | peak RSS | of which decoding | CPU | wall |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for name, run in figures["worst"].items():
        lines.append(
            f"| {pixels(name)} | {outcome(run)} | {run['mb']} MB | {mb(run['peak_kb'])} | "
            f"{mb(run['peak_kb'] - run['start_kb'])} | {run['cpu']:.2f} s | {run['wall']:.2f} s |"
        )
    return lines


def probe_table(figures: dict) -> list[str]:
    lines = [
        f"How soon the CPU budget stops each of them: the same files with a budget of {BUDGET_PROBE} s. JPEG, PNG "
        "and GIF are stopped at their next 64 kB read (a PNG's 64 kB of flat colour inflates to some 60 MB of "
        "pixels, hence its longer run); WebP and AVIF decode in one call, which nothing interrupts, so they are "
        "refused only when it returns (the pixel and memory limits bound that call instead).",
        "",
        "| file | CPU until refused | refused |",
        "|---|---:|---|",
    ]
    for name, run in figures["probe"].items():
        lines.append(f"| {pixels(name)} | {run['cpu']:.2f} s | {'yes' if 'too long' in run['outcome'] else 'no'} |")
    return lines


def before_table(figures: dict) -> list[str]:
    lines = [
        "Before the memory limit: the largest file of each format the pixel limit alone admitted, decoded with the "
        "memory limit lifted, and what `render()` answers now. (The Package section's 50 MP PNG and WebP figures "
        "are from before this limit; both are refused now.)",
        "",
        "| file | peak RSS before | CPU before | now | refused in |",
        "|---|---:|---:|---|---:|",
    ]
    for name, run in figures["before"].items():
        now = figures["refused"][name]
        lines.append(
            f"| {pixels(name)} | {mb(run['peak_kb'])} | {run['cpu']:.2f} s | {outcome(now)} | "
            f"{now['cpu'] * 1000:.1f} ms |"
        )
    return lines


def bomb_table(figures: dict) -> list[str]:
    runs = figures["bomb"]
    lines = [
        f"The scan bomb: {pixels('scan-bomb')}.",
        "",
        "| | outcome | CPU | wall | peak RSS |",
        "|---|---|---:|---:|---:|",
    ]
    labels = {
        "before": "before: no scan limit, no budget",
        "budget only": "the CPU budget alone (scan limit lifted)",
        "after": "as shipped: scans counted first",
    }
    for key, label in labels.items():
        run = runs[key]
        lines.append(f"| {label} | {outcome(run)} | {run['cpu']:.2f} s | {run['wall']:.2f} s | {mb(run['peak_kb'])} |")
    worst = figures["worst"]["jpeg-progressive"]["cpu"]
    lines += [
        "",
        f"The budget alone stops the bomb late ({runs['budget only']['cpu']:.0f} s, not "
        f"{runs['after']['limits']['IMAGE_DECODE_SECONDS']} s): libjpeg decodes every scan that arrives in one "
        "64 kB read in a single call, and the budget is checked between reads. Counting the scans first bounds "
        f"that call: at most 100 scans, {worst:.1f} s for the worst progressive JPEG above. What the budget "
        f"stops is what the scan limit cannot see, such as {pixels('junk')}: Pillow's header parser reads junk "
        "between markers one byte at a time.",
        "",
        "| | outcome | CPU | wall |",
        "|---|---|---:|---:|",
    ]
    for key, label in (("before", "without the budget"), ("after", "as shipped")):
        run = figures["junk"][key]
        lines.append(f"| {label} | {outcome(run)} | {run['cpu']:.2f} s | {run['wall']:.2f} s |")
    return lines


def latency_lines(latency: dict, before_cpu: float) -> list[str]:
    alone, behind = latency["alone"], latency["behind"]
    bomb_seconds = statistics.median(behind) - statistics.median(alone)
    return [
        "A normal upload behind two scan bombs, through a real worker (`celery -A mediahub worker -P prefork "
        "--concurrency 1`, moto's server and Redis as in `bench/latency.py`): two bombs are completed, then a "
        f"{len(latency['photo'])}-byte 64×48 JPEG, and the clock runs from the first complete until the JPEG reads "
        f"`ready` (polled every 20 ms). {LATENCY_RUNS} runs each, after a warm-up.",
        "",
        "| | median | max |",
        "|---|---:|---:|",
        f"| the JPEG alone | {statistics.median(alone):.2f} s | {max(alone):.2f} s |",
        f"| behind two scan bombs | {statistics.median(behind):.2f} s | {max(behind):.2f} s |",
        "",
        f"The bombs cost the JPEG {bomb_seconds:.2f} s together (two tasks that fetch, count scans, refuse and "
        f'delete the original); they ended `rejected`: "{latency["statuses"][0]}" Before the fix each bomb held the '
        f"worker for its whole decode, {before_cpu:.0f} s of CPU in the table above, so the JPEG would have waited "
        f"about {2 * before_cpu + statistics.median(alone):.0f} s. tests/uploads/test_tasks.py allows 15 s.",
    ]


def admitted(name: str) -> str:
    side = FILES[name][2]
    return f"{side * side / 1e6:.0f}"


def outcome(run: dict) -> str:
    text = run["outcome"]
    if text == "rendered":
        return "rendered"
    for short, pattern in (("too many scans", "scans"), ("too long", "too long"), ("over the memory limit", "memory")):
        if pattern in text:
            return f"refused: {short}"
    return f"refused: {text}"


def machine(load: float) -> str:
    import PIL

    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"Machine: {cpu_model()}, {len(os.sched_getaffinity(0))} cores; Python {platform.python_version()}, "
        f"Pillow {PIL.__version__}; load average {load:.1f} at the end (other jobs share the machine); {today}."
    )


def main(argv: list[str]) -> None:
    if argv[:1] == ["--make"]:
        make(argv[1])
        return
    if argv[:1] == ["--case"]:
        print(json.dumps(case(argv[1], json.loads(argv[2]))))
        return
    figures = measure()
    report = markdown(figures)
    print(report)
    write_section(HEADING, report)


if __name__ == "__main__":
    main(sys.argv[1:])
