#!/usr/bin/env python3
"""Draws the training-curves JSON written by scripts/training-curves.mjs as a PNG (loss vs wall time per run).

    python3 scripts/plot_training_curves.py docs/results/bundled-model/training-curves.json docs/images/training-curves.png

Needs matplotlib (Debian: apt-get install python3-matplotlib). Development tool only; nothing in the packages uses it.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

data = json.load(open(sys.argv[1]))
runs = data["runs"]
fig, axes = plt.subplots(1, len(runs), figsize=(5.5 * len(runs), 3.8))
if len(runs) == 1:
    axes = [axes]
for ax, (name, run) in zip(axes, runs.items()):
    pts = run["points"]
    minutes = [p["seconds"] / 60 for p in pts]
    ax.plot(minutes, [p["loss"] for p in pts], color="#bbbbbb", linewidth=0.6, label="loss")
    ax.plot(minutes, [p["meanLoss100"] for p in pts], color="#1f5fa8", linewidth=1.6, label="mean of 100 steps")
    ax.set_title(f"{name}: {run['steps']} steps")
    ax.set_xlabel("wall time (min, 2 shared cores)")
    ax.set_ylabel("training loss")
    ax.grid(alpha=0.3)
    ax.legend()
fig.tight_layout()
fig.savefig(sys.argv[2], dpi=110)
print(f"wrote {sys.argv[2]}")
