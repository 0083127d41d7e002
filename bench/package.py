"""The Lambda package: its size against AWS's limits, its cold start, and memory for the largest allowed image.

    .venv/bin/python bench/package.py            # builds it first (`make package`: a few minutes)
    .venv/bin/python bench/package.py --zip .data/package/mediahub-production.zip

Everything runs as on Lambda as far as a machine without AWS can: the zip is unpacked into a folder (Lambda's
/var/task), and a fresh interpreter of the runtime's version (python3.12) runs it with nothing else on its path
but boto3, botocore and s3transfer (the copies the Lambda runtime provides, which the package leaves out), without
writing bytecode (the folder is read-only on Lambda). moto's server on loopback stands in for Parameter Store.

Figures: zipped and unzipped size; the wall time of a fresh process that imports Zappa's handler, answers the
sign-in page through it (Django set-up and the secrets read included) and imports the S3 event module; the
slowest imports (`-X importtime`); peak memory and time to render the largest image allowed in each lossless
or WebP format, which Pillow cannot shrink while decoding. Replaces the "## Package" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from report import cpu_model, write_section  # noqa: E402 (needs bench/ on the path)

sys.path.remove(str(ROOT / "bench"))  # bench/uploads.py would shadow the uploads app that django.setup() imports

from deploy import build  # noqa: E402 (needs ROOT on the path)

HEADING = "## Package"
STAGE = "production"
# Lambda's limits: 250 MB unzipped (layers included; we use none) whatever the route, 50 MB zipped only for a zip
# sent in the API call, which deploy.upload avoids (the zip goes through the stage's code bucket).
DIRECT_LIMIT, UNZIPPED_LIMIT = 50 * 2**20, 250 * 2**20
COLD_TARGET = 1.5  # seconds
COLD_RUNS = 7
SDK = ("boto3", "botocore", "s3transfer")

CHILD = r"""
import json, os, sys, time, types
started = time.perf_counter()
task, sdk, event = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
sys.path[:0] = [task, sdk]
os.chdir(task)
import handler  # Zappa's handler, at the zip's root like on Lambda
imported = time.perf_counter()
context = types.SimpleNamespace(function_name="mediahub-production", aws_request_id="bench",
                                get_remaining_time_in_millis=lambda: 60000)
page = handler.lambda_handler(event, context)
answered = time.perf_counter()
import uploads.events
events = time.perf_counter()
again = handler.lambda_handler(event, context)
warm = time.perf_counter()
print("RESULT " + json.dumps({
    "status": page["statusCode"], "again": again["statusCode"], "sign_in": 'name="password"' in page.get("body", ""),
    "import_handler": imported - started, "first_request": answered - imported, "events": events - answered,
    "warm_request": warm - events,
}))
"""

RENDER = r"""
import os, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import django
django.setup()
from uploads import imaging

def peak_mb():  # VmHWM: this process's own peak (ru_maxrss would carry the parent's over from before exec)
    line = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    return int(line.split()[1]) // 1024

base = peak_mb()
with open(sys.argv[3], "rb") as fp:
    started = time.perf_counter()
    try:
        result = imaging.render(fp)
    except imaging.BadMedia as refused:  # the decode-memory budget refuses it before decoding
        print("REFUSED", base, peak_mb(), round(time.perf_counter() - started, 2), refused)
        sys.exit(0)
    seconds = time.perf_counter() - started
print("RESULT", base, peak_mb(), round(seconds, 2), result.width, result.height)
"""

IMPORTS = r"""
import os, sys
task, sdk = sys.argv[1], sys.argv[2]
sys.path[:0] = [task, sdk]
os.chdir(task)
import zappa_settings  # the stage's environment, as Zappa's handler applies it
os.environ.update(zappa_settings.ENVIRONMENT_VARIABLES)
os.environ.pop("SECRETS_PARAMETER_PATH")  # imports only: the secrets read is timed with the first request
os.environ.update(SECRET_KEY="b" * 50, DATABASE_URL="sqlite://:memory:", DJANGO_SETTINGS_MODULE="mediahub.settings")
import mediahub.wsgi
import uploads.events
"""

# The native decoders the media code loads when it first meets a video, a PDF or a HEIC (timed on top of IMPORTS).
LIBRARIES = "\nimport av, pypdfium2, pi_heif\n"


def stripped_bytes(venv: Path) -> int:
    """How much smaller deploy.build's stripping made the compiled files, against the sizes the wheels' RECORDs list."""
    site, saved = build.site_packages(venv), 0
    for record in site.glob("*.dist-info/RECORD"):
        for line in record.read_text().splitlines():
            name, _, size = line.rpartition(",")
            name = name.rsplit(",", 1)[0]
            if ".so" in name and size.isdigit() and (site / name).is_file():
                saved += int(size) - (site / name).stat().st_size
    return saved


def sizes(path: Path) -> dict:
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    by_top: dict[str, list[int]] = {}
    for info in infos:
        entry = by_top.setdefault(info.filename.split("/")[0], [0, 0])
        entry[0] += info.compress_size
        entry[1] += info.file_size
    largest = sorted(by_top.items(), key=lambda kv: -kv[1][0])[:10]
    return {
        "zipped": path.stat().st_size,
        "unzipped": sum(info.file_size for info in infos),
        "files": len(infos),
        "largest": [(name, zipped, unzipped) for name, (zipped, unzipped) in largest],
    }


def sdk_folder(work: Path) -> Path:
    """boto3, botocore and s3transfer alone, as the Lambda runtime provides them (from the package's virtualenv)."""
    folder = work / "sdk"
    folder.mkdir()
    site = build.site_packages(build.VENV)
    for name in SDK:
        (folder / name).symlink_to(site / name)
    return folder


def api_gateway_event() -> dict:
    headers = {"Host": "media.example.com", "X-Forwarded-Proto": "https", "Accept": "text/html"}
    return {
        "path": "/accounts/login/",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "requestContext": {"stage": STAGE, "identity": {"sourceIp": "203.0.113.9"}, "requestId": "bench"},
        "body": None,
        "isBase64Encoded": False,
    }


def child_env(endpoint: str) -> dict:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECRET", "DATABASE_", "AWS_", "PYTHON"))
    }
    env.update(
        PYTHONDONTWRITEBYTECODE="1",
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",  # noqa: S106 (the emulator takes any)
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_LAMBDA_FUNCTION_NAME="mediahub-production",
    )
    return env


def cold_starts(python: str, task: Path, sdk: Path, endpoint: str) -> list[dict]:
    results = []
    for _ in range(COLD_RUNS):
        started, cpu = time.perf_counter(), children_cpu()
        done = subprocess.run(
            [python, "-S", "-c", CHILD, str(task), str(sdk), json.dumps(api_gateway_event())],
            env=child_env(endpoint),
            capture_output=True,
            text=True,
            timeout=120,
        )
        wall, cpu = time.perf_counter() - started, children_cpu() - cpu
        if done.returncode != 0:
            raise SystemExit(f"The packaged handler failed:\n{done.stderr[-4000:]}")
        line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
        results.append({**json.loads(line.removeprefix("RESULT ")), "wall": wall, "cpu": cpu})
    return results


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cold_imports(python: str, task: Path, sdk: Path, endpoint: str, extra: str = "") -> list[tuple[float, float]]:
    """(wall, CPU) seconds of fresh processes that import the WSGI application and the S3 event module (and `extra`)."""
    runs = []
    for _ in range(COLD_RUNS):
        started, cpu = time.perf_counter(), children_cpu()
        done = subprocess.run(
            [python, "-S", "-c", IMPORTS + extra, str(task), str(sdk)],
            env=child_env(endpoint),
            capture_output=True,
            text=True,
        )
        runs.append((time.perf_counter() - started, children_cpu() - cpu))
        if done.returncode != 0:
            raise SystemExit(f"Importing the package failed:\n{done.stderr[-4000:]}")
    return runs


def slowest_imports(python: str, task: Path, sdk: Path, endpoint: str, count: int = 8) -> list[tuple[str, float]]:
    done = subprocess.run(
        [python, "-S", "-X", "importtime", "-c", IMPORTS, str(task), str(sdk)],
        env=child_env(endpoint),
        capture_output=True,
        text=True,
        timeout=120,
    )
    rows = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match[2]) <= 3:  # the first two levels (a module's cumulative time includes the rest)
            rows.append((match[3], int(match[1]) / 1e6))
    return sorted(rows, key=lambda row: -row[1])[:count]


def largest_images(python: str, task: Path, sdk: Path, work: Path, pixels: int) -> list[dict]:
    """Peak RSS and time of render() on the largest image allowed, per format, each in a fresh process."""
    from PIL import Image

    width = int((pixels * 3 / 2) ** 0.5)
    height = pixels // width

    def picture(fmt: str) -> Image.Image:
        gradient = Image.linear_gradient("L").resize((width, height))
        if fmt == "PNG":
            return Image.merge("RGBA", [gradient, gradient.transpose(0), gradient.rotate(180), gradient])
        return gradient.convert("RGB")

    formats = {"PNG (RGBA)": "PNG", "WebP (RGB)": "WEBP", "JPEG (RGB)": "JPEG"}
    env = {**child_env(""), "DEBUG": "false", "SECRET_KEY": "bench", "DATABASE_URL": "sqlite://:memory:"}
    env["DJANGO_SETTINGS_MODULE"] = "mediahub.settings"
    env.pop("AWS_ENDPOINT_URL")
    rows = []
    for label, fmt in formats.items():
        path = work / f"largest.{fmt.lower()}"
        picture(fmt).save(path, fmt, **({"compress_level": 1} if fmt == "PNG" else {}))
        done = subprocess.run(
            [python, "-S", "-c", RENDER, str(task), str(sdk), str(path)], env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(f"render() failed on {label}:\n{done.stderr[-4000:]}")
        line = next(ln for ln in done.stdout.splitlines() if ln.startswith(("RESULT", "REFUSED")))
        if line.startswith("REFUSED"):
            _, base, peak, seconds, reason = line.split(maxsplit=4)
            size = f"{width}×{height}, refused: {reason}"
        else:
            _, base, peak, seconds, w, h = line.split()
            size = f"{w}×{h}"
        rows.append({"format": label, "size": size, "base": int(base), "peak": int(peak), "seconds": float(seconds)})
        path.unlink()
    return rows


def mib(n: float) -> str:
    return f"{n / 2**20:.1f} MiB"


def report(
    zip_path: Path,
    size: dict,
    imported: list[tuple[float, float]],
    runs: list[dict],
    imports: list,
    images: list[dict],
    python: str,
    libraries: list[tuple[float, float]],
    stripped: int,
) -> str:
    settings = json.loads((ROOT / "zappa_settings.json").read_text())[STAGE]
    memory, timeout = settings["memory_size"], settings["timeout_seconds"]
    wall = statistics.median(r["wall"] for r in runs)
    wall_import = statistics.median(w for w, _ in imported)
    cpu_import = statistics.median(c for _, c in imported)
    verdict = lambda ok: "**PASS**" if ok else "**FAIL**"  # noqa: E731
    version = subprocess.run([python, "-V"], capture_output=True, text=True).stdout.strip()
    lines = [
        HEADING,
        "",
        f"The Lambda package of the `{STAGE}` stage, built by `make package` (`zappa package {STAGE}` in a clean "
        f"virtualenv of requirements.txt made by {version}, the runtime's version), measured by "
        "`.venv/bin/python bench/package.py` (also run by `make bench`).",
        "",
        "| | measured | Lambda's limit | |",
        "|---|---:|---:|---|",
        f"| zipped | {mib(size['zipped'])} | none through S3 (50 MiB sent in the API call) | "
        f"{'through S3 (`deploy.upload`)' if size['zipped'] >= DIRECT_LIMIT else 'either way'} |",
        f"| unzipped | {mib(size['unzipped'])} | 250 MiB, layers included (none used) | "
        f"{verdict(size['unzipped'] < UNZIPPED_LIMIT)}, {mib(UNZIPPED_LIMIT - size['unzipped'])} to spare |",
        f"| files | {size['files']:,} | | |",
        "",
        f"Architecture {settings['architecture']}. The compiled modules are stripped of their symbol tables "
        f"(`deploy.build`), {mib(stripped)} less unzipped than the wheels install them; each is imported after. "
        "Largest parts (zipped / unzipped): "
        + ", ".join(f"{name} {mib(z)} / {mib(u)}" for name, z, u in size["largest"])
        + " (av and av.libs: PyAV built against our LGPL FFmpeg, decoders only, and dav1d, by `deploy.ffmpeg`; "
        "pypdfium2_raw: PDFium; pi_heif.libs: libheif and libde265). No GPL or non-free native code "
        "(`deploy.licences` checks the zip). "
        "Left out (the exclude list in zappa_settings.json): boto3, botocore and s3transfer (the runtime has "
        "them), Zappa's command-line dependencies, Celery's interactive shell (prompt_toolkit, wcwidth), the Redis "
        "client (Lambda mode uses no broker), Django's translations other than English and the contrib apps the "
        "site does not install (gis, admindocs, flatpages, redirects). No slim_handler: the package fits.",
        "",
        f"Loading the native decoders (`import av, pypdfium2, pi_heif`, in the same fresh processes after the cold "
        f"import below): {statistics.median(c for _, c in libraries) - cpu_import:.2f} s "
        f"more CPU, {statistics.median(w for w, _ in libraries) - wall_import:.2f} s more wall time (median of "
        f"{len(libraries)}); paid by the first video, PDF or HEIC a container meets if the media code imports them "
        "where it uses them, by every cold start if at import time.",
        "",
        f"Cold import, {len(imported)} fresh processes of the unpacked package that import `mediahub.wsgi` (settings, "
        "Django set-up, the WSGI application) and `uploads.events`, interpreter start-up included (median): "
        f"**{cpu_import:.2f} s of CPU** against a {COLD_TARGET} s target, {verdict(cpu_import < COLD_TARGET)}; "
        f"{wall_import:.2f} s of wall time (fastest {min(w for w, _ in imported):.2f} s). The verdict is on CPU time, "
        "which other jobs on this shared 2-core machine (load average below) disturb less than wall time; on Lambda "
        "the function has its core to itself. The two largest avoidable costs: importing Celery at start-up "
        "(`mediahub/__init__.py`; Lambda mode never uses it) and the four boto3 clients `zappa.asynchronous` makes "
        "when `uploads.events` imports it.",
        "",
        f"Whole cold start as Lambda runs it, {len(runs)} fresh processes (median): **{wall:.2f} s** from process "
        f"start to the sign-in page answered and the S3 event module loaded "
        f"({statistics.median(r['cpu'] for r in runs):.2f} s of CPU). Of which: importing Zappa's handler "
        f"(werkzeug, boto3) {statistics.median(r['import_handler'] for r in runs):.3f} s, the first request (Zappa's "
        f"settings, one Parameter Store read, Django set-up, the page) "
        f"{statistics.median(r['first_request'] for r in runs):.3f} s, importing the S3 event module "
        f"{statistics.median(r['events'] for r in runs):.3f} s; a second, warm request "
        f"{statistics.median(r['warm_request'] for r in runs) * 1000:.1f} ms. Every run answered 200 with the sign-in "
        "form. Lambda's CPU at this memory size is about one core of a server CPU, so expect somewhat more there, "
        "plus Lambda's own start-up; keep_warm (production) keeps one container warm.",
        "",
        "Slowest imports of the cold import (`-X importtime`, cumulative, two levels deep): "
        + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in imports)
        + ".",
        "",
        f"Memory and time for the largest image allowed (`MAX_IMAGE_PIXELS`), `render()` in a fresh process of the "
        f"package; the function has {memory} MB and {timeout} s:",
        "",
        "| format | pixels | after imports | peak | seconds | headroom |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in images:
        lines.append(
            f"| {row['format']} | {row['size']} | {row['base']} MB | {row['peak']} MB | {row['seconds']:.2f} | "
            f"{memory / row['peak']:.1f}× |"
        )
    lines += [
        "",
        "JPEG is decoded at a reduced scale (DCT scaling), so a 50-megapixel photo never exists at full size; PNG, "
        "WebP and AVIF are decoded whole. 2048 MB also buys a full vCPU (Lambda gives one at 1,769 MB).",
        "",
        f"Machine: {cpu_model()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end; {version}; "
        f"{datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC. Package: {zip_path.relative_to(ROOT)}.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zip", type=Path, help="measure this package instead of building one")
    args = parser.parse_args()
    zip_path = args.zip.resolve() if args.zip else build.build(STAGE)
    python = str(build.VENV / "bin" / "python")
    size = sizes(zip_path)
    print(f"zipped {mib(size['zipped'])}, unzipped {mib(size['unzipped'])}, {size['files']} files")

    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        with tempfile.TemporaryDirectory(prefix="mediahub-package-") as tmp:
            work = Path(tmp)
            task = work / "task"
            with zipfile.ZipFile(zip_path) as archive:
                archive.extractall(task)
            import boto3

            ssm = boto3.client(
                "ssm",
                endpoint_url=endpoint,
                region_name="us-east-1",
                aws_access_key_id="b",
                aws_secret_access_key="b",  # noqa: S106
            )
            for name, value in {"SECRET_KEY": "b" * 50, "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}"}.items():
                ssm.put_parameter(Name=f"/mediahub/{STAGE}/{name}", Value=value, Type="SecureString")
            sdk = sdk_folder(work)
            runs = cold_starts(python, task, sdk, endpoint)
            if not all(r["status"] == 200 and r["again"] == 200 and r["sign_in"] for r in runs):
                raise SystemExit(f"The packaged site did not answer the sign-in page: {runs}")
            print("cold start (s):", [round(r["wall"], 3) for r in runs])
            imported = cold_imports(python, task, sdk, endpoint)
            print("cold import (wall, cpu s):", [(round(w, 3), round(c, 3)) for w, c in imported])
            libraries = cold_imports(python, task, sdk, endpoint, LIBRARIES)
            print("cold import with the decoders (wall, cpu s):", [(round(w, 3), round(c, 3)) for w, c in libraries])
            imports = slowest_imports(python, task, sdk, endpoint)
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mediahub.settings")
            import django

            django.setup()
            from django.conf import settings

            images = largest_images(python, task, sdk, work, settings.MAX_IMAGE_PIXELS)
            print("largest images:", images)
    finally:
        server.stop()
    section = report(zip_path, size, imported, runs, imports, images, python, libraries, stripped_bytes(build.VENV))
    write_section(HEADING, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
