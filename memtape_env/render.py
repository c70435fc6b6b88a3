"""Rendering one environment of a machine: `ansi` text and `rgb_array` images (for RecordVideo)."""

from __future__ import annotations

import numpy as np

from memtape_env.machine import TapeMachine

CELL = 12  # pixels per tape cell in rgb_array frames


def render_ansi(m: TapeMachine, i: int) -> str:
    """Tapes with heads marked by [brackets], the output so far, the target and the last reward."""
    task = m.task
    lines = [f"{task.name}  length {int(m.length[i])}  step {int(m.t[i])}/{int(m.limit[i])}"]
    width = int(m.input_len[i]) if task.rows == 1 else m.width
    for r in range(task.rows):
        cells = []
        for c in range(-1, max(width, 1) + 1):
            s = task.symbol_str(int(m.input[i, r, c])) if 0 <= c < m.width else " "
            here = c == m.in_x[i] and r == m.in_y[i]
            cells.append(f"[{s}]" if here else f" {s} ")
        label = "input " if task.rows == 1 else f"row {r} "
        lines.append(f"{label:<8}" + "".join(cells))
    if m.memory:
        cells = []
        for c in range(m.memory_size):
            s = task.symbol_str(int(m.mem[i, c]))
            cells.append(f"[{s}]" if c == m.mem_x[i] else f" {s} ")
        lines.append(f"{'memory':<8}" + "".join(cells))
    target = [int(v) for v in m.target[i, : m.target_len[i]]]
    good, out = int(m.correct[i]), int(m.out_pos[i])
    wrong = " ! " if out > good else ""  # a wrong symbol was written there
    lines.append(f"{'output':<8}" + "".join(f" {task.symbol_str(v)} " for v in target[:good]) + wrong)
    lines.append(f"{'target':<8}" + "".join(f" {task.symbol_str(v)} " for v in target))
    lines.append(f"reward {float(m.last_reward[i]):+.1f}  return {float(m.ep_return[i]):+.1f}")
    return "\n".join(lines) + "\n"


def _palette(n: int) -> np.ndarray:
    """n + 1 distinct colours: one per symbol, dark grey for blank."""
    hues = np.linspace(0, 1, n, endpoint=False)
    rgb = np.stack([0.5 + 0.5 * np.cos(2 * np.pi * (hues + k / 3)) for k in range(3)], axis=1)
    return np.concatenate([(rgb * 200 + 40).astype(np.uint8), np.array([[40, 40, 40]], np.uint8)])


def render_rgb(m: TapeMachine, i: int) -> np.ndarray:
    """An (H, W, 3) uint8 frame of fixed size per env: input rows, memory, output and target tapes as colour
    cells; heads outlined in white; a bar at the bottom shows the last reward (green +, red -)."""
    task = m.task
    cols = max(m.max_width + 2, m.memory_size if m.memory else 0, int(m.target.shape[1]), 8)
    cols = max(cols, m.max_width * 3)  # targets can be several inputs long (repeat copy)
    n_rows = task.rows + (1 if m.memory else 0) + 2 + 1
    size = max(2, min(CELL, 1920 // cols))  # long tapes get smaller cells, so frames stay video-sized
    img = np.zeros((n_rows * size, cols * size, 3), dtype=np.uint8)
    pal = _palette(max(task.input_base, task.memory_base, task.output_base))
    blank = len(pal) - 1

    def cell(r: int, c: int, symbol: int, head: bool = False) -> None:
        if not 0 <= c < cols:
            return
        y0, x0 = r * size, c * size
        img[y0 + 1 : y0 + size - 1, x0 + 1 : x0 + size - 1] = pal[blank if symbol < 0 else min(symbol, blank)]
        if head:
            img[y0 : y0 + size, x0] = img[y0 : y0 + size, x0 + size - 1] = 255
            img[y0, x0 : x0 + size] = img[y0 + size - 1, x0 : x0 + size] = 255

    for r in range(task.rows):
        for c in range(cols):
            s = int(m.input[i, r, c]) if c < m.width else task.blank
            cell(r, c, s, head=(c == m.in_x[i] and r == m.in_y[i]))
    row = task.rows
    if m.memory:
        for c in range(m.memory_size):
            cell(row, c, int(m.mem[i, c]), head=(c == m.mem_x[i]))
        row += 1
    tlen, out, good = int(m.target_len[i]), int(m.out_pos[i]), int(m.correct[i])
    for c in range(tlen):
        cell(row, c, int(m.target[i, c]) if c < good else -1, head=(c == out))
        cell(row + 1, c, int(m.target[i, c]))
    reward = float(m.last_reward[i])
    colour = (0, 200, 0) if reward > 0 else (200, 0, 0) if reward < 0 else (90, 90, 90)
    img[(n_rows - 1) * size + 1 : n_rows * size - 1, : max(size, int(cols * size * min(abs(reward), 1.0)))] = colour
    return img
