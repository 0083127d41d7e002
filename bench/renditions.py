"""Rendition throughput, output equivalence and peak memory of uploads.imaging.render() against two yardsticks:
pyvips (libvips, decoding once to the large size and deriving the rest) and a naive Pillow pipeline.

    .venv/bin/python bench/renditions.py [folder_of_jpegs]

Without a folder it uses camera-like 12-42 MP JPEGs (with EXIF orientation) and generated photo-like 12-16 MP
ones, cached in .data/bench-images, and the 12 MP camera photo as PNG, WebP and HEIC. Everything runs on one core
(libvips with one thread). Prints the results and replaces the "## Renditions" section of docs/benchmarks.md.
"""

from __future__ import annotations

import datetime
import io
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
os.environ["VIPS_CONCURRENCY"] = "1"  # read when libvips starts: one worker thread, like render()

import logging  # noqa: E402

import django  # noqa: E402
from report import cpu_model, write_section  # noqa: E402 (needs bench/ on the path)

django.setup()

import PIL  # noqa: E402
import pillow_heif  # noqa: E402 (encodes the HEIC input; render() decodes it with pi-heif)
import pyvips  # noqa: E402
from django.conf import settings  # noqa: E402
from images import CAMERA_PHOTOS, PHOTO_SIZES, write_camera_jpeg, write_photo  # noqa: E402
from PIL import Image, ImageChops, ImageOps, ImageStat  # noqa: E402

from uploads import imaging  # noqa: E402
from uploads.imaging import render  # noqa: E402

CACHE = ROOT / ".data" / "bench-images"
BIG_SIZE = (8640, 5760)  # 49.8 megapixels, just under the default MAX_IMAGE_PIXELS
ROUNDS = 3
FILTERS = ("LANCZOS", "BICUBIC", "BILINEAR")  # tried for render()'s resize from the decoded picture to the large
LARGE = 2048
SPEED_TARGET = 1.2  # render()'s throughput against pyvips', at least
MEMORY_TARGET = 0.6  # render()'s peak memory against pyvips', per photo, at most
# Fresh processes per photo and pipeline for the memory figures: pyvips' peak for the same photo varies by up to a
# third from one process to the next (its worker threads and their allocator arenas), render()'s by under 1 MB, so
# one run each decides nothing; the medians are compared.
MEMORY_RUNS = 5
# libvips' own settings for the same output as render(): JPEG quality 85, progressive (libjpeg then optimises the
# Huffman tables, as it does for Pillow), 4:2:0; WebP quality 80, method ("effort") 1; no metadata.
VIPS_JPEG = {"Q": 85, "interlace": True, "keep": "none"}
VIPS_WEBP = {"Q": 80, "effort": 1, "keep": "none"}
OTHER_INPUTS = ("PNG", "WEBP", "HEIC")  # the 12 MP camera photo, upright, in each
logging.getLogger("pyvips").setLevel(logging.WARNING)  # libvips logs every step at INFO
pyvips.cache_set_max(0)  # no operation cache: every round decodes again, as render() does


def main(argv: list[str]) -> None:
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return
    if argv[:1] == ["--rss"]:
        print(peak_rss_kb(argv[1], Path(argv[2])))
        return
    load_before = os.getloadavg()[0]
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, for us and for any encoder threads
    paths = jpegs(Path(argv[0])) if argv else camera_photos() + generated_photos()
    # First, while this process is small: a child starts with its parent's high-water mark in ru_maxrss.
    rss = {kind: run_peak_rss(kind, big_photo()) for kind in KINDS}
    photo_rss = [peak_rss_runs(path) for path in paths[:5]]
    others = other_inputs(paths[0]) if not argv else []
    photos = [path.read_bytes() for path in paths]
    specs = settings.MEDIA_RENDITIONS
    figures = {
        "paths": paths,
        "times": throughput(photos, specs),
        "others": [(fmt, throughput([path.read_bytes()], specs, with_naive=False)[0]) for fmt, path in others],
        "quality": equivalence(photos, specs),
        "bytes": output_bytes(photos, specs),
        "filters": filter_choice(photos, specs),
        "webp": webp_methods(photos),
        "rss": rss,
        "photo_rss": list(zip(paths[:5], photo_rss, strict=True)),
        "load": (load_before, os.getloadavg()[0]),
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


def vips(data: bytes, specs: dict) -> dict[str, dict[str, bytes]]:
    """libvips as its documentation advises: thumbnail (shrink-on-load, upright by EXIF) once to the largest fitted
    size, kept in memory, and every other size derived from that; the same encoder settings as render()."""
    fitted = [spec["size"] for spec in specs.values() if not spec["crop"]]
    side = max(fitted, default=max(spec["size"] for spec in specs.values()))
    large = pyvips.Image.thumbnail_buffer(data, side, height=side, size="down").copy_memory()
    made = {}
    for name, spec in specs.items():
        size = spec["size"]
        if spec["crop"]:
            picture = large.thumbnail_image(size, height=size, crop="centre", size="down")
        else:
            picture = large if size == side else large.thumbnail_image(size, height=size, size="down")
        made[name] = {"jpg": picture.jpegsave_buffer(**VIPS_JPEG), "webp": picture.webpsave_buffer(**VIPS_WEBP)}
    return made


PIPELINES = {"ours": ours, "vips": vips, "naive": naive}
KINDS = tuple(PIPELINES)


def encoded(picture: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, fmt, **options)
    return buffer.getvalue()


# --- measurements --------------------------------------------------------------------------------------------


def throughput(photos: list[bytes], specs: dict, with_naive: bool = True) -> list[dict[str, float]]:
    """CPU seconds per photo for each pipeline (so other processes on the machine count less); they alternate so
    that none gets the quieter moments. A pipeline that cannot read the file gets None."""
    kinds = [kind for kind in KINDS if with_naive or kind != "naive"]
    spent: list[dict[str, float | None]] = [dict.fromkeys(kinds, 0.0) for _ in photos]
    for _ in range(ROUNDS):
        for data, times in zip(photos, spent, strict=True):
            for kind in kinds:
                if times[kind] is None:
                    continue
                start = time.process_time()
                try:
                    PIPELINES[kind](data, specs)
                except pyvips.Error:
                    times[kind] = None  # pyvips-binary's libheif has no HEVC decoder: no HEIC
                    continue
                times[kind] += time.process_time() - start
    return [{kind: s / ROUNDS if s is not None else None for kind, s in times.items()} for times in spent]


def reference(data: bytes, specs: dict) -> dict[str, Image.Image]:
    """Each size as it should look: the whole photo decoded, turned upright, resized once with LANCZOS."""
    full = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
    made = {}
    for name, spec in specs.items():
        box = (spec["size"], spec["size"])
        if spec["crop"]:
            made[name] = ImageOps.fit(full, box, Image.Resampling.LANCZOS)
        else:
            made[name] = full.copy()
            made[name].thumbnail(box, Image.Resampling.LANCZOS)
    return made


def equivalence(photos: list[bytes], specs: dict) -> dict[str, dict[str, float]]:
    """Per size, PSNR against the reference (LANCZOS from the full photo) of our JPEG, of pyvips' JPEG and of the
    reference's own JPEG (quality 85: what JPEG alone costs), and of ours against pyvips'."""
    keys = ("ours", "vips", "jpeg", "ours_vips", "mae", "ssim_ours", "ssim_vips", "ssim_jpeg")
    scores: dict[str, dict[str, list[float]]] = {name: {key: [] for key in keys} for name in specs}
    for data in photos:
        mine, theirs = ours(data, specs), vips(data, specs)
        for name, wanted in reference(data, specs).items():
            picture, other = decoded_jpeg(mine[name]["jpg"]), decoded_jpeg(theirs[name]["jpg"])
            wanted = wanted if wanted.size == picture.size else wanted.resize(picture.size, Image.Resampling.LANCZOS)
            other = other if other.size == picture.size else other.resize(picture.size, Image.Resampling.LANCZOS)
            own_jpeg = decoded_jpeg(encoded(wanted, "JPEG", quality=85))
            scores[name]["ours"].append(psnr(picture, wanted))
            scores[name]["vips"].append(psnr(other, wanted))
            scores[name]["jpeg"].append(psnr(own_jpeg, wanted))
            scores[name]["ssim_ours"].append(ssim(picture, wanted))
            scores[name]["ssim_vips"].append(ssim(other, wanted))
            scores[name]["ssim_jpeg"].append(ssim(own_jpeg, wanted))
            scores[name]["ours_vips"].append(psnr(picture, other))
            scores[name]["mae"].append(mean_abs_diff(picture, wanted))
    return {name: {key: mean(values) for key, values in by.items()} for name, by in scores.items()}


def decoded_jpeg(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def output_bytes(photos: list[bytes], specs: dict) -> dict[str, dict[str, float]]:
    """Average bytes written per photo, all sizes together, per format."""
    totals = {kind: {"jpg": 0, "webp": 0} for kind in KINDS}
    for data in photos:
        for kind in ("ours", "vips"):
            for files in PIPELINES[kind](data, specs).values():
                for ext, blob in files.items():
                    totals[kind][ext] += len(blob)
        for _, (jpeg, webp) in naive(data, specs).values():
            totals["naive"]["jpg"] += len(jpeg)
            totals["naive"]["webp"] += len(webp)
    return {kind: {ext: size / len(photos) for ext, size in by.items()} for kind, by in totals.items()}


def filter_choice(photos: list[bytes], specs: dict) -> dict[str, dict[str, float]]:
    """render() with each filter for its costliest resize, the decoded (DCT-scaled) picture to the large size: CPU
    time for the whole rendition set, and the large's PSNR and SSIM against the reference."""
    large = max(specs, key=lambda name: specs[name]["size"])
    found: dict[str, dict[str, list[float]]] = {name: {"ms": [], "psnr": [], "ssim": []} for name in FILTERS}
    chosen = imaging._RESAMPLE_DECODED
    try:
        for data in photos:
            wanted = reference(data, specs)[large]
            for name in FILTERS:
                imaging._RESAMPLE_DECODED = Image.Resampling[name]
                start = time.process_time()
                made = ours(data, specs)
                found[name]["ms"].append((time.process_time() - start) * 1000)
                picture = decoded_jpeg(made[large]["jpg"])
                if wanted.size != picture.size:
                    wanted = wanted.resize(picture.size, Image.Resampling.LANCZOS)
                found[name]["psnr"].append(psnr(picture, wanted))
                found[name]["ssim"].append(ssim(picture, wanted))
    finally:
        imaging._RESAMPLE_DECODED = chosen
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


def peak_rss_runs(path: Path) -> dict[str, list[dict[str, int]]]:
    """MEMORY_RUNS fresh processes for each of render() and pyvips on `path`, alternating."""
    runs: dict[str, list[dict[str, int]]] = {"ours": [], "vips": []}
    for _ in range(MEMORY_RUNS):
        for kind, found in runs.items():
            found.append(run_peak_rss(kind, path))
    return runs


def peak_rss_kb(kind: str, path: Path) -> str:
    """In the child: ru_maxrss (kB on Linux) after the imports, and after processing the image."""
    start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    PIPELINES[kind](path.read_bytes(), settings.MEDIA_RENDITIONS)
    return f"{start} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}"


def psnr(a: Image.Image, b: Image.Image) -> float:
    mse = mean([rms**2 for rms in ImageStat.Stat(ImageChops.difference(a, b)).rms])
    return 10 * math.log10(255**2 / mse) if mse else math.inf


def ssim(a: Image.Image, b: Image.Image) -> float:
    """Mean SSIM of the two pictures' luma (Wang et al. 2004: an 11-tap Gaussian window, sigma 1.5, K1 0.01,
    K2 0.03); 1 is identical."""
    import numpy  # here, not at the top: the memory children must not import it, which changes the heap they measure

    x, y = (numpy.asarray(picture.convert("L"), dtype=numpy.float64) for picture in (a, b))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mean_x, mean_y = gaussian_window(x), gaussian_window(y)
    var_x = gaussian_window(x * x) - mean_x**2
    var_y = gaussian_window(y * y) - mean_y**2
    covariance = gaussian_window(x * y) - mean_x * mean_y
    index = ((2 * mean_x * mean_y + c1) * (2 * covariance + c2)) / ((mean_x**2 + mean_y**2 + c1) * (var_x + var_y + c2))
    return float(index.mean())


def gaussian_window(plane, sigma: float = 1.5, radius: int = 5):
    """Each point of a numpy `plane`: its Gaussian-weighted neighbourhood mean, where the whole window fits (no
    padding)."""
    offsets = range(-radius, radius + 1)
    taps = [math.exp(-(offset**2) / (2 * sigma**2)) for offset in offsets]
    taps = [tap / sum(taps) for tap in taps]
    span = 2 * radius
    rows = sum(weight * plane[i : plane.shape[0] - span + i] for i, weight in enumerate(taps))
    return sum(weight * rows[:, i : rows.shape[1] - span + i] for i, weight in enumerate(taps))


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


def camera_photos() -> list[Path]:
    photos = []
    for seed, (size, orientation, model) in enumerate(CAMERA_PHOTOS):
        path = CACHE / f"camera-{seed}-{size[0]}x{size[1]}-o{orientation}.jpg"
        photos.append(path if path.exists() else write_camera_jpeg(path, size, orientation, model, 20 + seed))
    return photos


def other_inputs(camera: Path) -> list[tuple[str, Path]]:
    """The camera photo, upright, as PNG, WebP (quality 90) and HEIC (quality 60, 512-pixel tiles, as an iPhone
    writes it; x265 takes a minute or two for it, once)."""
    made = []
    for fmt in OTHER_INPUTS:
        path = CACHE / f"{camera.stem}-upright.{fmt.lower()}"
        if not path.exists():
            upright = ImageOps.exif_transpose(Image.open(camera)).convert("RGB")
            if fmt == "HEIC":
                pillow_heif.from_pillow(upright).save(path, quality=60, tile_size=512)
            else:
                upright.save(path, fmt, **({"quality": 90} if fmt == "WEBP" else {}))
        made.append((fmt, path))
    return made


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


def rate(times: list[dict], kind: str) -> float:
    return len(times) / sum(t[kind] for t in times)


def markdown(figures: dict, specs: dict) -> str:
    times = figures["times"]
    ours_rate, vips_rate, naive_rate = (rate(times, kind) for kind in KINDS)
    lines = [
        "## Renditions",
        "",
        *intro(len(times), specs),
        "",
        "| photo | MP | EXIF orientation | `render()` ms | pyvips ms | naive ms | against pyvips | against naive |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        *(photo_row(path, t) for path, t in zip(figures["paths"], times, strict=True)),
        f"| **all** | | | **{1000 / ours_rate:.0f}** | **{1000 / vips_rate:.0f}** | **{1000 / naive_rate:.0f}** | "
        f"**{ours_rate / vips_rate:.2f}×** | **{ours_rate / naive_rate:.2f}×** |",
        "",
        f"Throughput: {ours_rate:.2f} images/s against pyvips' {vips_rate:.2f} and the naive pipeline's "
        f"{naive_rate:.2f}. The ratios are throughput: above 1, `render()` is faster.",
        "",
        *targets(ours_rate / vips_rate, ours_rate / naive_rate, figures["photo_rss"], figures["rss"]),
        "",
        *others_table(figures["others"]),
        "",
        *rss_tables(figures["photo_rss"], figures["rss"]),
        "",
        *equivalence_table(figures["quality"]),
        "",
        *bytes_table(figures["bytes"]),
        "",
        *choice_tables(figures["filters"], figures["webp"]),
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores (one used); Python {platform.python_version()}, Pillow "
        f"{PIL.__version__}, pyvips {pyvips.__version__} with libvips {pyvips.version(0)}.{pyvips.version(1)}."
        f"{pyvips.version(2)}, pillow-heif {pillow_heif.__version__} (to encode the HEIC); load average "
        f"{figures['load'][0]:.1f} before the runs and {figures['load'][1]:.1f} after (other jobs share the machine; "
        f"CPU time is measured); {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC.",
    ]
    return "\n".join(lines) + "\n"


def grown_mb(r: dict[str, int]) -> float:
    return (r["peak"] - r["start"]) / 1024


def median_grown_mb(runs: list[dict[str, int]]) -> float:
    return statistics.median(grown_mb(r) for r in runs)


def grown_range(runs: list[dict[str, int]]) -> str:
    grown = [grown_mb(r) for r in runs]
    return f"{min(grown):.0f}-{max(grown):.0f}"


def targets(speed: float, naive_speed: float, photo_rss: list[tuple[Path, dict]], big: dict) -> list[str]:
    shares = [median_grown_mb(r["ours"]) / median_grown_mb(r["vips"]) for _, r in photo_rss]
    over = [
        f"{path.name} {share:.0%}" for (path, _), share in zip(photo_rss, shares, strict=True) if share > MEMORY_TARGET
    ]

    def verdict(ok: bool) -> str:
        return "**PASS**" if ok else "**FAIL**"

    return [
        f"Targets: throughput at least {SPEED_TARGET:g}× pyvips': {speed:.2f}×, {verdict(speed >= SPEED_TARGET)}. "
        f"Peak memory at most {MEMORY_TARGET:.0%} of pyvips' for each photo (medians, table below): "
        f"{min(shares):.0%}-{max(shares):.0%}, {verdict(not over)}"
        + (f" (over: {', '.join(over)})." if over else ".")
        + f" Against the naive pipeline: {naive_speed:.2f}× its throughput; the {BIG_SIZE[0]}×{BIG_SIZE[1]} JPEG: "
        f"{grown_mb(big['ours']):.0f} MB at the peak, pyvips {grown_mb(big['vips']):.0f} MB.",
    ]


def intro(count: int, specs: dict) -> list[str]:
    return [
        f"`render()` (`uploads/imaging.py`) against pyvips and a naive Pillow pipeline on {count} JPEGs, CPU time "
        f"on one core (libvips with one thread: `VIPS_CONCURRENCY=1`), each photo {ROUNDS} times from memory, the "
        f"three alternating. Renditions: {rendition_list(specs)}; each written as JPEG and WebP. The camera photos "
        "(12-42 MP, quality 92, 4:2:0, with the camera's EXIF; two held upright, EXIF orientation 6 and 8) and the "
        "generated ones (12-16 MP) are both photo-like: gradients, shapes, hard edges, texture and sensor grain. "
        "Reproduce with `.venv/bin/python bench/renditions.py` (give it a folder to use your own JPEGs).",
        "",
        "pyvips does what its documentation advises: `thumbnail_buffer()` once to 2048 px (shrink-on-load, upright "
        "by EXIF), kept in memory (`copy_memory()`), every other size derived from it with `thumbnail_image()`, "
        "written with the same settings as `render()` (JPEG quality 85 progressive, WebP quality 80 method 1), so "
        "the encoders, the same libjpeg-turbo and libwebp in both, cost the same. The naive pipeline opens the file, "
        "converts it to RGB, makes every size from the full image (`thumbnail()` or `ImageOps.fit()`, LANCZOS) and "
        "saves JPEG quality 85 and WebP quality 80 with Pillow's other defaults (baseline JPEG, WebP method 4), and "
        "does not turn photos upright. `render()` also checks the file and converts colours.",
        "",
        *how(),
    ]


def how() -> list[str]:
    """What render() does to get there, and what was measured and left out (by hand, 2026-12-02 and 2026-12-03,
    CPU time)."""
    return [
        "How `render()` gets there. A JPEG decodes at the smallest of 1/8, 1/4, 3/8 and 1/2 that keeps 97% of the "
        "large size (DCT scaling): Pillow's draft() offers no 3/8, but libjpeg-turbo decodes at 3/8 when asked for "
        "1/3, so `_draft()` asks for it and sizes Pillow's picture to match (ceil(side × 3/8)). The 24 and 30 MP "
        "photos decode at 2250 and 2520 px instead of 3000 and 3360: no faster to decode (Huffman decoding is "
        "most of it, and libjpeg-turbo's 3×3 IDCT has no SIMD: 63 against 67 ms, 81 against 77 ms), but resizing "
        "to 2048 then takes 34 and 39 ms instead of 49 and 60, at the same PSNR, and the decoded picture is 44% "
        "smaller. Any other format is first shrunk by whole factors with reduce() the same way (the 12 MP PNG and "
        "WebP: 1512×2016 then 1.6% up, instead of BICUBIC from 3024×4032: 15% less time). From the decoded "
        "picture to the large size, the costliest resize, the filter is BILINEAR; everywhere else BICUBIC (the "
        "choices table below). Resizing a decoded picture holds two pictures at once, not three: shrinking its "
        "height, it is resampled into the result 32 rows at a time (`_banded()`: beside the decoded picture, the "
        "result is smaller than resize()'s first pass); otherwise its two passes are made one by one (the same "
        "pixels as resize()), the decoded picture freed after the first and the picture turned upright between "
        "them. WebP is encoded by libwebp straight from the picture's rows (`uploads/webp.py`, below), the WebP of "
        "each size before its JPEG.",
        "",
        "Tried and left out: decoding JPEG in YCbCr (draft mode) and encoding the JPEGs from it saves nothing "
        "(libjpeg-turbo's colour conversions are SIMD and cheap: 41 against 39 ms to decode a 12 MP photo at 1/2, "
        "34 against 32 ms to encode the large size) and WebP would then need a conversion back (7-8 ms); libjpeg's "
        "fast, non-fancy upsampling (Pillow's draft flag) measured no consistent gain (within ±5 ms either way); "
        "HAMMING instead of BILINEAR: no faster than BICUBIC. Not stretching 2016 px to 2048 (12 MP photos) "
        "would save 26-30 ms and 12 MB each, but changes the large size the product promises (its long side is "
        "2048), so it stays. Handing libwebp packed RGB, as libvips does, instead of the picture's 4-byte rows: "
        "its import takes 9.4 against 11.7 ms for the large, but Pillow's copy to packed RGB costs 7.4 ms and "
        "9.4 MB.",
        "",
        "Where the memory goes, at the peak (the file itself, 4-12 MB, is held by the caller in both pipelines). "
        "Every photo peaks while decoding and resizing, with two pictures held: the decoded one and, stretching "
        "(the 12 MP photos: 2000×1500 decoded at 1/2, 12.0 MB, to 2048×1536), resizing's first pass (2048×1500, "
        "12.3 MB), or, shrinking (the 30 MP one: 2520×1680 decoded at 3/8, 16.9 MB, to 2048×1365), the result "
        "(11.2 MB) and one band, where the first pass would be 2048×1680 (13.8 MB): 35.8 MB grown against 37.6. "
        "Pillow decodes a whole picture at once; libvips streams decoding into resizing and holds the 2048 result "
        "(3 bytes a pixel, 9.4 MB) and its buffers. Encoding stays under that peak: `uploads/webp.py` hands "
        "libwebp the picture's own rows (through Pillow's Arrow export), which it imports straight into YUV (4.7 "
        "MB for the large), as it does for libvips, and gets the same bytes as Pillow's save, which first copies "
        "the picture into a 4-byte ARGB picture (12.6 MB). With that copy the 12 MP photos peaked in the WebP "
        "encode: 32.5 MB grown against 26.9 (camera-1, the file not counted), and 36-37 MB in the table below on "
        "2026-12-02 against 32-33 now; the large's WebP also takes 3-7 ms less. The WebP of each size is encoded "
        "before its JPEG, whose encoder's freed buffers (the progressive encoder's whole-picture coefficients, 9.4 "
        "MB, and Pillow's w×h output buffer) would otherwise stay in the heap beside the YUV.",
        "",
        "How close to the targets, and why. CPU time on a shared machine varies by ±10% between same-sized photos "
        "and by ±5% between runs, and the ratio depends on the processor. With BICUBIC throughout and Pillow's WebP "
        "save: 1.14× and 1.17× on 2026-12-02 (an AMD EPYC), 1.22× on 2026-12-03 (this Intel Xeon); with libwebp "
        "reached directly, 1.20× twice here; with BILINEAR from the decoded picture too, 1.25×. Decoding (the same "
        "libjpeg-turbo; Huffman decoding is most of it) and encoding (the same libjpeg-turbo and libwebp) cost both "
        "pipelines the same at the same scale: of `render()`'s 320 ms for a 16 MP photo, the three WebPs take 89, "
        "decoding 79, resizing 78 and the three JPEGs 59. `render()` wins where libvips decodes more (the 12 MP "
        "photos, which it decodes whole; 42 MP at 1/2 against 1/4) and is only a little ahead on the 16 MP photos "
        "both decode at 1/2, because resizing in Pillow, without SIMD, is slower than in libvips: hence BILINEAR "
        "there, which costs the large 0.3 dB PSNR and 0.002 SSIM against BICUBIC (the choices table), less than "
        "the JPEG at quality 85 costs it and a fraction of its distance from pyvips' large; the thumb and medium "
        "are unchanged. Memory: the 12 MP photos hold two 12 MB pictures while stretching, where libvips holds its "
        "9.4 MB result, 32-33 MB grown in all, while pyvips' peak for the same photo varies between 49 and 66 MB "
        "from one fresh process to the next (`render()`'s by under 1 MB): so each is the median of five processes, "
        "and the 12 MP photos are the ones that decide the memory target.",
    ]


def photo_row(path: Path, times: dict[str, float]) -> str:
    with Image.open(path) as im:
        megapixels = im.width * im.height / 1e6
        orientation = im.getexif().get(0x0112, 1)
    ours_ms, vips_ms, naive_ms = (times[kind] * 1000 for kind in KINDS)
    return (
        f"| {path.name} | {megapixels:.1f} | {orientation} | {ours_ms:.0f} | {vips_ms:.0f} | {naive_ms:.0f} | "
        f"{vips_ms / ours_ms:.2f}× | {naive_ms / ours_ms:.2f}× |"
    )


def others_table(others: list[tuple[str, dict]]) -> list[str]:
    def cell(ms: float | None) -> str:
        return f"{ms * 1000:.0f}" if ms is not None else "cannot read it"

    def ratio(t: dict) -> str:
        return f"{t['vips'] / t['ours']:.2f}×" if t["vips"] is not None else "—"

    rows = [f"| {fmt} | {cell(t['ours'])} | {cell(t['vips'])} | {ratio(t)} |" for fmt, t in others]
    return [
        "Other inputs: the 12 MP camera photo, upright (3024×4032), as PNG, WebP (quality 90) and HEIC (quality 60, "
        "512-pixel tiles, as an iPhone writes it; encoded by pillow-heif). None of these can be decoded at a "
        "reduced size, so both decode all 12 MP (`render()` then reduces by 2 before resampling). pyvips-binary's "
        "libheif has no HEVC decoder (only AV1, for AVIF), so pyvips cannot read a HEIC at all; `render()` reads it "
        "with pi-heif (libde265).",
        "",
        "| input | `render()` ms | pyvips ms | against pyvips |",
        "|---|---:|---:|---:|",
        *rows,
    ]


def equivalence_table(quality: dict[str, dict[str, float]]) -> list[str]:
    return [
        "Visual equivalence, per size, over the JPEGs above: PSNR and SSIM of each JPEG rendition against the "
        "reference (the whole photo decoded, turned upright and resized once with LANCZOS; higher is closer), next "
        "to the reference's own JPEG at quality 85 (what JPEG alone costs), ours against pyvips' (PSNR), and the "
        "mean absolute difference of ours from the reference (0-255 scale). SSIM is of the luma, with the usual "
        "11-pixel Gaussian window.",
        "",
        "| size | `render()` PSNR | pyvips PSNR | the reference's JPEG | `render()` SSIM | pyvips SSIM | "
        "the reference's JPEG | `render()` against pyvips | mean abs. diff. |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {name} | {q['ours']:.1f} dB | {q['vips']:.1f} dB | {q['jpeg']:.1f} dB | {q['ssim_ours']:.4f} | "
            f"{q['ssim_vips']:.4f} | {q['ssim_jpeg']:.4f} | {q['ours_vips']:.1f} dB | {q['mae']:.2f} |"
            for name, q in quality.items()
        ),
    ]


def bytes_table(sizes: dict[str, dict[str, float]]) -> list[str]:
    return [
        "Bytes written per photo, all sizes together:",
        "",
        "| | JPEG | WebP |",
        "|---|---:|---:|",
        *(
            f"| {KIND_NAMES[kind]} | {by['jpg'] / 1024:.0f} KiB | {by['webp'] / 1024:.0f} KiB |"
            for kind, by in sizes.items()
        ),
    ]


def choice_tables(filters: dict[str, dict[str, float]], webp: dict[int, dict[str, float]]) -> list[str]:
    return [
        "Choices. The resample filter from the decoded picture to the large size (`render()` uses "
        f"{imaging._RESAMPLE_DECODED.name}): `render()`'s CPU time a photo with each, and its large JPEG against "
        "the reference; and the WebP method for the large size, quality 80 (`render()` uses "
        f"{imaging._WEBP_OPTIONS['method']}):",
        "",
        "| filter | `render()` ms | large PSNR | large SSIM |",
        "|---|---:|---:|---:|",
        *(f"| {name} | {f['ms']:.0f} | {f['psnr']:.2f} dB | {f['ssim']:.4f} |" for name, f in filters.items()),
        "",
        "| WebP method | ms | KiB |",
        "|---|---:|---:|",
        *(f"| {method} | {w['ms']:.0f} | {w['bytes'] / 1024:.0f} |" for method, w in webp.items()),
    ]


def rss_tables(photo_rss: list[tuple[Path, dict]], big: dict[str, dict[str, int]]) -> list[str]:
    rows = [
        f"| {path.name} | {median_grown_mb(r['ours']):.0f} MB ({grown_range(r['ours'])}) | "
        f"{median_grown_mb(r['vips']):.0f} MB ({grown_range(r['vips'])}) | "
        f"{median_grown_mb(r['ours']) / median_grown_mb(r['vips']):.0%} |"
        for path, r in photo_rss
    ]
    return [
        "Memory: peak RSS (`ru_maxrss`) of a fresh process handling one photo, less what it held after importing "
        f"Django, Pillow and pyvips (the same imports for each); the median of {MEMORY_RUNS} processes each, the two "
        "alternating, with the smallest and largest in brackets:",
        "",
        "| photo | `render()` | pyvips | `render()` / pyvips |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        f"And one {BIG_SIZE[0]}×{BIG_SIZE[1]} ({BIG_SIZE[0] * BIG_SIZE[1] / 1e6:.1f} MP) JPEG, the largest the "
        "pixel limit admits:",
        "",
        "| | after imports | peak | grown |",
        "|---|---:|---:|---:|",
        *(
            f"| {KIND_NAMES[kind]} | {r['start'] / 1024:.0f} MB | {r['peak'] / 1024:.0f} MB | {grown_mb(r):.0f} MB |"
            for kind, r in big.items()
        ),
    ]


KIND_NAMES = {"ours": "`render()`", "vips": "pyvips", "naive": "naive"}


def rendition_list(specs: dict) -> str:
    return ", ".join(f"{name} {s['size']}{' square' if s['crop'] else ''}" for name, s in specs.items())


if __name__ == "__main__":
    main(sys.argv[1:])
