"""
Reruns the measurements in README.md: train.py once per setting, one run at a
time, each in a scratch copy of this folder (so no strata.params.json or
checkpoint is left here), and prints a Markdown table.

    python3 sweep.py            # the table in README.md
    TRAIN_SECONDS=5 python3 sweep.py
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

SETTINGS = [
    ("baseline (train.py as shipped), seed 0", {}, 0),
    ("baseline, seed 1", {}, 1),
    ("baseline, seed 2", {}, 2),
    ("learning_rate = 0.001", {"learning_rate": 0.001}, 0),
    ("learning_rate = 0.003", {"learning_rate": 0.003}, 0),
    ("learning_rate = 0.01", {"learning_rate": 0.01}, 0),
    ("learning_rate = 0.003, n_embd = 64", {"learning_rate": 0.003, "n_embd": 64}, 0),
    ("learning_rate = 0.003, block_size = 64", {"learning_rate": 0.003, "block_size": 64}, 0),
    ("learning_rate = 0.003, n_layer = 1", {"learning_rate": 0.003, "n_layer": 1}, 0),
]


def run(params, seed):
    with tempfile.TemporaryDirectory(prefix="nanogpt-sweep-") as scratch:
        for name in ("prepare.py", "train.py", "evaluate.py"):
            shutil.copy(os.path.join(HERE, name), scratch)
        shutil.copytree(os.path.join(HERE, "data"), os.path.join(scratch, "data"))
        if params:
            with open(os.path.join(scratch, "strata.params.json"), "w") as handle:
                json.dump(params, handle)
        env = {**os.environ, "STRATA_SEED": str(seed), "STRATA_ARTIFACTS": os.path.join(scratch, "artifacts")}
        done = subprocess.run([sys.executable, "train.py"], cwd=scratch, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
        values = dict(re.findall(r"^(\w+):\s+(\S+)$", done.stdout, flags=re.M))
        return values


def main():
    print("| setting | val_bpb | steps | train CPU s | peak MB |")
    print("| --- | --- | --- | --- | --- |")
    for label, params, seed in SETTINGS:
        values = run(params, seed)
        if "error" in values:
            print(f"| {label} | error: {values['error']} | | | |", flush=True)
            continue
        print(f"| {label} | {float(values['val_bpb']):.4f} | {int(values['num_steps']):,} | {float(values['training_seconds']):.1f} | {float(values['peak_vram_mb']):.0f} |", flush=True)


if __name__ == "__main__":
    main()
