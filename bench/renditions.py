"""Rendition throughput, output equivalence and peak memory of uploads.imaging.render() against a naive pipeline.

    .venv/bin/python bench/renditions.py [folder_of_jpegs]

Without a folder it uses generated photo-like 12-16 MP JPEGs, cached in .data/bench-images. Everything runs on
one core. Prints the results and replaces the "## Renditions" section of docs/benchmarks.md with them.
"""

from __future__ import annotations

import datetime
import io
import math
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")

import django  # noqa: E402
from report import cpu_model, write_section  # noqa: E402 (needs bench/ on the path)

django.setup()

import PIL  # noqa: E402
from django.conf import settings  # noqa: E402
from images import PHOTO_SIZES, write_photo  # noqa: E402
from PIL import Image, ImageChops, ImageOps, ImageStat  # noqa: E402

from uploads.imaging import render  # noqa: E402

CACHE = ROOT / ".data" / "bench-images"
BIG_SIZE = (8640, 5760)  # 49.8 megapixels, just under the default MAX_IMAGE_PIXELS
ROUNDS = 3
FILTERS = ("LANCZOS", "BICUBIC", "BILINEAR")  # LANCZOS first: it is the reference the others are compared with
LARGE = 2048


def main(argv: list[str]) -> None:
    if argv[:1] == ["--rss"]:
        print(peak_rss_kb(argv[1], Path(argv[2])))
        return
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, for us and for any encoder threads
    # First, while this process is small: a child starts with its parent's high-water mark in ru_maxrss.
    rss = {kind: run_peak_rss(kind, big_photo()) for kind in ("ours", "naive")}
    paths = jpegs(Path(argv[0])) if argv else generated_photos()
    photos = [path.read_bytes() for path in paths]
    specs = settings.MEDIA_RENDITIONS
    figures = {
        "paths": paths,
        "times": throughput(photos, specs),
        "quality": equivalence(photos, specs),
        "bytes": output_bytes(photos, specs),
        "filters": filter_choice(photos),
        "webp": webp_methods(photos),
        "rss": rss,
    }
    report = markdown(figures, specs)
    print(report)
    write_section("## Renditions", report)


# --- the two pipelines ---------------------------------------------------------------------------------------


def naive(data: bytes, specs: dict) -> dict[str, tuple[Image.Image, list[bytes]]]:
    """What one writes first: decode everything, convert, shrink the full image for every size with LANCZOS, and
    save with Pillow's defaults at the same qualities. Returns each size's pixels and its encoded files."""
    rgb = Image.open(io.BytesIO(data)).convert("RGB")
    made = {}
    for name, spec in specs.items():
        box = (spec["size"], spec["size"])
        if spec["crop"]:
            picture = ImageOps.fit(rgb, box, Image.Resampling.LANCZOS)
        else:
            picture = rgb.copy()
            picture.thumbnail(box, Image.Resampling.LANCZOS)
        made[name] = (picture, [encoded(picture, "JPEG", quality=85), encoded(picture, "WEBP", quality=80)])
    return made


def ours(data: bytes, specs: dict) -> dict[str, dict[str, bytes]]:
    made: dict[str, dict[str, bytes]] = {}
    for rendition in render(io.BytesIO(data), renditions=specs).renditions:
        made.setdefault(rendition.name, {})[rendition.ext] = rendition.data
    return made


def encoded(picture: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)
    return buffer.getvalue()


# --- measurements --------------------------------------------------------------------------------------------


def throughput(photos: list[bytes], specs: dict) -> list[dict[str, float]]:
    """CPU seconds per photo for each pipeline (so other processes on the machine count less); the two alternate
    so that neither gets the quieter moments."""
    spent = [{"ours": 0.0, "naive": 0.0} for _ in photos]
    for _ in range(ROUNDS):
        for data, times in zip(photos, spent, strict=True):
            for kind, pipeline in (("ours", ours), ("naive", naive)):
                start = time.process_time()
                pipeline(data, specs)
                times[kind] += time.process_time() - start
    return [{kind: seconds / ROUNDS for kind, seconds in times.items()} for times in spent]


def equivalence(photos: list[bytes], specs: dict) -> dict[str, dict[str, float]]:
    """Per size: how far our JPEG is from the naive pipeline's pixels before encoding, next to how far the naive
    pipeline's own JPEG is from them. Equal figures mean the difference is JPEG's own, not ours."""
    scores: dict[str, dict[str, list[float]]] = {name: {"ours": [], "naive": [], "mae": []} for name in specs}
    for data in photos:
        mine = ours(data, specs)
        for name, (reference, files) in naive(data, specs).items():
            picture = Image.open(io.BytesIO(mine[name]["jpg"])).convert("RGB")
            reference = reference if reference.size == picture.size else reference.resize(picture.size)
            scores[name]["ours"].append(psnr(picture, reference))
            scores[name]["naive"].append(psnr(Image.open(io.BytesIO(files[0])).convert("RGB"), reference))
            scores[name]["mae"].append(mean_abs_diff(picture, reference))
    return {name: {key: mean(values) for key, values in by.items()} for name, by in scores.items()}


def output_bytes(photos: list[bytes], specs: dict) -> dict[str, dict[str, float]]:
    """Average bytes written per photo, all sizes together, per format."""
    totals = {"ours": {"jpg": 0, "webp": 0}, "naive": {"jpg": 0, "webp": 0}}
    for data in photos:
        for files in ours(data, specs).values():
            for ext, blob in files.items():
                totals["ours"][ext] += len(blob)
        for _, (jpeg, webp) in naive(data, specs).values():
            totals["naive"]["jpg"] += len(jpeg)
            totals["naive"]["webp"] += len(webp)
    return {kind: {ext: size / len(photos) for ext, size in by.items()} for kind, by in totals.items()}


def filter_choice(photos: list[bytes]) -> dict[str, dict[str, float]]:
    """The most expensive resize, decoded photo -> large, with each filter: time, and distance from LANCZOS."""
    found: dict[str, dict[str, list[float]]] = {name: {"ms": [], "psnr": []} for name in FILTERS}
    for data in photos:
        full = Image.open(io.BytesIO(data)).convert("RGB")
        reference = None
        for name in FILTERS:
            start = time.process_time()
            picture = full.resize(fitted(full.size, LARGE), Image.Resampling[name])
            found[name]["ms"].append((time.process_time() - start) * 1000)
            reference = reference or picture
            found[name]["psnr"].append(psnr(picture, reference))
    return {name: {key: mean(values) for key, values in by.items()} for name, by in found.items()}


def webp_methods(photos: list[bytes]) -> dict[int, dict[str, float]]:
    """Encoding the large size as WebP quality 80 with each method: time and bytes."""
    found: dict[int, dict[str, list[float]]] = {method: {"ms": [], "bytes": []} for method in range(7)}
    for data in photos:
        full = Image.open(io.BytesIO(data)).convert("RGB")
        large = full.resize(fitted(full.size, LARGE), Image.Resampling.BICUBIC)
        for method, by in found.items():
            start = time.process_time()
            size = len(encoded(large, "WEBP", quality=80, method=method))
            by["ms"].append((time.process_time() - start) * 1000)
            by["bytes"].append(size)
    return {method: {key: mean(values) for key, values in by.items()} for method, by in found.items()}


def run_peak_rss(kind: str, path: Path) -> dict[str, int]:
    """Peak resident memory (kB) of a fresh process that imports everything and then processes `path` once."""
    command = [sys.executable, __file__, "--rss", kind, str(path)]
    start, peak = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
    return {"start": int(start), "peak": int(peak)}


def peak_rss_kb(kind: str, path: Path) -> str:
    """In the child: ru_maxrss (kB on Linux) after the imports, and after processing the image."""
    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    (ours if kind == "ours" else naive)(path.read_bytes(), settings.MEDIA_RENDITIONS)
    return f"{start} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}"


def psnr(a: Image.Image, b: Image.Image) -> float:
    mse = mean([rms**2 for rms in ImageStat.Stat(ImageChops.difference(a, b)).rms])
    return 10 * math.log10(255**2 / mse) if mse else math.inf


def mean_abs_diff(a: Image.Image, b: Image.Image) -> float:
    return mean(ImageStat.Stat(ImageChops.difference(a, b)).mean)


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def fitted(size: tuple[int, int], side: int) -> tuple[int, int]:
    scale = side / max(size)
    return round(size[0] * scale), round(size[1] * scale)


# --- inputs --------------------------------------------------------------------------------------------------


def jpegs(folder: Path) -> list[Path]:
    return [path for path in sorted(folder.iterdir()) if path.suffix.lower() in (".jpg", ".jpeg")]


def generated_photos() -> list[Path]:
    photos = []
    for seed, size in enumerate(PHOTO_SIZES):
        path = CACHE / f"photo-{seed}-{size[0]}x{size[1]}.jpg"
        photos.append(path if path.exists() else write_photo(path, size, seed))
    return photos


def big_photo() -> Path:
    """Made in a child process, so that this one stays small for the memory measurement."""
    path = CACHE / f"photo-big-{BIG_SIZE[0]}x{BIG_SIZE[1]}.jpg"
    if not path.exists():
        command = [sys.executable, str(ROOT / "bench" / "images.py"), str(path), *map(str, BIG_SIZE), "99"]
        subprocess.run(command, check=True)
    return path


# --- report --------------------------------------------------------------------------------------------------


def markdown(figures: dict, specs: dict) -> str:
    times = figures["times"]
    ours_rate, naive_rate = len(times) / sum(t["ours"] for t in times), len(times) / sum(t["naive"] for t in times)
    lines = [
        "## Renditions",
        "",
        *intro(len(times), specs),
        "",
        "| photo | MP | `render()` ms | naive ms | ratio |",
        "|---|---:|---:|---:|---:|",
        *(photo_row(path, t) for path, t in zip(figures["paths"], times, strict=True)),
        f"| **all** | | **{1000 / ours_rate:.0f}** | **{1000 / naive_rate:.0f}** | **{ours_rate / naive_rate:.2f}×** |",
        "",
        f"Throughput: {ours_rate:.2f} images/s against {naive_rate:.2f} images/s. Photos at least twice the large "
        "size gain most: the JPEG decoder then scales them down while decoding (DCT scaling).",
        "",
        *equivalence_table(figures["quality"]),
        "",
        *bytes_table(figures["bytes"]),
        "",
        *choice_tables(figures["filters"], figures["webp"]),
        "",
        *rss_table(figures["rss"]),
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores (one used); Python {platform.python_version()}, Pillow "
        f"{PIL.__version__}; {datetime.date.today().isoformat()}.",
    ]
    return "\n".join(lines) + "\n"


def intro(count: int, specs: dict) -> list[str]:
    return [
        f"`render()` (`uploads/imaging.py`) against a naive pipeline on {count} JPEGs, CPU time on one core, "
        f"each photo {ROUNDS} times from memory. Renditions: {rendition_list(specs)}; each written as JPEG and "
        "WebP. Reproduce with `.venv/bin/python bench/renditions.py` (give it a folder to use your own JPEGs; "
        "without one it generates photo-like pictures: gradients, shapes, texture and grain).",
        "",
        "The naive pipeline opens the file, converts it to RGB, makes every size from the full image "
        "(`thumbnail()` or `ImageOps.fit()`, LANCZOS) and saves JPEG quality 85 and WebP quality 80 with Pillow's "
        "other defaults (baseline JPEG, WebP method 4). `render()` also checks, orients and converts colours, and "
        "writes progressive JPEG and WebP method 1.",
    ]


def photo_row(path: Path, times: dict[str, float]) -> str:
    with Image.open(path) as im:
        megapixels = im.width * im.height / 1e6
    ratio = times["naive"] / times["ours"]
    return (
        f"| {path.name} | {megapixels:.1f} | {times['ours'] * 1000:.0f} | {times['naive'] * 1000:.0f} | {ratio:.2f}× |"
    )


def equivalence_table(quality: dict[str, dict[str, float]]) -> list[str]:
    return [
        "Visual equivalence, per size: PSNR of each pipeline's JPEG against the naive pipeline's pixels before "
        "encoding (higher is closer), and the mean absolute difference of ours from them (0-255 scale). The naive "
        "JPEG is the yardstick: equal figures mean ours differs from the naive result no more than JPEG quality 85 "
        "itself does.",
        "",
        "| size | `render()` JPEG | naive JPEG | mean abs. diff. |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {q['ours']:.1f} dB | {q['naive']:.1f} dB | {q['mae']:.2f} |" for name, q in quality.items()),
    ]


def bytes_table(sizes: dict[str, dict[str, float]]) -> list[str]:
    return [
        "Bytes written per photo, all sizes together:",
        "",
        "| | JPEG | WebP |",
        "|---|---:|---:|",
        *(f"| {kind} | {by['jpg'] / 1024:.0f} KiB | {by['webp'] / 1024:.0f} KiB |" for kind, by in sizes.items()),
    ]


def choice_tables(filters: dict[str, dict[str, float]], webp: dict[int, dict[str, float]]) -> list[str]:
    return [
        f"Choices. Resample filter for the costliest step, decoded photo to {LARGE} pixels (`render()` uses "
        "BICUBIC), and WebP method for the large size, quality 80 (`render()` uses 1):",
        "",
        "| filter | ms | PSNR against LANCZOS |",
        "|---|---:|---:|",
        *(f"| {name} | {f['ms']:.0f} | {f['psnr']:.1f} dB |" for name, f in filters.items()),
        "",
        "| WebP method | ms | KiB |",
        "|---|---:|---:|",
        *(f"| {method} | {w['ms']:.0f} | {w['bytes'] / 1024:.0f} |" for method, w in webp.items()),
    ]


def rss_table(rss: dict[str, dict[str, int]]) -> list[str]:
    return [
        f"Peak RSS (`ru_maxrss`) of a fresh process handling one {BIG_SIZE[0]}×{BIG_SIZE[1]} "
        f"({BIG_SIZE[0] * BIG_SIZE[1] / 1e6:.1f} MP) JPEG, after importing Django and Pillow and at the end:",
        "",
        "| | after imports | peak |",
        "|---|---:|---:|",
        *(f"| {kind} | {r['start'] / 1024:.0f} MB | {r['peak'] / 1024:.0f} MB |" for kind, r in rss.items()),
    ]


def rendition_list(specs: dict) -> str:
    return ", ".join(f"{name} {s['size']}{' square' if s['crop'] else ''}" for name, s in specs.items())


if __name__ == "__main__":
    main(sys.argv[1:])
