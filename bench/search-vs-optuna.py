#!/usr/bin/env python3
"""Optuna's side of bench/search-vs-optuna.ts.

Started by the Node bench, never by hand. It holds no objective functions:
for every trial it asks the Node side for the loss, so both sides optimize
exactly the same definitions. Protocol, one JSON object per line:

  node -> python  {"type": "run", "id": ..., "sampler": "tpe", "seed": 0, "trials": 100,
                   "space": {...Strata search space...}, "order": [names, parents first]}
  python -> node  {"type": "ask", "id": ..., "params": {...active parameters...}}
  node -> python  {"type": "tell", "loss": 1.23}
  python -> node  {"type": "done", "id": ..., "seconds": 0.8}
  node -> python  {"type": "exit"}

Samplers: tpe = TPESampler() with its defaults, tpe-mv = TPESampler(multivariate=True)
(plus group=True on conditional spaces, which multivariate TPE needs there), random =
RandomSampler(), cmaes = CmaEsSampler() (continuous spaces only). All seeded with the
run's seed.
"""
import json
import sys
import time
import warnings


def main():
    try:
        import optuna
    except ImportError as error:  # the Node side turns this into a skip with the reason
        print(json.dumps({"type": "unavailable", "reason": f"cannot import optuna: {error}"}), flush=True)
        return
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    # Experimental-feature warnings (multivariate, group) would interleave with the protocol on stderr only; silence them.
    warnings.filterwarnings("ignore")
    print(json.dumps({"type": "ready", "optuna": optuna.__version__}), flush=True)

    while True:
        line = sys.stdin.readline()
        if not line:
            return
        message = json.loads(line)
        if message["type"] == "exit":
            return
        if message["type"] != "run":
            raise ValueError(f"unexpected message {message!r}")
        run(optuna, message)


def make_sampler(optuna, name, seed, conditional):
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "tpe-mv":
        return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=conditional)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r}")


def is_active(spec, params):
    for parent, allowed in (spec.get("when") or {}).items():
        values = allowed if isinstance(allowed, list) else [allowed]
        if parent not in params or params[parent] not in values:
            return False
    return True


def suggest(trial, name, spec):
    kind = spec["type"]
    if kind == "float":
        return trial.suggest_float(name, spec["low"], spec["high"], log=bool(spec.get("log", False)))
    if kind == "int":
        return trial.suggest_int(name, spec["low"], spec["high"], log=bool(spec.get("log", False)))
    return trial.suggest_categorical(name, spec["values"])


def run(optuna, message):
    space = message["space"]
    conditional = any(spec.get("when") for spec in space.values())
    sampler = make_sampler(optuna, message["sampler"], message["seed"], conditional)
    study = optuna.create_study(sampler=sampler, direction="minimize")

    def objective(trial):
        params = {}
        for name in message["order"]:
            spec = space[name]
            if is_active(spec, params):
                params[name] = suggest(trial, name, spec)
        print(json.dumps({"type": "ask", "id": message["id"], "params": params}), flush=True)
        reply = json.loads(sys.stdin.readline())
        if reply.get("type") != "tell":
            raise ValueError(f"expected a tell, got {reply!r}")
        return reply["loss"]

    started = time.perf_counter()
    study.optimize(objective, n_trials=message["trials"])
    print(json.dumps({"type": "done", "id": message["id"], "seconds": time.perf_counter() - started}), flush=True)


if __name__ == "__main__":
    main()
