"""
The protected harness of the nanogpt-cpu example: the corpus, its fixed
splits, the tokenizer, the training time budget and the metric. Trials may
edit train.py but never this file (strata.yaml lists it under `protected`),
so every trial is scored on the same bytes by the same rule.

Layout of data/corpus.txt (fixed character offsets, never shuffled):
    [0, 85%)    train -- the only tokens load_split() hands to training code
    [85%, 95%)  val   -- evaluate.py (the study's metric)
    [95%, 100%) test  -- evaluate.py --split test (the sealed holdout)

Run `python3 prepare.py` to print the facts of the corpus and check that
PyTorch works.
"""

import hashlib
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS_PATH = os.path.join(HERE, "data", "corpus.txt")

TIME_BUDGET = 20        # training time budget in seconds (CPU seconds on a CPU, wall seconds on a GPU)
MAX_BLOCK_SIZE = 256    # the longest context a model may use; evaluation windows are its block size
EVAL_TOKENS = 16384     # characters of a split that are scored: always the same first ones
EVAL_BATCH = 32         # windows per forward pass; every call has this shape, so a traced model evaluates
TRAIN_END = 0.85
VAL_END = 0.95

SPLITS = ("train", "val", "test")


class HarnessError(Exception):
    """A misuse of the harness (bad TRAIN_SECONDS, a model breaking its contract); the message says what to fix."""


def _read_corpus():
    with open(CORPUS_PATH, "r", encoding="ascii") as handle:
        return handle.read()


_TEXT = _read_corpus()
#: The vocabulary: the distinct characters of the whole corpus, sorted, so every split encodes.
CHARS = sorted(set(_TEXT))
VOCAB_SIZE = len(CHARS)
_INDEX = {char: index for index, char in enumerate(CHARS)}
#: Identifies the vocabulary (and so the tokenizer) a checkpoint was trained with.
VOCAB_SHA = hashlib.sha256("".join(CHARS).encode("ascii")).hexdigest()[:16]


def encode(text):
    """Characters to token ids (one token per character; the corpus is ASCII, so per byte)."""
    return [_INDEX[char] for char in text]


def decode(ids):
    return "".join(CHARS[int(index)] for index in ids)


def _bounds(split):
    if split not in SPLITS:
        raise HarnessError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    n = len(_TEXT)
    cuts = {"train": (0, int(n * TRAIN_END)), "val": (int(n * TRAIN_END), int(n * VAL_END)), "test": (int(n * VAL_END), n)}
    return cuts[split]


def load_split(split="train"):
    """The tokens of a split as a 1-D LongTensor. Training code asks for 'train'; scoring is evaluate_bpb's job."""
    start, end = _bounds(split)
    return torch.tensor(encode(_TEXT[start:end]), dtype=torch.long)


def training_seconds():
    """The training budget: TRAIN_SECONDS from the environment if set (tests, quick checks), else TIME_BUDGET."""
    text = os.environ.get("TRAIN_SECONDS")
    if text is None or text == "":
        return float(TIME_BUDGET)
    try:
        value = float(text)
    except ValueError:
        raise HarnessError(f"TRAIN_SECONDS must be a number of seconds, got {text!r}") from None
    if not (0 < value <= 3600):
        raise HarnessError(f"TRAIN_SECONDS must be between 0 and 3600, got {text!r}")
    return value


class TrainingClock:
    """
    The training time budget. On a CPU it counts the process's CPU time (user
    + system, all threads), so on a shared machine each run gets about the
    same compute; it also stops at 1.5 x the budget in wall time, so a trial
    on a crowded machine still ends. On a GPU it counts wall time, since the
    work happens on the device.
    """

    def __init__(self, seconds, device):
        self.seconds = seconds
        self.device = str(device)
        self.wall_start = time.perf_counter()
        self.cpu_start = time.process_time()

    def elapsed(self):
        if self.device.startswith("cuda"):
            return time.perf_counter() - self.wall_start
        return time.process_time() - self.cpu_start

    def wall(self):
        return time.perf_counter() - self.wall_start

    def done(self):
        return self.elapsed() >= self.seconds or self.wall() >= 1.5 * self.seconds

    def fraction(self):
        """How much of the budget is used, 0..1 (for learning rate schedules)."""
        return min(1.0, max(self.elapsed() / self.seconds, self.wall() / (1.5 * self.seconds)))


def start_training_clock(device):
    return TrainingClock(training_seconds(), device)


def peak_memory_mb(device):
    """Peak memory of the training device in MB: CUDA's allocator peak on a GPU, the process's peak RSS on a CPU."""
    if str(device).startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 1024 / 1024
    kilobytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kilobytes / 1024 if sys.platform != "darwin" else kilobytes / 1024 / 1024


def _windows(split, block_size):
    if not (1 <= block_size <= MAX_BLOCK_SIZE):
        raise HarnessError(f"block size must be 1 to {MAX_BLOCK_SIZE}, got {block_size}")
    tokens = load_split(split)[: EVAL_TOKENS + 1]
    count = (len(tokens) - 1) // block_size
    inputs = tokens[: count * block_size].view(count, block_size)
    targets = tokens[1 : count * block_size + 1].view(count, block_size)
    return inputs, targets


def _forward(model, x, device):
    """Logits for a batch padded to EVAL_BATCH windows (so every call has one shape), checked, as float on the CPU."""
    rows = x.shape[0]
    if rows < EVAL_BATCH:
        x = torch.cat([x, torch.zeros(EVAL_BATCH - rows, x.shape[1], dtype=torch.long)])
    with torch.no_grad():
        logits = model(x.to(device)).float().cpu()
    expected = (EVAL_BATCH, x.shape[1], VOCAB_SIZE)
    if tuple(logits.shape) != expected:
        raise HarnessError(f"the model must return logits of shape (batch, block_size, vocab) = {expected}, got {tuple(logits.shape)}")
    if not torch.isfinite(logits).all():
        raise HarnessError("the model returned logits that are not finite (did training diverge?)")
    return logits[:rows]


def check_causal(model, block_size, device):
    """
    A model may use only earlier characters to predict the next one. Change
    the second half of each window: the predictions for the first half must
    not move. A model that peeks ahead would otherwise score impossibly well.
    """
    generator = torch.Generator().manual_seed(0)
    x = torch.randint(0, VOCAB_SIZE, (EVAL_BATCH, block_size), generator=generator)
    changed = x.clone()
    half = block_size // 2
    changed[:, half:] = torch.randint(0, VOCAB_SIZE, (EVAL_BATCH, block_size - half), generator=generator)
    a = _forward(model, x, device)
    b = _forward(model, changed, device)
    if half > 0 and not torch.allclose(a[:, :half], b[:, :half], atol=1e-4, rtol=1e-4):
        raise HarnessError("the model is not causal: its predictions depend on later characters")


def evaluate_bpb(model, block_size, split="val", device="cpu"):
    """
    Bits per character (= per byte: the corpus is ASCII) of `model` on the
    first EVAL_TOKENS characters of `split`, in windows of `block_size`. The
    model maps token ids (batch, T) to logits (batch, T, VOCAB_SIZE); the
    harness takes the softmax itself, so a model cannot hand it probabilities
    that do not sum to one. The ground truth metric: lower is better.
    """
    inputs, targets = _windows(split, block_size)
    check_causal(model, block_size, device)
    total_nats = 0.0
    for start in range(0, len(inputs), EVAL_BATCH):
        x = inputs[start : start + EVAL_BATCH]
        y = targets[start : start + EVAL_BATCH]
        logits = _forward(model, x, device)
        total_nats += F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), y.reshape(-1), reduction="sum").item()
    return total_nats / targets.numel() / math.log(2)


if __name__ == "__main__":
    for split in SPLITS:
        start, end = _bounds(split)
        print(f"{split}: {end - start} characters")
    print(f"vocabulary: {VOCAB_SIZE} characters (sha {VOCAB_SHA}); uniform model: {math.log2(VOCAB_SIZE):.4f} bpb")
    print(f"torch {torch.__version__}, cuda available: {torch.cuda.is_available()}, threads: {torch.get_num_threads()}")
