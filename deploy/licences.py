"""The Lambda package ships no GPL or non-free native code: a check deploy.build runs on the finished zip.

    .venv/bin/python -m deploy.licences .data/package/mediahub-production.zip   # what deploy.build runs
    .venv/bin/python -m deploy.licences .venv/lib/python3.12/site-packages      # any folder: PyPI's PyAV fails

Two proofs, each enough to fail the build (docs/deploy.md#licences):

- every ELF file (extension module or bundled library) is read for the libraries it loads (DT_NEEDED) and its own
  name: none may be a GPL or non-free library (x264, x265, ...), whether the wheel grafted it or the system has it;
- FFmpeg, as the package's Python loads it, tells its licence (avcodec_license() and its siblings) and its
  configure line: neither may say GPL (but LGPL) or non-free, nor enable a GPL or non-free library.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# Libraries under the GPL (or licences that bar redistribution: fdk-aac with FFmpeg, FFmpeg's --enable-nonfree),
# by the name their files and sonames carry. libpostproc is FFmpeg's GPL-only library; the rest are the GPL
# libraries FFmpeg's configure can link (its EXTERNAL_LIBRARY_GPL_LIST and _NONFREE_ lists).
GPL_LIBRARIES = re.compile(
    r"^lib(x264|x265|xvidcore|fdk-aac|postproc|rubberband|vidstab|frei0r|cdio|cdio_paranoia|davs2|xavs2|xavs|"
    r"avisynth|aribb24|dvdnav|dvdread|smbclient|faac|ndi|decklink|tls_?nonfree)([-.]|$)"
)
GPL_CONFIGURE = re.compile(r"--enable-(gpl|nonfree|libx264|libx265|libxvid|libfdk-aac|libpostproc|postproc)\b")

# Only a PyAV under the folder counts: the interpreter's own site-packages may hold another.
FFMPEG_META = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
try:
    import av._core
except ImportError:
    print("null")
else:
    inside = os.path.realpath(av._core.__file__).startswith(os.path.realpath(sys.argv[1]) + os.sep)
    print(json.dumps(av._core.library_meta if inside else None))
"""


def elf_files(root: Path) -> list[Path]:
    files = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as file:
                if file.read(4) == b"\x7fELF":
                    files.append(path)
    return files


def needed(path: Path) -> list[str]:
    """The shared libraries an ELF file names as DT_NEEDED (readelf, GNU binutils, which deploy.build needs)."""
    dynamic = subprocess.run(["readelf", "-d", "-W", str(path)], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", dynamic)


def native_problems(root: Path) -> list[str]:
    problems = []
    for path in elf_files(root):
        name = path.relative_to(root)
        if GPL_LIBRARIES.match(path.name):
            problems.append(f"{name}: a GPL or non-free library ships")
        problems += [f"{name} loads {lib} (GPL or non-free)" for lib in needed(path) if GPL_LIBRARIES.match(lib)]
    return problems


def ffmpeg_problems(root: Path, python: str) -> list[str]:
    """What the FFmpeg under `root` (imported by `python` with `root` first on its path) says of its licence."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    output = subprocess.run(
        [python, "-I", "-c", FFMPEG_META, str(root)], capture_output=True, text=True, check=True, env=env
    ).stdout
    meta = json.loads(output)
    if meta is None and (root / "av").is_dir():
        return [f"{root / 'av'}: PyAV does not import from here, so its FFmpeg's licence is unknown"]
    problems = []
    for library, facts in sorted((meta or {}).items()):
        licence = facts["license"]
        if re.search(r"(?<!L)GPL|nonfree|unredistributable", licence):
            problems.append(f"FFmpeg's {library} says its licence is {licence!r}")
        enabled = sorted(set(GPL_CONFIGURE.findall(facts["configuration"])))
        if enabled:
            problems.append(f"FFmpeg's {library} was configured with " + ", ".join(f"--enable-{e}" for e in enabled))
    return problems


def problems(root: Path, python: str = sys.executable) -> list[str]:
    """Everything under `root` (a site-packages folder or an unpacked package) that is GPL or non-free."""
    return native_problems(root) + ffmpeg_problems(root, python)


def zip_problems(archive: Path, python: str) -> list[str]:
    """The same for a package zip, unpacked as Lambda unpacks it, with `python` of the runtime's version."""
    with tempfile.TemporaryDirectory() as folder:
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(folder)
        return problems(Path(folder), python)


def check(path: Path, python: str = sys.executable) -> None:
    found = zip_problems(path, python) if path.suffix == ".zip" else problems(path, python)
    if found:
        raise SystemExit(f"{path} would ship GPL or non-free code:\n  " + "\n  ".join(found))


def main() -> int:
    check(Path(sys.argv[1]), *sys.argv[2:3])
    print(f"{sys.argv[1]}: no GPL or non-free native code")
    return 0


if __name__ == "__main__":
    sys.exit(main())
