/**
 * Repositories shaped like karpathy/autoresearch, for `strata init` tests:
 * prepare.py with the fixed constants, train.py printing autoresearch's
 * end-of-run summary, program.md with its grep and goal, a uv project.
 */

export const PREPARE_PY = `"""Fixed constants, data and evaluation. Do not modify."""
import os
MAX_SEQ_LEN = 2048       # context length
TIME_BUDGET = 300        # training time budget in seconds (5 minutes)
EVAL_TOKENS = 40 * 524288
CACHE_DIR = os.path.join(os.path.expanduser("~"), ".cache", "autoresearch")

def evaluate_bpb(model, tokenizer, batch_size):
    return 1.0
`;

export const TRAIN_PY = `from prepare import MAX_SEQ_LEN, TIME_BUDGET, evaluate_bpb
DEPTH = 8
MATRIX_LR = 0.04
for step in range(10):
    print(f"step {step:05d} | loss: {1.0:.6f}")
val_bpb = evaluate_bpb(None, None, 1)
print("---")
print(f"val_bpb:          {val_bpb:.6f}")
print(f"training_seconds: {300.1:.1f}")
print(f"total_seconds:    {325.9:.1f}")
print(f"peak_vram_mb:     {45060.2:.1f}")
print(f"mfu_percent:      {39.80:.2f}")
print(f"num_steps:        {953}")
`;

export const PROGRAM_MD = `# autoresearch

Each experiment runs on a single GPU. You launch it simply as: \`uv run train.py\`.

**The goal is simple: get the lowest val_bpb.**

5. Read out the results: \`grep "^val_bpb:\\|^peak_vram_mb:" run.log\`
`;

/** The files of an autoresearch checkout (without data, which lives in ~/.cache there). */
export function autoresearchFiles(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const files: Record<string, string | undefined> = {
    'prepare.py': PREPARE_PY,
    'train.py': TRAIN_PY,
    'program.md': PROGRAM_MD,
    'pyproject.toml': '[project]\nname = "autoresearch"\nrequires-python = ">=3.10"\ndependencies = ["torch==2.9.1"]\n',
    'uv.lock': 'version = 1\n',
    '.python-version': '3.10\n',
    'README.md': '# autoresearch\n',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(files).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/** A machine with the given commands on PATH and the given environment. */
export function machine(commands: string[], env: Record<string, string> = {}) {
  return { hasCommand: (name: string) => commands.includes(name), env, home: '/home/researcher' };
}
