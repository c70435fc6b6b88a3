"""Config schemas: every shipped file validates; bad configs fail with a message naming the offending key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.harness.configs import CONFIG_ROOT, ConfigError, load_hyperparams, load_suite, parse_suite, validate_kwargs
from agents.harness.registry import ALGORITHMS, canonical_algo

SUITES = sorted(p.stem for p in (CONFIG_ROOT / "suites").glob("*.yml"))


def tiny_suite(**changes: object) -> dict:
    suite = {
        "name": "tiny",
        "tasks": [{"id": "memtape/ClassicCopy-v0", "eval_lengths": [3]}],
        "algorithms": [{"name": "ppo", "algo": "ppo"}],
        "seeds": [0],
        "budget": {"timesteps": 100},
    }
    suite.update(changes)
    return suite


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_shipped_hyperparams_validate(algo: str) -> None:
    hp = load_hyperparams(algo, "memtape/Copy-v0")
    assert hp.algo == algo and hp.meta.n_envs >= 1 and hp.meta.n_timesteps > 0


@pytest.mark.parametrize("name", SUITES)
def test_shipped_suites_validate(name: str) -> None:
    suite, path = load_suite(name)
    assert suite.name == name == path.stem


def test_algorithm_aliases() -> None:
    assert canonical_algo("RecurrentPPO") == "ppo_lstm"
    with pytest.raises(ValueError, match="unknown algorithm 'sac'"):
        canonical_algo("sac")


def test_unknown_hyperparameter_names_key() -> None:
    with pytest.raises(ConfigError, match="unknown key 'n_stepz'"):
        load_hyperparams("ppo", "memtape/Copy-v0", {"n_stepz": 8})


def test_wrong_hyperparameter_type_names_key() -> None:
    with pytest.raises(ConfigError, match="key 'n_steps' has bad value 'many'"):
        load_hyperparams("ppo", "memtape/Copy-v0", {"n_steps": "many"})
    with pytest.raises(ConfigError, match="'n_envs'"):
        load_hyperparams("ppo", "memtape/Copy-v0", {"n_envs": 0})


def test_reinforce_hyperparameters_come_from_its_config_dataclass() -> None:
    ok = validate_kwargs("reinforce", {"batch_episodes": 4, "baseline": "online"}, "here")
    assert ok == {"batch_episodes": 4, "baseline": "online"}
    with pytest.raises(ConfigError, match="here: unknown key 'batch_size' for algorithm 'reinforce'"):
        validate_kwargs("reinforce", {"batch_size": 4}, "here")


def test_linear_schedule_string() -> None:
    schedule = validate_kwargs("ppo", {"learning_rate": "lin_0.001"}, "here")["learning_rate"]
    assert schedule(1.0) == pytest.approx(1e-3) and schedule(0.5) == pytest.approx(5e-4)


def test_hyperparameter_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "ppo.yml"
    bad.write_text("memtape/Copy-v0: [1, 2]\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_hyperparams("ppo", "memtape/Copy-v0", path=bad)
    bad.write_text("memtape/Reverse-v0: {n_envs: 2}\n")
    with pytest.raises(ConfigError, match="no entry for 'memtape/Copy-v0' and no 'default'"):
        load_hyperparams("ppo", "memtape/Copy-v0", path=bad)
    bad.write_text("a: [\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_hyperparams("ppo", "memtape/Copy-v0", path=bad)
    with pytest.raises(ConfigError, match="not found"):
        load_hyperparams("ppo", "memtape/Copy-v0", path=tmp_path / "missing.yml")


def test_tiny_suite_parses() -> None:
    suite = parse_suite(tiny_suite(), "tiny.yml")
    assert suite.eval.episodes == 20 and suite.tasks[0].eval_lengths == [3]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"seedz": [0]}, "key 'seedz': Extra inputs are not permitted"),
        ({"budget": {"timesteps": "lots"}}, "key 'budget.timesteps'"),
        ({"budget": {"timesteps": 100, "walltime": 3}}, "key 'budget.walltime'"),
        ({"seeds": []}, "key 'seeds'"),
        ({"tasks": [{"id": "memtape/Nope-v0"}]}, "key 'tasks.0.id': unknown task 'memtape/Nope-v0'"),
        ({"tasks": [{"id": "memtape/Copy-v0", "eval_lengths": [0]}]}, "key 'tasks.0.eval_lengths'"),
        ({"algorithms": [{"name": "x", "algo": "sac"}]}, "key 'algorithms.0.algo'"),
        ({"algorithms": [{"name": "x", "algo": "ppo", "lr": 1}]}, "key 'algorithms.0.lr'"),
        (
            {"algorithms": [{"name": "x", "algo": "ppo", "hyperparams": {"n_stepz": 1}}]},
            "key 'algorithms.0.hyperparams'.*unknown key 'n_stepz'",
        ),
        (
            {"algorithms": [{"name": "x", "algo": "reinforce", "controller": "ntm"}]},
            "key 'algorithms.0.controller': unknown controller 'ntm'",
        ),
        (
            {"algorithms": [{"name": "x", "algo": "ppo", "controller": "lstm"}]},
            "applies to algo reinforce and supervised only",
        ),
        ({"algorithms": [{"name": "a b", "algo": "ppo"}]}, "key 'algorithms.0.name'"),
        ({"algorithms": [{"name": "x", "algo": "ppo"}, {"name": "x", "algo": "a2c"}]}, "unique"),
    ],
)
def test_bad_suite_names_the_key(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_suite(tiny_suite(**changes), "bad.yml")


def test_suite_lookup_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown suite 'nope'.*quick"):
        load_suite("nope")
    with pytest.raises(ConfigError, match="suite file not found"):
        load_suite(str(tmp_path / "missing.yml"))
    not_a_mapping = tmp_path / "list.yml"
    not_a_mapping.write_text("- 1\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_suite(str(not_a_mapping))
