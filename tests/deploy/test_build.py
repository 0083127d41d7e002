"""deploy.build and the Makefile's deploy path, offline: what `make deploy` runs, and bytecode that matches its source.

The trap: `make package` used to compile the working tree in place, with .pyc files Python never checks against
their source; `zappa update` then zipped the working tree, so code edited since could ship as its old bytecode.
"""

from __future__ import annotations

import py_compile
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from deploy import build
from deploy.policy import ROOT
from tests.deploy.conftest import STAGES


def make_dry_run(*args: str) -> list[str]:
    result = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


@pytest.mark.parametrize(("target", "stage"), [("deploy", "production"), ("update", "production"), ("update", "dev")])
def test_make_deploy_and_update_build_clean_then_ship_that_zip(target, stage):
    lines = make_dry_run(target, f"STAGE={stage}")
    commands = [
        f".venv/bin/python -m deploy.build {stage}",
        f".venv/bin/python -m deploy.role {stage}",
        f'.venv/bin/zappa {target} {stage} -z "$(.venv/bin/python -m deploy.upload {stage})"',
    ]
    assert [line for line in lines if line in commands] == commands


def test_zappa_takes_the_zip_option_make_passes():
    for command in ("deploy", "update"):
        usage = subprocess.run(
            [str(ROOT / ".venv/bin/zappa"), command, "--help"], capture_output=True, text=True, check=True
        ).stdout
        assert "-z ZIP, --zip ZIP" in usage


def write_tree(root: Path, value: int) -> None:
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "mod.py").write_text(f"VALUE = {value}\n")


def compile_unchecked(root: Path) -> None:
    for source in root.rglob("*.py"):
        py_compile.compile(str(source), invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)


def zip_tree(root: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root).as_posix())
    return out


def imported_value(root: Path) -> str:
    code = "import app.mod; print(app.mod.VALUE)"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    ).stdout.strip()


def test_an_unchecked_pyc_left_in_the_working_tree_runs_instead_of_the_edited_source(tmp_path):
    """The trap itself, and the check that catches it in a zip."""
    tree = tmp_path / "tree"
    write_tree(tree, 1)
    compile_unchecked(tree)
    write_tree(tree, 2)  # edited after `make package`
    assert imported_value(tree) == "1"
    problems = build.stale_bytecode(zip_tree(tree, tmp_path / "stale.zip"))
    assert any("compiled from another version of app/mod.py" in line for line in problems)


def test_the_clean_copy_leaves_the_working_trees_bytecode_behind_and_compiles_the_current_sources(tmp_path):
    tree, copy = tmp_path / "tree", tmp_path / "copy"
    write_tree(tree, 1)
    compile_unchecked(tree)
    write_tree(tree, 2)
    (tree / "app" / "old.pyc").write_bytes(b"legacy bytecode")
    (tree / "tests").mkdir()
    (tree / "tests" / "test_x.py").write_text("")
    (tree / "staticfiles").mkdir()
    (tree / "staticfiles" / "old.css").write_text("")
    (tree / "zappa_settings.json").write_text("{}")

    build.copy_project(tree, copy, exclude=["tests", "zappa_settings.json"], inputs=["zappa_settings.json"])
    copied = {path.relative_to(copy).as_posix() for path in copy.rglob("*")}
    assert copied == {"app", "app/__init__.py", "app/mod.py", "zappa_settings.json"}

    build.compile_tree(sys.executable, copy)
    assert imported_value(copy) == "2"
    assert build.stale_bytecode(zip_tree(copy, tmp_path / "clean.zip")) == []


def test_stale_bytecode_names_bytecode_the_runtime_would_recompile_or_ignore(tmp_path):
    tree = tmp_path / "tree"
    write_tree(tree, 1)
    compile_unchecked(tree)
    cache, tag = tree / "app" / "__pycache__", sys.implementation.cache_tag
    (cache / f"orphan.{tag}.pyc").write_bytes((cache / f"mod.{tag}.pyc").read_bytes())  # its source was deleted
    py_compile.compile(str(tree / "app" / "mod.py"), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)
    (cache / "gone.cpython-27.pyc").write_bytes(b"\x03\xf3\r\n" + bytes(12))
    problems = build.stale_bytecode(zip_tree(tree, tmp_path / "bad.zip"))
    assert problems == [
        "app/__pycache__/gone.cpython-27.pyc: compiled by another Python",
        f"app/__pycache__/mod.{tag}.pyc: timestamp-based (recompiled on every cold start)",
        f"app/__pycache__/orphan.{tag}.pyc: no app/orphan.py beside it",
    ]


def test_the_project_copy_holds_no_bytecode_and_what_zappa_reads(tmp_path):
    copy = tmp_path / "copy"
    build.copy_project(ROOT, copy, build.stage_config("production")["exclude"], build.zappa_inputs("production"))
    assert not [path for path in copy.rglob("*") if path.name == "__pycache__" or path.suffix == ".pyc"]
    for expected in ("manage.py", "mediahub/settings.py", "zappa_settings.json", "deploy/iam/production.json"):
        assert (copy / expected).is_file()
    assert not (copy / "tests").exists() and not (copy / ".data").exists() and not (copy / "staticfiles").exists()


def test_one_python_from_local_runs_to_ci_to_lambda():
    """.python-version (the Makefile's virtualenv, pyenv), pyproject.toml, ruff and every stage's runtime agree,
    and the tests run on it: Lambda's python3.12 (Amazon Linux 2023) is the oldest runtime whose glibc loads the
    Pillow, pi-heif and PyAV wheels, so local runs and CI follow Lambda, not the other way round."""
    version = (ROOT / ".python-version").read_text().strip()
    major, minor = version.split(".")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["requires-python"] == f">={version},<{major}.{int(minor) + 1}"
    assert project["tool"]["ruff"]["target-version"] == f"py{major}{minor}"
    assert {config["runtime"] for config in STAGES.values()} == {f"python{version}"}
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert running == version, f"the virtualenv is not Python {version}: run `make install`"


def fake_venv(root: Path) -> Path:
    site = root / "lib" / "python3.12" / "site-packages"
    for name in ("PIL/_imaging.cpython-312-x86_64-linux-gnu.so", "av/video/frame.abi3.so", "_pi_heif.cpython-312.so"):
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(b"")
    for name in ("av.libs/libavcodec-5e6b81c2.so", "pypdfium2_raw/libpdfium.so"):
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(b"")
    return root


def test_the_compiled_modules_to_import_leave_out_grafted_and_ctypes_libraries(tmp_path):
    assert build.extension_modules(fake_venv(tmp_path)) == ["PIL._imaging", "_pi_heif", "av.video.frame"]


def test_every_compiled_module_of_the_built_package_imports_after_stripping():
    """On the package `make package` last built: stripped, its compiled modules still load."""
    if not build.VENV.exists():
        build.build("production")
    stripped = subprocess.run(
        ["file", *map(str, build.site_packages(build.VENV).glob("av/video/*.so"))], capture_output=True, text=True
    ).stdout
    assert re.search(r"\bstripped\b", stripped) and "not stripped" not in stripped
    build.import_native(build.VENV)
