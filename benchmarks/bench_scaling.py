"""Per-step cost of the memory controllers against the memory size N (forward + backward, one CPU thread).

Measures, in one run, the RL-NTM tape controller (O(1) access to the cell under the head), the DNC of
`agents.controllers.dnc` (fused, cache-blocked dense link; and its sparse-link option with K entries per row),
the Neural GPU (one step of its convolutional GRUs over an image of width N), and a straightforward dense DNC
written below in the pytorch-dnc style (plain ops, a dense link matrix, allocation by two sorts): the reference
that the fused DNC's speed is compared against at N = 1024.

Setting (the pytorch-dnc figures of docs/design.md): batch 16, word size 32, 4 read heads, LSTM 64 units. Time per step
is the marginal cost of a step: the wall time of 2T steps forward from the initial state plus the backward
through them, minus that of T steps, divided by T (best of a few repeats each). What is paid once per sequence
(the initial state, the first gradient of the memory) cancels out. Memory per step is, the same way, the
growth of the tensors autograd saves for the backward pass (what backprop through time keeps per step),
counted with saved-tensor hooks.

    python benchmarks/bench_scaling.py            # writes docs/scaling.csv and docs/scaling.png
    python benchmarks/bench_scaling.py --quick    # N up to 1024, fewer repeats
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from agents.controllers import DNC, RLNTMTapeController
from agents.controllers.base import Context, Controller, State
from agents.controllers.neural_gpu import NeuralGPU

BATCH, WORD, HEADS, HIDDEN, INPUT = 16, 32, 4, 64, 8
SIZES = (16, 64, 256, 1024, 2048, 4096, 16384)
CAPS = {  # largest N measured per controller, and why
    "dnc_dense_reference": (2048, "plain dense ops: seconds a step at N=2048, beyond that too slow"),
    "dnc": (4096, "exact dense link: (B, N, N) floats per step, 17 GB at N=16384"),
    "neural_gpu": (4096, "one CGRU step is O(N); at N=16384 a step takes tens of seconds on one thread"),
}


class DenseDNCReference(Controller):
    """A DNC with the same interface and parameters as `DNC`, written with plain ops like pytorch-dnc."""

    def __init__(self, input_dim: int, memory_size: int) -> None:
        super().__init__()
        self.input_dim, self.n = input_dim, memory_size
        self.output_dim = HIDDEN + HEADS * WORD
        self.lstm = nn.LSTMCell(input_dim + HEADS * WORD, HIDDEN)
        self.interface = nn.Linear(HIDDEN, WORD * HEADS + 3 * WORD + 5 * HEADS + 3)
        self.register_buffer("not_eye", 1 - torch.eye(memory_size).unsqueeze(0))

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        n = self.n
        z = lambda *s: torch.zeros(batch_size, *s, device=device)  # noqa: E731
        return (z(HIDDEN), z(HIDDEN), z(n, WORD), z(n), z(n, n), z(n), z(HEADS, n), z(n), z(HEADS * WORD))

    @staticmethod
    def content(memory: torch.Tensor, keys: torch.Tensor, strengths: torch.Tensor) -> torch.Tensor:
        norm_m = memory / (memory.norm(dim=2, keepdim=True) + 1e-6)
        norm_k = keys / (keys.norm(dim=2, keepdim=True) + 1e-6)
        return torch.softmax(torch.bmm(norm_k, norm_m.transpose(1, 2)) * strengths.unsqueeze(2), dim=2)

    def allocate(self, usage: torch.Tensor) -> torch.Tensor:
        usage = 1e-6 + (1 - 1e-6) * usage
        sorted_usage, phi = torch.topk(usage, self.n, dim=1, largest=False)
        ones = torch.ones_like(sorted_usage[:, :1])
        prod = torch.cumprod(torch.cat([ones, sorted_usage], 1), 1)[:, :-1]
        sorted_alloc = (1 - sorted_usage) * prod
        _, phi_rev = torch.topk(phi, self.n, dim=1, largest=False)
        return sorted_alloc.gather(1, phi_rev)

    def step(self, x: torch.Tensor, state: State, context: Context | None = None) -> tuple[torch.Tensor, State]:
        h, c, memory, usage, link, prec, read_w, write_w, reads = state
        b = x.shape[0]
        h, c = self.lstm(torch.cat([x, reads], 1), (h, c))
        parts = torch.split(self.interface(h), [HEADS * WORD, HEADS, WORD, 1, WORD, WORD, HEADS, 1, 1, 3 * HEADS], 1)
        read_keys, read_str = parts[0].view(b, HEADS, WORD), 1 + F.softplus(parts[1])
        write_key, write_str = parts[2].view(b, 1, WORD), 1 + F.softplus(parts[3])
        erase, write_vec, free = torch.sigmoid(parts[4]), parts[5], torch.sigmoid(parts[6])
        alloc_gate, write_gate = torch.sigmoid(parts[7]), torch.sigmoid(parts[8])
        modes = torch.softmax(parts[9].view(b, HEADS, 3), 2)
        usage = usage + (1 - usage) * write_w.detach()
        usage = usage * torch.prod(1 - free.unsqueeze(2) * read_w, 1)
        alloc = self.allocate(usage)
        content_w = self.content(memory, write_key, write_str).squeeze(1)
        write_w = write_gate * (alloc_gate * alloc + (1 - alloc_gate) * content_w)
        memory = memory * (1 - torch.bmm(write_w.unsqueeze(2), erase.unsqueeze(1)))
        memory = memory + torch.bmm(write_w.unsqueeze(2), write_vec.unsqueeze(1))
        wi, wj = write_w.unsqueeze(2), write_w.unsqueeze(1)
        link = ((1 - wi - wj) * link + wi * prec.unsqueeze(1)) * self.not_eye
        prec = (1 - write_w.sum(1, keepdim=True)) * prec + write_w
        fwd = torch.matmul(link, read_w.transpose(1, 2)).transpose(1, 2)
        bwd = torch.matmul(read_w, link)
        content_r = self.content(memory, read_keys, read_str)
        read_w = modes[..., 0:1] * bwd + modes[..., 1:2] * fwd + modes[..., 2:3] * content_r
        reads = torch.bmm(read_w, memory).reshape(b, -1)
        return torch.cat([h, reads], 1), (h, c, memory, usage, link, prec, read_w, write_w, reads)


class NeuralGPUStep(Controller):
    """One Neural GPU step (its CGRU layers) over a (batch, 24, 4, N) image carried as the state."""

    def __init__(self, input_dim: int, width: int) -> None:
        super().__init__()
        self.input_dim, self.width = input_dim, width
        self.gpu = NeuralGPU(3, channels=24, height=4, layers=2)
        self.output_dim = 24

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> State:
        tape = torch.zeros(batch_size, self.width, dtype=torch.long, device=device)
        s = torch.zeros(batch_size, 24, 4, self.width, device=device)
        s[:, :, 0, :] = self.gpu.embed(tape).transpose(1, 2).detach()
        return (s,)

    def step(self, x: torch.Tensor, state: State, context: Context | None = None) -> tuple[torch.Tensor, State]:
        s = state[0]
        for layer in range(self.gpu.layers):
            s = self.gpu.cgru(s, layer, 0)
        return s[:, :, 0, 0], (s,)


@dataclass
class Result:
    controller: str
    n: int
    ms_per_step: float
    mb_per_step: float
    note: str = ""


def build(name: str, n: int) -> tuple[Controller, Callable[[int], Context | None]]:
    """The controller at memory size n and a function giving its context at step t."""
    if name == "tape":
        ctrl: Controller = RLNTMTapeController(INPUT, hidden_size=HIDDEN, memory_dim=WORD, memory_size=n)
        heads = torch.randint(0, n, (64, BATCH), generator=torch.Generator().manual_seed(0))
        return ctrl, lambda t: {"memory_head": heads[t]}
    if name == "dnc":
        return DNC(INPUT, HIDDEN, n, WORD, HEADS), lambda t: None
    if name == "dnc_sparse_k8":
        return DNC(INPUT, HIDDEN, n, WORD, HEADS, link_k=8), lambda t: None
    if name == "dnc_dense_reference":
        return DenseDNCReference(INPUT, n), lambda t: None
    if name == "neural_gpu":
        return NeuralGPUStep(INPUT, n), lambda t: None
    raise ValueError(f"unknown controller {name!r}")


def _run(ctrl: Controller, context: Callable[[int], Context | None], xs: torch.Tensor, steps: int) -> tuple[float, int]:
    """Wall time of `steps` steps forward plus the backward through them, and the bytes autograd saved.

    The initial state is built before the clock starts: it is made once per episode, not per step.
    """
    seen: dict[tuple[int, int], int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        seen[(storage.data_ptr(), storage.nbytes())] = storage.nbytes()
        return t

    state = ctrl.initial_state(BATCH)
    start = time.perf_counter()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = torch.zeros(())
        for t in range(steps):
            out, state = ctrl.step(xs[t], state, context(t))
            loss = loss + out.square().mean()
    loss.backward()
    return time.perf_counter() - start, sum(seen.values())


def measure(name: str, n: int, steps: int, repeats: int) -> Result:
    """Marginal cost of a step: (cost of 2T steps - cost of T steps) / T, best of `repeats` for each.

    Taking the difference removes what is paid once per sequence whatever its length (allocating the first
    gradient of the memory, for one), so the number is what one more step of an episode costs.
    """
    torch.manual_seed(0)
    ctrl, context = build(name, n)
    xs = torch.randn(2 * steps, BATCH, INPUT)
    best = {steps: math.inf, 2 * steps: math.inf}
    saved = dict.fromkeys(best, 0)
    for _ in range(repeats):
        for length in best:
            seconds, saved[length] = _run(ctrl, context, xs, length)
            best[length] = min(best[length], seconds)
    per_step = max(best[2 * steps] - best[steps], 0.0) / steps
    return Result(name, n, 1e3 * per_step, (saved[2 * steps] - saved[steps]) / steps / 2**20)


def plot(csv_path: Path, png_path: Path) -> None:
    """Time and memory per step against N, one line per controller, log-log, from the CSV."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(csv_path.open()))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for name in dict.fromkeys(r["controller"] for r in rows):
        mine = [r for r in rows if r["controller"] == name]
        ns = [int(r["n"]) for r in mine]
        axes[0].plot(ns, [float(r["ms_per_step"]) for r in mine], marker="o", label=name)
        axes[1].plot(ns, [float(r["mb_per_step"]) for r in mine], marker="o", label=name)
    for ax, label in zip(axes, ("ms per step (forward + backward)", "MB saved for backward per step"), strict=True):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("memory size N (Neural GPU: image width)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Per-step cost vs memory size (1 CPU thread, batch {BATCH}, W={WORD}, R={HEADS})")
    fig.tight_layout()
    fig.savefig(png_path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="N up to 1024 and one repeat")
    parser.add_argument("--out", default="docs", help="folder for scaling.csv and scaling.png")
    parser.add_argument("--steps", type=int, default=8, help="T: sequences of T and 2T steps are timed")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sizes = [n for n in SIZES if n <= 1024] if args.quick else list(SIZES)
    names = ["tape", "dnc", "dnc_sparse_k8", "dnc_dense_reference", "neural_gpu"]
    results: list[Result] = []
    for name in names:
        cap, why = CAPS.get(name, (max(SIZES), ""))
        for n in sizes:
            if n > cap:
                print(f"{name:>20} N={n:>6}: skipped ({why})")
                continue
            heavy = n >= 2048 and name not in ("tape", "dnc_sparse_k8")
            steps = 2 if heavy else 4 * args.steps if name == "tape" else args.steps  # the tape's step is cheap
            repeats = 1 if (heavy or args.quick) else 3
            r = measure(name, n, steps, repeats)
            results.append(r)
            print(f"{name:>20} N={n:>6}: {r.ms_per_step:10.2f} ms/step {r.mb_per_step:10.2f} MB/step", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "scaling.csv"
    with csv_path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["controller", "n", "ms_per_step", "mb_per_step"])
        for r in results:
            writer.writerow([r.controller, r.n, f"{r.ms_per_step:.3f}", f"{r.mb_per_step:.3f}"])
    plot(csv_path, out / "scaling.png")
    if 1024 in sizes:
        # The headline ratio: the two measured alternately, best of each, so that a change in the machine's
        # load during the sweep does not favour either.
        best = {"dnc": math.inf, "dnc_dense_reference": math.inf}
        for _ in range(3):
            for name in best:
                best[name] = min(best[name], measure(name, 1024, args.steps, 1).ms_per_step)
        ratio = best["dnc_dense_reference"] / best["dnc"]
        print(
            f"DNC at N=1024, measured alternately: {best['dnc']:.1f} ms/step, dense reference "
            f"{best['dnc_dense_reference']:.1f} ms/step; speed-up {ratio:.2f}x (target >= 2x)"
        )
    tape = [r for r in results if r.controller == "tape"]
    if len(tape) > 1:
        growth = tape[-1].ms_per_step / tape[0].ms_per_step
        print(f"tape controller step cost N={tape[-1].n} / N={tape[0].n}: {growth:.2f}x (target <= 1.5x)")
    for name in ("dnc", "dnc_sparse_k8"):
        mine = [r for r in results if r.controller == name]
        if len(mine) > 1:
            slope = math.log(mine[-1].ms_per_step / mine[-2].ms_per_step) / math.log(mine[-1].n / mine[-2].n)
            print(f"{name} time growth exponent between N={mine[-2].n} and N={mine[-1].n}: {slope:.2f}")
    print(f"wrote {csv_path} and {out / 'scaling.png'}")


if __name__ == "__main__":
    main()
