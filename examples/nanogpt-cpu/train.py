"""
The editable trainer of the nanogpt-cpu example: a tiny GPT (after Karpathy's
nanoGPT) trained for prepare.py's time budget, then scored by prepare.py's
evaluate_bpb. This is the file a study changes; keep the summary it prints
at the end and the checkpoint it saves (evaluate.py scores that checkpoint).

    python3 train.py                    # the settings below, ~20 s of training
    TRAIN_SECONDS=5 python3 train.py    # shorter

Settings are the constants below. When strata.params.json exists (the search
proposer writes it into each trial), its keys (the constants' names in lower
case) override them. STRATA_SEED seeds the run; OMP_NUM_THREADS sets torch's
CPU threads (default 1: one per trial slot).
"""

import json
import math
import os
import sys
import time

import torch
import torch.nn as nn
from torch.nn import functional as F

from prepare import MAX_BLOCK_SIZE, VOCAB_SHA, VOCAB_SIZE, HarnessError, evaluate_bpb, load_split, peak_memory_mb, start_training_clock

# ---------------------------------------------------------------------------
# Settings (edit freely)
# ---------------------------------------------------------------------------

N_LAYER = 2             # transformer blocks
N_HEAD = 2              # attention heads per block
N_EMBD = 32             # width of the residual stream (a multiple of N_HEAD)
BLOCK_SIZE = 32         # characters of context
BATCH_SIZE = 16         # windows per optimizer step
LEARNING_RATE = 3e-4    # AdamW peak learning rate; warmup, then linear decay to 10%
WEIGHT_DECAY = 0.0
DROPOUT = 0.0
WARMUP_FRACTION = 0.05  # of the time budget

# ---------------------------------------------------------------------------
# Settings from strata.params.json (search proposer), checked before training
# ---------------------------------------------------------------------------

LIMITS = {
    "n_layer": (int, 1, 12),
    "n_head": (int, 1, 16),
    "n_embd": (int, 4, 1024),
    "block_size": (int, 2, MAX_BLOCK_SIZE),
    "batch_size": (int, 1, 1024),
    "learning_rate": (float, 1e-6, 1.0),
    "weight_decay": (float, 0.0, 1.0),
    "dropout": (float, 0.0, 0.9),
    "warmup_fraction": (float, 0.0, 0.9),
}


def apply_params(path="strata.params.json"):
    if not os.path.exists(path):
        return
    try:
        with open(path) as handle:
            params = json.load(handle)
    except ValueError as error:
        raise HarnessError(f"{path} is not valid JSON: {error}") from None
    if not isinstance(params, dict):
        raise HarnessError(f"{path} must hold an object of settings, got {type(params).__name__}")
    problems = []
    for key, value in params.items():
        if key not in LIMITS:
            problems.append(f'unknown key "{key}" (known: {", ".join(LIMITS)})')
            continue
        kind, low, high = LIMITS[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and value != int(value)) or not (low <= value <= high):
            problems.append(f'"{key}" must be {"an integer" if kind is int else "a number"} from {low} to {high}, got {value!r}')
            continue
        globals()[key.upper()] = kind(value)
    if N_EMBD % N_HEAD != 0:
        problems.append(f"n_embd ({N_EMBD}) must be a multiple of n_head ({N_HEAD})")
    if problems:
        raise HarnessError(f"{path}: " + "; ".join(problems))


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(N_EMBD, 3 * N_EMBD)
        self.proj = nn.Linear(N_EMBD, N_EMBD)
        self.dropout = nn.Dropout(DROPOUT)
        self.register_buffer("mask", torch.tril(torch.ones(BLOCK_SIZE, BLOCK_SIZE)).view(1, 1, BLOCK_SIZE, BLOCK_SIZE))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.qkv(x).split(N_EMBD, dim=2)
        q = q.view(B, T, N_HEAD, C // N_HEAD).transpose(1, 2)
        k = k.view(B, T, N_HEAD, C // N_HEAD).transpose(1, 2)
        v = v.view(B, T, N_HEAD, C // N_HEAD).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(N_EMBD // N_HEAD))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        att = self.dropout(F.softmax(att, dim=-1))
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.dropout(self.proj(y))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = nn.LayerNorm(N_EMBD)
        self.attn = CausalSelfAttention()
        self.ln2 = nn.LayerNorm(N_EMBD)
        self.mlp = nn.Sequential(nn.Linear(N_EMBD, 4 * N_EMBD), nn.GELU(), nn.Linear(4 * N_EMBD, N_EMBD), nn.Dropout(DROPOUT))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(VOCAB_SIZE, N_EMBD)
        self.pos = nn.Embedding(BLOCK_SIZE, N_EMBD)
        self.blocks = nn.Sequential(*[Block() for _ in range(N_LAYER)])
        self.ln_f = nn.LayerNorm(N_EMBD)
        self.head = nn.Linear(N_EMBD, VOCAB_SIZE, bias=False)
        self.apply(self._init)

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx):
        T = idx.size(1)
        positions = torch.arange(T, device=idx.device)
        x = self.tok(idx) + self.pos(positions)
        return self.head(self.ln_f(self.blocks(x)))


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def main():
    started = time.perf_counter()
    apply_params()
    seed = int(os.environ.get("STRATA_SEED") or 0)
    torch.manual_seed(seed)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS") or 1))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(
        f"config: n_layer={N_LAYER} n_head={N_HEAD} n_embd={N_EMBD} block_size={BLOCK_SIZE} batch_size={BATCH_SIZE} "
        f"learning_rate={LEARNING_RATE:g} weight_decay={WEIGHT_DECAY:g} dropout={DROPOUT:g} seed={seed} device={device} threads={torch.get_num_threads()}",
        flush=True,
    )

    data = load_split("train")
    model = GPT().to(device)
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    generator = torch.Generator().manual_seed(seed)

    clock = start_training_clock(device)
    step = 0
    smooth = None
    last_report = 0.0
    model.train()
    while not clock.done():
        progress = clock.fraction()
        lr = LEARNING_RATE * (progress / WARMUP_FRACTION if progress < WARMUP_FRACTION else 1.0 - 0.9 * (progress - WARMUP_FRACTION) / (1.0 - WARMUP_FRACTION))
        for group in optimizer.param_groups:
            group["lr"] = lr
        starts = torch.randint(0, len(data) - BLOCK_SIZE - 1, (BATCH_SIZE,), generator=generator)
        x = torch.stack([data[i : i + BLOCK_SIZE] for i in starts.tolist()]).to(device)
        y = torch.stack([data[i + 1 : i + BLOCK_SIZE + 1] for i in starts.tolist()]).to(device)
        logits = model(x)
        loss = F.cross_entropy(logits.view(-1, VOCAB_SIZE), y.view(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        value = loss.item()
        smooth = value if smooth is None else 0.95 * smooth + 0.05 * value
        if clock.wall() - last_report >= 2.0:
            last_report = clock.wall()
            print(f"step {step:05d} | loss {smooth / math.log(2):.4f} bits | lr {lr:.2e} | {clock.elapsed():.1f}s of {clock.seconds:g}s", flush=True)
    training_seconds = clock.elapsed()

    model.eval()
    val_bpb = evaluate_bpb(model, BLOCK_SIZE, "val", device)
    peak = peak_memory_mb(device)
    checkpoint = save_checkpoint(model, {"block_size": BLOCK_SIZE, "vocab_size": VOCAB_SIZE, "vocab_sha": VOCAB_SHA, "peak_vram_mb": peak, "device": device, "steps": step, "training_seconds": training_seconds, "seed": seed})

    print("---")
    print(f"val_bpb:          {val_bpb:.6f}")
    print(f"training_seconds: {training_seconds:.1f}")
    print(f"total_seconds:    {time.perf_counter() - started:.1f}")
    print(f"peak_vram_mb:     {peak:.1f}")
    print(f"num_steps:        {step}")
    print(f"num_params_M:     {params / 1e6:.3f}")
    print(f"device:           {device}")
    print(f"checkpoint:       {checkpoint}")


def save_checkpoint(model, meta):
    """TorchScript, so evaluate.py runs the model without importing this file's code."""
    directory = os.environ.get("STRATA_ARTIFACTS") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "artifacts")
    os.makedirs(directory, exist_ok=True)
    model = model.to("cpu").eval()
    with torch.no_grad():
        traced = torch.jit.trace(model, torch.zeros(1, BLOCK_SIZE, dtype=torch.long))
    path = os.path.join(directory, "model.pt")
    traced.save(path)
    with open(os.path.join(directory, "meta.json"), "w") as handle:
        json.dump(meta, handle, indent=2)
    return path


if __name__ == "__main__":
    try:
        main()
    except HarnessError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
