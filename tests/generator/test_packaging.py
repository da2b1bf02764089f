"""What pre-commit installs: a regular (non-editable) wheel must carry the templates, and the hooks
must run the way .pre-commit-hooks.yaml declares them."""

import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
import yaml

from conftest import ROOT
from tlsgen.render import OUTPUTS

HOOKS = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
TEMPLATES = sorted(p.name for p in (ROOT / "templates").glob("*.jinja"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """Build a wheel from a copy of the sources (so no build/ or egg-info lands in the checkout)."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "generator" / "tlsgen", src / "generator" / "tlsgen",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "templates", src / "templates")
    # Offline when the build backend is already here; otherwise pip fetches it into an isolated env.
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("wheel") else []
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "-w", str(work / "dist"), "--no-deps",
                           "-q", *isolation], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    wheels = list((work / "dist").glob("tlsgen-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_ships_the_templates_inside_the_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert sorted(n.split("/")[-1] for n in names if n.startswith("tlsgen/templates/")) == TEMPLATES
    assert "tlsgen/render.py" in names and "tlsgen/cli.py" in names


def test_installed_wheel_generates_what_the_tree_generates(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)  # a pure-Python wheel: unpacking is installing it
    env = {k: v for k, v in os.environ.items() if k not in ("TLSGEN_TEMPLATES", "PYTHONPATH")}
    env["PYTHONPATH"] = str(site)  # ahead of the editable install's path entry
    where = subprocess.run([sys.executable, "-c", "import tlsgen, tlsgen.render as r; "
                            "print(tlsgen.__file__); print(r.templates_dir())"],
                           capture_output=True, text=True, env=env, cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    module, templates = where.stdout.split()
    assert module.startswith(str(site)) and templates == str(site / "tlsgen" / "templates")
    profile = ROOT / "profiles" / "seed-esp8266.yaml"
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "tlsgen", str(profile), "-o", str(out), "--quiet"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    golden = ROOT / "tests" / "generator" / "golden" / profile.stem
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (golden / name).read_bytes(), name


# ---- .pre-commit-hooks.yaml ---------------------------------------------------------------------------


def hook(hook_id: str) -> dict:
    return next(h for h in HOOKS if h["id"] == hook_id)


def test_check_hook_runs_on_every_commit_not_only_on_yaml_changes():
    h = hook("tlsgen-check")
    assert h["entry"] == "tlsgen generate --check" and h["language"] == "python"
    assert h.get("pass_filenames") is False
    # a hand edit of a generated file must trigger it, as must a tlsgen upgrade
    assert h.get("always_run") is True


def test_check_hook_as_documented_catches_a_hand_edited_output(tmp_path, capsys):
    from tlsgen.cli import EXIT_OK, EXIT_STALE, main

    profile = str(ROOT / "profiles" / "m4-psk-ccm8.yaml")
    out = tmp_path / "generated" / "device"
    args = [profile, "-o", str(out)]  # the `args:` of the documented hook entry
    entry = hook("tlsgen-check")["entry"].split()[1:]
    assert main([*entry, *args]) == EXIT_STALE
    assert main([profile, "-o", str(out), "--quiet"]) == EXIT_OK
    assert main([*entry, *args]) == EXIT_OK
    (out / "tlsgen_glue.cpp").write_text((out / "tlsgen_glue.cpp").read_text() + "// tweak\n")
    assert main([*entry, *args]) == EXIT_STALE
    assert "tlsgen_glue.cpp is stale" in capsys.readouterr().err


def test_validate_hook_takes_every_changed_profile(write_profile, capsys):
    from tlsgen.cli import EXIT_INVALID, EXIT_OK, main

    h = hook("tlsgen-validate")
    assert h.get("pass_filenames", True) is True
    entry = h["entry"].split()[1:]
    profiles = [str(ROOT / "profiles" / "m4-psk-ccm8.yaml"), str(ROOT / "profiles" / "m4-tls13.yaml")]
    assert main([*entry, *profiles]) == EXIT_OK
    assert main([*entry, *profiles, write_profile("profile: 2\n")]) == EXIT_INVALID
    capsys.readouterr()


# ---- what CMake asks of the build-time Python ---------------------------------------------------------


def test_cmake_python_requirements_are_pyprojects_dependencies():
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = [line.split("#", 1)[0].strip() for line in (ROOT / "cmake" / "python-requirements.txt").read_text()
             .splitlines()]
    assert [line for line in lines if line] == deps


def test_cmake_python_check_names_what_is_missing_or_too_old(tmp_path):
    req = tmp_path / "req.txt"
    req.write_text("# comment\nPyYAML>=6.0\nJinja2>=99.0\npydantic>=1.0,<2.0\nno-such-package-tlsgen>=1.0\n")
    proc = subprocess.run([sys.executable, str(ROOT / "cmake" / "check_python.py"), str(req)], capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Jinja2 (") and lines[0].endswith("installed; need >=99.0)"), lines
    assert lines[1].startswith("pydantic (") and lines[1].endswith("installed; need >=1.0,<2.0)"), lines
    assert lines[2] == "no-such-package-tlsgen (not installed; need >=1.0)", lines
    assert len(lines) == 3
    proc = subprocess.run([sys.executable, str(ROOT / "cmake" / "check_python.py"),
                           str(ROOT / "cmake" / "python-requirements.txt")], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr
