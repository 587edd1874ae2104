"""One import name, proven: the wheel holds exactly the package ``nummerlapp`` (and its metadata),
every module and data file of the checkout's parts, and nothing of tests/ or bench/; and
``python main.py`` runs from a bare checkout that no install points to (docs/ARCHITECTURE.md,
"One import name").

The checkout is copied first (without .venv, var, build), so building writes nothing into it.
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOT_PACKAGED = {"tests", "bench", "docs", "deploy", "examples", "var", "build"}
DATA_SUFFIXES = {".html", ".js", ".css", ".po", ".toml"}  # setup.cfg [options.package_data]

PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
PIP_WHEEL += ["--disable-pip-version-check"]  # offline: setuptools and wheel come from this venv

pytestmark = pytest.mark.timeout(240)


def _ignore(folder: str, names: list[str]) -> set[str]:
    top = Path(folder) == ROOT
    return {
        n
        for n in names
        if n.startswith(".")
        or n == "__pycache__"
        or n.endswith(".egg-info")
        or (top and n in {"var", "build"})
    }


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout under a name other than ``nummerlapp`` (the name must come from setup.cfg)."""
    copy = tmp_path_factory.mktemp("wheel") / "checkout-copy"
    shutil.copytree(ROOT, copy, ignore=_ignore, symlinks=True)
    return copy


@pytest.fixture(scope="module")
def wheel(checkout: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[zipfile.ZipFile, str]:
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [*PIP_WHEEL, "-w", str(out), str(checkout)],
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
        cwd=checkout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = out.glob("nummerlapp-*.whl")
    return zipfile.ZipFile(path), done.stdout + done.stderr


def _expected_files(root: Path) -> set[str]:
    """Every module of a part (a folder with ``__init__.py``) and every data file under one."""
    want: set[str] = set()
    for f in root.rglob("*"):
        rel = f.relative_to(root)
        if not f.is_file() or rel.parts[0] in NOT_PACKAGED or "__pycache__" in rel.parts:
            continue
        module = f.suffix == ".py" and (f.parent / "__init__.py").is_file()
        data = f.suffix in DATA_SUFFIXES and len(rel.parts) > 1  # the root's pyproject.toml is no data
        if module or data:
            want.add("nummerlapp/" + rel.as_posix())
    return want


def test_the_wheel_holds_one_top_level_name(wheel: tuple[zipfile.ZipFile, str]) -> None:
    names = wheel[0].namelist()
    tops = {n.split("/", 1)[0] for n in names}
    dist_info = {t for t in tops if t.endswith(".dist-info")}
    assert tops - dist_info == {"nummerlapp"}
    assert len(dist_info) == 1
    top_level = wheel[0].read(f"{dist_info.pop()}/top_level.txt").decode().split()
    assert top_level == ["nummerlapp"]


def test_no_tests_or_bench_inside(wheel: tuple[zipfile.ZipFile, str]) -> None:
    for name in wheel[0].namelist():
        parts = name.split("/")
        assert not {"tests", "bench", "docs", "deploy"} & set(parts[:-1]), name
        assert "conftest.py" not in parts, name


def test_every_module_and_data_file_is_inside(checkout: Path, wheel: tuple[zipfile.ZipFile, str]) -> None:
    names = set(wheel[0].namelist())
    missing = sorted(_expected_files(checkout) - names)
    assert not missing, f"not in the wheel (a new package for setup.cfg's list?): {missing}"
    for must in (
        "nummerlapp/config/example_site.toml",
        "nummerlapp/server/web/templates/desk.html",
        "nummerlapp/server/web/static/ui.css",
        "nummerlapp/server/stats/web/templates/reports.html",
        "nummerlapp/common/locale/nb/kiosk.po",
    ):
        assert must in names


def test_building_prints_no_setuptools_warning(wheel: tuple[zipfile.ZipFile, str]) -> None:
    output = wheel[1].lower()
    assert "warning" not in output, wheel[1]


def test_main_runs_from_a_bare_checkout(checkout: Path) -> None:
    """``python -S`` with the venv's site-packages on ``PYTHONPATH``: the libraries are there but
    no ``.pth`` file is read, so the editable install's finder is not, and ``nummerlapp`` can only
    come from main.py binding the folder it lives in (under any folder name).

    ``--help`` builds every command's parser, which imports each part's ``cli`` module under the
    one name.
    """
    code = (
        "import runpy, sys\n"
        "sys.argv = ['main.py', '--help']\n"
        "try:\n"
        f"    runpy.run_path({str(checkout / 'main.py')!r}, run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "import nummerlapp, nummerlapp.config.cli\n"
        "print('PACKAGE', nummerlapp.__path__[0])\n"
        "print('MODULE', nummerlapp.config.cli.__file__)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = os.pathsep.join(site.getsitepackages())
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd="/",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "usage: main.py" in done.stdout
    assert "config" in done.stdout and "printer" in done.stdout
    assert f"PACKAGE {checkout}" in done.stdout
    assert f"MODULE {checkout / 'config' / 'cli.py'}" in done.stdout


def test_without_the_bootstrap_the_bare_checkout_has_no_such_name(checkout: Path) -> None:
    """The control: the same interpreter and flags cannot import ``nummerlapp`` on its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = os.pathsep.join(site.getsitepackages())
    done = subprocess.run(
        [sys.executable, "-S", "-c", "import nummerlapp"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=checkout.parent,
        env=env,
    )
    assert done.returncode != 0
    assert "No module named 'nummerlapp'" in done.stderr


def test_the_editable_install_of_dev_prints_no_setuptools_warning(checkout: Path, tmp_path: Path) -> None:
    """``./dev`` installs the checkout editable; setuptools' build of that prints nothing.

    The PEP 660 hook, called the way pip calls it (its hook runner, in a subprocess), with the
    warning filter ./dev sets: without that filter setuptools notes that folders named like a
    package may shadow it (here the folder IS the package), a wall of asterisks on every install.
    """
    dev = (ROOT / "dev").read_text(encoding="utf-8")
    (filter_,) = re.findall(r'PYTHONWARNINGS="([^"]+)"', dev)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    code = (
        "from pip._vendor.pyproject_hooks import BuildBackendHookCaller, default_subprocess_runner\n"
        "hooks = BuildBackendHookCaller('.', 'setuptools.build_meta', runner=default_subprocess_runner)\n"
        f"print(hooks.build_editable({str(tmp_path)!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=checkout,
        env={**env, "PYTHONWARNINGS": filter_},
    )
    assert done.returncode == 0, done.stderr
    assert "nummerlapp" in done.stdout
    assert "warning" not in done.stderr.lower(), done.stderr
