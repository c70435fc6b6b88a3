"""Agent presets in configs/hyperparams/reinforce.yml are what `memtape train --algo reinforce --env ID` uses."""

from __future__ import annotations

import json

import pytest
import yaml

from agents.harness.cli import main
from agents.harness.configs import deep_merge, hyperparams_file, resolved_entry
from agents.harness.train import TrainSpec, check_run

pytestmark = pytest.mark.usefixtures("one_thread")

PRESETS = {k: v for k, v in yaml.safe_load(hyperparams_file("reinforce").read_text()).items() if k != "default"}


def test_every_preset_names_a_registered_id_and_a_controller() -> None:
    import gymnasium as gym

    import memtape_env  # noqa: F401

    assert PRESETS, "reinforce.yml holds no per-env preset"
    for env_id, entry in PRESETS.items():
        assert env_id in gym.registry, env_id
        assert entry["policy_kwargs"]["controller_class"]


@pytest.mark.parametrize("env_id", sorted(PRESETS))
def test_each_preset_builds_its_env_and_model(env_id: str) -> None:
    check_run(TrainSpec(algo="reinforce", env_id=env_id))


def test_memtape_train_uses_the_env_preset_by_default(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    args = ["train", "--algo", "reinforce", "--env", "memtape/Reverse-v0", "--timesteps", "64", "--out", str(out)]
    assert main([*args, "--no-progress"]) == 0
    entry = json.loads((out / "run.json").read_text())["entry"]
    assert entry["policy_kwargs"]["controller_class"] == "rlntm_direct"
    assert entry["policy_kwargs"]["controller_kwargs"]["core"] == "feedforward"
    assert entry["policy_kwargs"]["fixed_actions"] == {"memory_write": 0}  # the tape controller's wiring
    assert entry["env_kwargs"] == {"observe_prev_action": True, "observe_heads": True, "memory": True}
    assert entry["ent_coef"] == 0.1 and entry["supervised_output"] is True


def test_another_controller_falls_back_to_default_with_its_wiring() -> None:
    entry = resolved_entry("reinforce", "memtape/Reverse-v0", {"policy_kwargs": {"controller_class": "lstm"}})
    assert entry["policy_kwargs"] == {"controller_class": "lstm"} and entry["ent_coef"] == 0.01
    tape = resolved_entry("reinforce", "memtape/Copy-v0", {"policy_kwargs": {"controller_class": "rlntm"}})
    assert tape["env_kwargs"]["memory"] is True and tape["policy_kwargs"]["fixed_actions"] == {"memory_write": 0}


def test_overrides_merge_into_nested_controller_kwargs() -> None:
    over = {"policy_kwargs": {"controller_kwargs": {"hidden_size": 32}}}
    entry = resolved_entry("reinforce", "memtape/Reverse-v0", over)
    assert entry["policy_kwargs"]["controller_kwargs"]["hidden_size"] == 32
    assert entry["policy_kwargs"]["controller_kwargs"]["core"] == "feedforward"  # the preset's other kwargs stay


def test_max_length_sizes_the_controller() -> None:
    small = resolved_entry("reinforce", "memtape/Copy-v0", {"policy_kwargs": {"controller_class": "neural_gpu"}})
    large = resolved_entry(
        "reinforce", "memtape/Copy-v0", {"policy_kwargs": {"controller_class": "neural_gpu"}}, max_length=300
    )
    assert small["env_kwargs"]["observe_tape"] < large["env_kwargs"]["observe_tape"]


def test_deep_merge_replaces_non_mappings() -> None:
    assert deep_merge({"a": {"b": 1, "c": [1]}}, {"a": {"c": [2]}, "d": 3}) == {"a": {"b": 1, "c": [2]}, "d": 3}


def test_a_non_mapping_policy_kwargs_override_is_named() -> None:
    from agents.harness.configs import ConfigError

    with pytest.raises(ConfigError, match="policy_kwargs"):
        resolved_entry("reinforce", "memtape/Copy-v0", {"policy_kwargs": "big"})
