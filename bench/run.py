"""Run every benchmark in bench/, one after another, each in its own process (`make bench`).

    .venv/bin/python bench/run.py

Each benchmark prints its figures and rewrites its own section of docs/benchmarks.md. They run one at a time so
none disturbs another's timings, and each in a fresh interpreter so none inherits another's settings or memory.
Exits non-zero if any benchmark failed to run (a missed target is a figure, not a failure).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# The benchmarks, in order; a missing one is skipped (images.py is a helper, not a benchmark).
BENCHMARKS = [
    "web.py",
    "renditions.py",
    "latency.py",
    "decoding.py",
    "video.py",
    "package.py",
    "localaws.py",
    "uploads.py",
    "zips.py",
    "search.py",
]


def run(script: Path) -> bool:
    print(f"==> {script.name}", flush=True)
    started = time.monotonic()
    result = subprocess.run([sys.executable, str(script)], cwd=BENCH.parent, check=False)
    status = "ok" if result.returncode == 0 else f"failed (exit {result.returncode})"
    print(f"<== {script.name}: {status} in {time.monotonic() - started:.0f} s\n", flush=True)
    return result.returncode == 0


def main() -> int:
    scripts = [BENCH / name for name in BENCHMARKS if (BENCH / name).exists()]
    failed = [script.name for script in scripts if not run(script)]
    if failed:
        print(f"Failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"Ran {', '.join(script.name for script in scripts)}; figures in docs/benchmarks.md.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
