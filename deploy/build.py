"""Build the Lambda package of a stage: `zappa package <stage>` in a clean virtualenv of requirements.txt only.

    .venv/bin/python -m deploy.build [production]     # what `make package` (and `make deploy`/`make update`) runs

1. A new virtualenv (.data/package-venv) made by the Python of the stage's runtime (python3.12: Lambda's
   python3.12 runs on Amazon Linux 2023), holding only requirements.txt, from wheels (`--only-binary :all:`),
   PyAV's our own (deploy.ffmpeg: against an LGPL FFmpeg that only decodes, where PyPI's links GPL encoders), each
   checked to run on Amazon Linux 2023's glibc (2.34). Their compiled modules are stripped of the symbol
   tables Lambda never reads (a third of the package's unzipped size, see docs/benchmarks.md#package), then every
   one is imported by that Python, so a module the stripping broke fails the build, not a cold start.
2. A clean copy of the project (.data/package-src): the working tree without what Zappa excludes and without any
   `__pycache__` or .pyc, so nothing compiled from older sources (or by another Python) can ship.
3. Every module, of the copy and of the virtualenv, compiled ahead with hash-based .pyc files that are never
   checked against their source: the package's files are read-only on Lambda and their timestamps do not survive
   the zip, so timestamped .pyc files would be recompiled in memory on every cold start. Unchecked, a .pyc that
   disagreed with its source would run instead of it; the copy is compiled fresh, and step 6 proves it.
4. collectstatic with production settings, in the copy: WhiteNoise serves the hashed, compressed files from the
   package.
5. `zappa package <stage> -o .data/package/mediahub-<stage>.zip`, in the copy, with that virtualenv as
   VIRTUAL_ENV. No AWS credentials are needed (Zappa loads none for `package`).
6. The zip checked by the runtime's Python: every .pyc in it is hash-based, of that Python, and of the source
   next to it (`python -m deploy.build --check <zip>` runs only this); and it ships no GPL or non-free native
   code (deploy.licences).

Set PACKAGE_PYTHON to choose the interpreter; otherwise python3.X on PATH or under ~/.pyenv/versions is used.
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from deploy import ffmpeg, licences

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".data" / "package-venv"
SOURCE = ROOT / ".data" / "package-src"
OUT = ROOT / ".data" / "package"
LAMBDA_GLIBC = (2, 34)  # Amazon Linux 2023, under python3.12 and later runtimes
# Never copied into the clean copy, whatever the stage excludes: bytecode, earlier builds' static files, local
# state (where the copy itself lives), the virtualenv and the repository.
NEVER_COPIED = ("__pycache__", "*.pyc", "staticfiles", ".data", ".venv", ".git")


def stage_config(stage: str) -> dict:
    return json.loads((ROOT / "zappa_settings.json").read_text())[stage]


def zappa_inputs(stage: str) -> list[str]:
    """Files Zappa reads where it runs, though the stage's excludes keep them out of the zip: its settings and
    the policy files they name (attach_policy)."""
    config = stage_config(stage)
    return ["zappa_settings.json", *(config[name] for name in sorted(config) if name.endswith("_policy"))]


def runtime(stage: str) -> str:
    return stage_config(stage)["runtime"]


def package_path(stage: str) -> Path:
    """Where `make package` writes a stage's zip, and what `make deploy`/`make update` hand to Zappa's -z."""
    return OUT / f"mediahub-{stage}.zip"


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


def strip_native(venv: Path) -> None:
    """Strip the symbol tables of the wheels' Python extension modules and ctypes libraries (not of the libraries
    auditwheel grafted into `*.libs/`: those come stripped, and stripping again a file patchelf rewrote is the one
    case where strip is known to break a library)."""
    if not shutil.which("strip"):
        raise SystemExit("`strip` (GNU binutils) is needed to build the package: apt-get install binutils")
    files = [
        path
        for path in site_packages(venv).rglob("*.so")
        if path.is_file() and not any(part.endswith(".libs") for part in path.parts)
    ]
    run(["strip", "--strip-unneeded", *(str(path) for path in sorted(files))])


def extension_modules(venv: Path) -> list[str]:
    """The dotted names of the compiled Python modules installed in `venv`."""
    site = site_packages(venv)
    names = []
    for path in sorted(site.rglob("*.so")):
        relative = path.relative_to(site)
        if any(part.endswith(".libs") for part in relative.parts) or "." not in path.name.removesuffix(".so"):
            continue  # a grafted library or a ctypes library (libpdfium.so), not a module
        names.append(".".join((*relative.parts[:-1], path.name.split(".")[0])))
    return names


def import_native(venv: Path) -> None:
    """Import every compiled module, and load PDFium, in a fresh process of the package's Python."""
    # psycopg_binary's modules refuse to be imported before psycopg, which loads them itself.
    modules = ["psycopg", *extension_modules(venv), "pypdfium2"]
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)"
    run([str(venv / "bin" / "python"), "-c", code, *modules])


def copy_project(source: Path, target: Path, exclude: list[str], inputs: list[str]) -> None:
    """A fresh copy of the project for Zappa to package: no bytecode, nothing the stage excludes, and the `inputs`
    Zappa reads (relative paths)."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*exclude, *NEVER_COPIED), symlinks=True)
    for name in inputs:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, target / name)


def compile_tree(python: str, *folders: Path) -> None:
    """Hash-based .pyc files Python never checks against their source (see the module's docstring, step 3)."""
    command = [python, "-m", "compileall", "-q", "-f", "-j", "0", "--invalidation-mode", "unchecked-hash"]
    run([*command, *(str(folder) for folder in folders)])


def stale_bytecode(archive: Path) -> list[str]:
    """The .pyc files in a zip that this Python would not load as compiled from the source beside them."""
    problems = []
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        for name in sorted(n for n in names if n.endswith(".pyc")):
            folder, _, file = name.rpartition("/")
            if not folder.endswith("__pycache__"):
                problems.append(f"{name}: not in a __pycache__ folder")
                continue
            source = f"{folder.removesuffix('__pycache__')}{file.split('.')[0]}.py"
            header = zipped.read(name)[:16]
            flags = int.from_bytes(header[4:8], "little")
            if header[:4] != importlib.util.MAGIC_NUMBER or not file.endswith(f".{sys.implementation.cache_tag}.pyc"):
                problems.append(f"{name}: compiled by another Python")
            elif not flags & 1:
                problems.append(f"{name}: timestamp-based (recompiled on every cold start)")
            elif source not in names:
                problems.append(f"{name}: no {source} beside it")
            elif header[8:16] != importlib.util.source_hash(zipped.read(source)):
                problems.append(f"{name}: compiled from another version of {source}")
    return problems


def check(archive: Path) -> None:
    problems = stale_bytecode(archive)
    if problems:
        raise SystemExit(f"{archive} holds bytecode that disagrees with its sources:\n  " + "\n  ".join(problems))


def build(stage: str = "production") -> Path:
    version = runtime(stage).removeprefix("python")
    python = find_python(version)
    pyav = ffmpeg.wheel()  # first: it takes minutes the first time, and may fail on a missing build tool
    if VENV.exists():
        shutil.rmtree(VENV)
    run([python, "-m", "venv", str(VENV)])
    venv_python = str(VENV / "bin" / "python")
    pip = [venv_python, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    # The local wheel satisfies requirements.txt's av==X, so pip takes it and never PyPI's.
    run([*pip, "install", "--prefer-binary", str(pyav), "-r", str(ROOT / "requirements.txt")])
    check_wheels(VENV)
    strip_native(VENV)
    import_native(VENV)
    copy_project(ROOT, SOURCE, stage_config(stage).get("exclude", []), zappa_inputs(stage))
    compile_tree(venv_python, site_packages(VENV), SOURCE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECRETS_", "DJANGO_", "DATABASE_"))}
    env.update(DEBUG="false", SECRET_KEY="collectstatic-only", DATABASE_URL="sqlite://:memory:")  # noqa: S106
    env.update(VIRTUAL_ENV=str(VENV), PYTHONDONTWRITEBYTECODE="1")
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    run([venv_python, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=SOURCE, env=env)
    output = package_path(stage)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    run([str(VENV / "bin" / "zappa"), "package", stage, "-o", str(output)], cwd=SOURCE, env=env)
    # Checked by the runtime's Python: a .pyc's magic number and source hash are that Python's.
    run([venv_python, "-m", "deploy.build", "--check", str(output)], cwd=ROOT, env=env)
    licences.check(output, venv_python)
    return output


def main() -> int:
    if sys.argv[1:2] == ["--check"]:
        check(Path(sys.argv[2]))
        return 0
    stage = sys.argv[1] if len(sys.argv) > 1 else "production"
    print(f"Built {build(stage).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
