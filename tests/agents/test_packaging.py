"""What an installed memtape needs: packaged configs found from any directory (./configs first), a torch-free
`--help`/`--version`/`list`, and a wheel that carries the configs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import agents.harness.configs as configs
from agents.harness.cli import CONTROLLER_NAMES, main

ROOT = Path(__file__).resolve().parents[2]


def test_packaged_configs_found_from_another_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert configs.hyperparams_file("ppo") == configs.CONFIG_ROOT / "hyperparams" / "ppo.yml"
    assert configs.hyperparams_file("ppo").is_file()
    suite, path = configs.load_suite("quick", check=False)
    assert suite.name == "quick" and path == configs.CONFIG_ROOT / "suites" / "quick.yml"


def test_own_configs_directory_takes_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "configs" / "suites").mkdir(parents=True)
    (tmp_path / "configs" / "hyperparams").mkdir()
    quick = (configs.CONFIG_ROOT / "suites" / "quick.yml").read_text()
    (tmp_path / "configs" / "suites" / "mine.yml").write_text(quick.replace("name: quick", "name: mine"))
    (tmp_path / "configs" / "suites" / "quick.yml").write_text(quick)
    (tmp_path / "configs" / "hyperparams" / "ppo.yml").write_text("default:\n  n_envs: 3\n  n_steps: 16\n")
    assert configs.suite_path("mine") == Path.cwd() / "configs" / "suites" / "mine.yml"
    assert configs.suite_path("quick") == Path.cwd() / "configs" / "suites" / "quick.yml"
    assert configs.load_hyperparams("ppo", "memtape/Copy-v0").meta.n_envs == 3
    assert configs.hyperparams_file("a2c") == configs.CONFIG_ROOT / "hyperparams" / "a2c.yml"  # not overridden
    given = tmp_path / "given.yml"  # --conf-file wins over both
    given.write_text("default:\n  n_envs: 5\n")
    assert configs.load_hyperparams("ppo", "memtape/Copy-v0", path=given).meta.n_envs == 5


def test_list_and_config_path_from_another_directory(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["list"]) == 0
    suites = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("suites:"))
    assert "quick" in suites.split()
    assert main(["config-path", "ppo_lstm"]) == 0
    assert Path(capsys.readouterr().out.strip()) == configs.CONFIG_ROOT / "hyperparams" / "ppo_lstm.yml"


def test_controller_names_match_the_registry() -> None:
    from agents.controllers import CONTROLLERS

    assert CONTROLLER_NAMES == tuple(CONTROLLERS)


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["list"], ["train", "--help"]])
def test_help_version_list_import_neither_torch_nor_sb3(argv: list[str]) -> None:
    code = (
        "import sys\nfrom agents.harness.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('torch', 'stable_baselines3', 'sb3_contrib') if m in sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    if argv == ["--version"]:
        assert done.stdout.startswith("memtape ")


def test_pyproject_lists_every_package() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("agents", "memtape_env")
        for p in (ROOT / top).rglob("__init__.py")
    }
    assert listed == found | {"memtape_configs"}


def test_wheel_ships_the_configs(tmp_path: Path) -> None:
    pytest.importorskip("setuptools")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), ROOT],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("memtape-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {f"memtape_configs/{p.relative_to(ROOT / 'configs')}" for p in (ROOT / "configs").glob("*/*.yml")}
    assert shipped and shipped <= names
    assert "agents/harness/cli.py" in names and "memtape_env/sb3.py" in names
    sources = {str(p.relative_to(ROOT)) for top in ("agents", "memtape_env") for p in (ROOT / top).rglob("*.py")}
    assert sources <= names
