"""Build the Lambda package of a stage: `zappa package <stage>` in a clean virtualenv of requirements.txt only.

    .venv/bin/python -m deploy.build [production]     # what `make package` runs

1. A new virtualenv (.data/package-venv) made by the Python of the stage's runtime (python3.12: Lambda's
   python3.12 runs on Amazon Linux 2023), holding only requirements.txt, from wheels (`--only-binary :all:`),
   each checked to run on Amazon Linux 2023's glibc (2.34).
2. Every module compiled ahead with hash-based .pyc files that are never checked against their source: the
   package's files are read-only on Lambda and their timestamps do not survive the zip, so timestamped .pyc
   files would be recompiled in memory on every cold start.
3. collectstatic with production settings: WhiteNoise serves the hashed, compressed files from the package.
4. `zappa package <stage> -o .data/package/mediahub-<stage>.zip`, with that virtualenv as VIRTUAL_ENV. No AWS
   credentials are needed (Zappa loads none for `package`).

Set PACKAGE_PYTHON to choose the interpreter; otherwise python3.X on PATH or under ~/.pyenv/versions is used.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".data" / "package-venv"
OUT = ROOT / ".data" / "package"
LAMBDA_GLIBC = (2, 34)  # Amazon Linux 2023, under python3.12 and later runtimes
PROJECT_PACKAGES = ["mediahub", "uploads", "profiles"]


def runtime(stage: str) -> str:
    return json.loads((ROOT / "zappa_settings.json").read_text())[stage]["runtime"]


def find_python(version: str) -> str:
    """An interpreter of `version` (e.g. "3.12"), for a package whose compiled modules match Lambda's."""
    explicit = os.environ.get("PACKAGE_PYTHON")
    candidates = [explicit] if explicit else []
    candidates += [shutil.which(f"python{version}") or ""]
    candidates += sorted(
        glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python{version}")), reverse=True
    )
    for candidate in filter(None, candidates):
        try:
            found = subprocess.run(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            continue
        if found == version:
            return candidate
    raise SystemExit(
        f"The Lambda runtime is python{version}, and no Python {version} was found: install it "
        f"(e.g. `pyenv install {version}`) or set PACKAGE_PYTHON to its interpreter."
    )


def run(command: list[str], **kwargs) -> None:
    print("+", " ".join(str(part) for part in command), flush=True)
    subprocess.run(command, check=True, **kwargs)


def site_packages(venv: Path) -> Path:
    [path] = venv.glob("lib/python3.*/site-packages")
    return path


def check_wheels(venv: Path) -> None:
    """Every installed distribution with compiled code must have a tag Amazon Linux 2023's glibc can load."""
    problems = []
    for wheel in site_packages(venv).glob("*.dist-info/WHEEL"):
        tags = [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines() if line.startswith("Tag:")]
        platforms = [tag.split("-")[-1] for tag in tags]
        if all(p == "any" for p in platforms):
            continue
        needs = []
        for p in platforms:
            match = re.match(r"manylinux_(\d+)_(\d+)_x86_64|manylinux(2014|2010|1)_x86_64", p)
            if match and match[1]:
                needs.append((int(match[1]), int(match[2])))
            elif match:
                needs.append((2, {"2014": 17, "2010": 12, "1": 5}[match[3]]))
        if not needs or min(needs) > LAMBDA_GLIBC:
            problems.append(f"{wheel.parent.name}: {', '.join(tags)}")
    if problems:
        raise SystemExit("Not loadable on Lambda (glibc 2.34, x86_64):\n  " + "\n  ".join(problems))


def build(stage: str = "production") -> Path:
    version = runtime(stage).removeprefix("python")
    python = find_python(version)
    if VENV.exists():
        shutil.rmtree(VENV)
    run([python, "-m", "venv", str(VENV)])
    pip = [str(VENV / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", "--quiet"]
    run([*pip, "install", "--prefer-binary", "-r", str(ROOT / "requirements.txt")])
    check_wheels(VENV)
    compile_all = [str(VENV / "bin" / "python"), "-m", "compileall", "-q", "-f", "-j", "0"]
    compile_all += ["--invalidation-mode", "unchecked-hash"]
    run([*compile_all, str(site_packages(VENV)), *(str(ROOT / p) for p in PROJECT_PACKAGES)])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECRETS_", "DJANGO_"))}
    env.update(DEBUG="false", SECRET_KEY="collectstatic-only", VIRTUAL_ENV=str(VENV))  # noqa: S106 (collectstatic only)
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    run(
        [str(VENV / "bin" / "python"), "manage.py", "collectstatic", "--noinput", "--clear", "-v", "0"],
        cwd=ROOT,
        env=env,
    )
    OUT.mkdir(parents=True, exist_ok=True)
    output = OUT / f"mediahub-{stage}.zip"
    output.unlink(missing_ok=True)
    # Zappa writes the zip where it is told, relative to the project (its own exclude list skips .data/).
    run([str(VENV / "bin" / "zappa"), "package", stage, "-o", str(output.relative_to(ROOT))], cwd=ROOT, env=env)
    return output


def main() -> int:
    stage = sys.argv[1] if len(sys.argv) > 1 else "production"
    print(f"Built {build(stage).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
