"""
The protected evaluation stage of the nanogpt-cpu example. Strata runs it
after train.py (strata.yaml: `evaluate`), in a pristine checkout of the
study's base commit, with the trial's checkpoint in $STRATA_ARTIFACTS. It
scores the checkpoint with prepare.py's evaluate_bpb and prints the summary
the study reads; whatever train.py printed is ignored for the metric.

    python3 evaluate.py                 # the val split: the study's metric
    python3 evaluate.py --split test    # the test split: the sealed holdout

The metric line is `val_bpb:` for either split (the study reads one metric
name from both stages); `split:` says which one was scored.
"""

import argparse
import json
import os
import sys
import time

import torch

from prepare import MAX_BLOCK_SIZE, SPLITS, VOCAB_SHA, VOCAB_SIZE, HarnessError, evaluate_bpb


def main():
    started = time.perf_counter()
    parser = argparse.ArgumentParser(description="score the checkpoint in $STRATA_ARTIFACTS")
    parser.add_argument("--split", choices=[split for split in SPLITS if split != "train"], default="val")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or 1))
    device = "cuda" if torch.cuda.is_available() else "cpu"

    directory = os.environ.get("STRATA_ARTIFACTS") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "artifacts")
    model_path = os.path.join(directory, "model.pt")
    meta_path = os.path.join(directory, "meta.json")
    if not (os.path.isfile(model_path) and os.path.isfile(meta_path)):
        raise HarnessError(f"no checkpoint in {directory}: train.py must save model.pt and meta.json there")
    with open(meta_path) as handle:
        meta = json.load(handle)
    if meta.get("vocab_sha") != VOCAB_SHA or meta.get("vocab_size") != VOCAB_SIZE:
        raise HarnessError(f"the checkpoint was trained with another vocabulary ({meta.get('vocab_sha')}, {meta.get('vocab_size')} characters), not {VOCAB_SHA} ({VOCAB_SIZE})")
    block_size = meta.get("block_size")
    if not isinstance(block_size, int) or isinstance(block_size, bool) or not (2 <= block_size <= MAX_BLOCK_SIZE):
        raise HarnessError(f"meta.json: block_size must be an integer from 2 to {MAX_BLOCK_SIZE}, got {block_size!r}")
    try:
        model = torch.jit.load(model_path, map_location=device)
    except RuntimeError as error:
        raise HarnessError(f"{model_path} is not a TorchScript model ({str(error).splitlines()[0]})") from None
    model.eval()
    bpb = evaluate_bpb(model, block_size, args.split, device)

    print("---")
    print(f"split:            {args.split}")
    print(f"val_bpb:          {bpb:.6f}")
    peak = meta.get("peak_vram_mb")
    if isinstance(peak, (int, float)) and not isinstance(peak, bool):
        print(f"peak_vram_mb:     {peak:.1f}")
    print(f"eval_seconds:     {time.perf_counter() - started:.1f}")


if __name__ == "__main__":
    try:
        main()
    except HarnessError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
