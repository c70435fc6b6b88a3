"""The GPU check script (benchmarks/gpu_check.py): its comparisons, the CPU self-check and the no-CUDA exit."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"

pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.filterwarnings("ignore:The `render_mode` attribute")]


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_relative_difference_sees_a_change(gpu_check) -> None:
    a = torch.tensor([1.0, -2.0, 4.0])
    assert gpu_check.relative_difference(a, a.clone()) == 0.0
    assert gpu_check.relative_difference(a, a + torch.tensor([0.0, 0.0, 0.004])) == pytest.approx(1e-3, rel=1e-3)
    assert gpu_check.relative_difference(a, a[:2]) == float("inf")
    assert gpu_check.relative_difference(a, torch.tensor([1.0, float("nan"), 4.0])) == float("inf")
    assert not gpu_check.Comparison("x", 2e-4, 1e-4).ok


def test_self_check_on_the_cpu_passes(gpu_check, capsys) -> None:
    code = gpu_check.main(["--device", "cpu", "--steps", "2", "--n-envs", "2", "--time-limit", "5"])
    out = capsys.readouterr().out
    assert code == 0, out
    for name in ("reinforce lstm", "reinforce dnc", "reinforce neural_gpu", "supervised neural_gpu"):
        assert name in out
    assert "PASS: 0 of" in out


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_without_cuda_it_says_so_and_exits_0(gpu_check, capsys) -> None:
    assert gpu_check.main([]) == 0
    assert "no CUDA device" in capsys.readouterr().out


def test_bad_device_is_named(gpu_check) -> None:
    with pytest.raises(SystemExit):
        gpu_check.main(["--device", "tpu"])
