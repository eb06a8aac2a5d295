"""Driver of the Celery side of the benchmark (started by run_celery.sh).

    python3 driver.py          run every shape (one warm-up, then the measured
                               run) and print ONE JSON object on stdout
    python3 driver.py --ping   exit 0 once a worker answers a ping

Needs BENCH_REDIS_URL (see tasks.py) and, for the report, BENCH_CONCURRENCY
(the worker's --concurrency). Progress goes to stderr; stdout carries only the
JSON object.
"""

import json
import os
import sys
import threading
import time

import celery
from celery import chain, chord, group

from tasks import app, fibo, fibo_step, join, step

# Upper bound of every wait on a result (seconds).
RESULT_TIMEOUT = float(os.environ.get("BENCH_RESULT_TIMEOUT", "120"))

CHAIN_LEN = 100
FANOUT_WIDTH = 100
WINDMILL_LEN = 40
RUNS = 1000
CLIENTS = 8


def log(msg):
    print(f"[celery-bench] {msg}", file=sys.stderr, flush=True)


def percentile(values, pct):
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no samples")
    pos = (len(ordered) - 1) * pct / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def chain_results(last):
    """AsyncResults of a chain, first step first (walks .parent links)."""
    nodes = []
    node = last
    while node is not None:
        nodes.append(node)
        node = node.parent
    nodes.reverse()
    return nodes


def shape_chain100():
    """100 no-op steps in a chain; returns (seconds, dispatch samples in ms)."""
    t0 = time.perf_counter()
    submitted = time.time()
    first = step.s({"i": 0, "end": submitted})
    res = chain(first, *[step.s() for _ in range(CHAIN_LEN - 1)]).apply_async()
    out = res.get(timeout=RESULT_TIMEOUT)
    elapsed = time.perf_counter() - t0
    if out["i"] != CHAIN_LEN:
        raise RuntimeError(f"chain100 ended with i={out['i']}")
    # Not timed: read every step's result back for the dispatch latencies.
    nodes = chain_results(res)
    if len(nodes) != CHAIN_LEN:
        raise RuntimeError(f"chain100 has {len(nodes)} results")
    metas = [n.get(timeout=RESULT_TIMEOUT) for n in nodes]
    samples = [(m["start"] - m["ready"]) * 1000.0 for m in metas]
    return elapsed, samples


def shape_fanout100():
    """100 parallel no-op steps joined by one (a chord); returns seconds."""
    t0 = time.perf_counter()
    submitted = time.time()
    header = group(step.s({"i": k, "end": submitted}) for k in range(FANOUT_WIDTH))
    res = chord(header, join.s()).apply_async()
    out = res.get(timeout=RESULT_TIMEOUT)
    elapsed = time.perf_counter() - t0
    expected = sum(k + 1 for k in range(FANOUT_WIDTH))
    if out["n"] != FANOUT_WIDTH or out["sum"] != expected:
        raise RuntimeError(f"fanout100 joined {out}")
    return elapsed


def shape_windmill40():
    """40 sequential fibo(10) steps in a chain; returns seconds."""
    t0 = time.perf_counter()
    submitted = time.time()
    first = fibo_step.s({"i": 0, "end": submitted})
    res = chain(first, *[fibo_step.s() for _ in range(WINDMILL_LEN - 1)]).apply_async()
    out = res.get(timeout=RESULT_TIMEOUT)
    elapsed = time.perf_counter() - t0
    if out["i"] != WINDMILL_LEN or out["fibo"] != fibo(10):
        raise RuntimeError(f"windmill40 ended with {out}")
    return elapsed


def shape_runs1000():
    """1,000 one-step runs from 8 client threads; returns runs per second.

    Each client submits its share without waiting, then waits for each of its
    results. The clock runs from the moment all clients are released until
    the last one has seen all its results SUCCESS.
    """
    shares = [RUNS // CLIENTS + (1 if c < RUNS % CLIENTS else 0) for c in range(CLIENTS)]
    start_gate = threading.Barrier(CLIENTS + 1)
    errors = []
    done = [0] * CLIENTS

    def client(idx, count):
        try:
            start_gate.wait(timeout=RESULT_TIMEOUT)
            pending = [step.apply_async(({"i": k, "end": time.time()},)) for k in range(count)]
            for k, res in enumerate(pending):
                out = res.get(timeout=RESULT_TIMEOUT)
                if res.state != "SUCCESS" or out["i"] != k + 1:
                    raise RuntimeError(f"run {k} of client {idx}: {res.state} {out}")
                done[idx] += 1
        except Exception as exc:  # reported by the main thread
            errors.append(f"client {idx}: {exc!r}")

    threads = [
        threading.Thread(target=client, args=(c, n), name=f"client-{c}", daemon=True)
        for c, n in enumerate(shares)
    ]
    for t in threads:
        t.start()
    start_gate.wait(timeout=RESULT_TIMEOUT)
    t0 = time.perf_counter()
    deadline = time.monotonic() + RESULT_TIMEOUT * 2
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    elapsed = time.perf_counter() - t0
    if any(t.is_alive() for t in threads):
        raise RuntimeError(f"runs1000: clients still waiting after the deadline ({sum(done)} done)")
    if errors:
        raise RuntimeError("runs1000: " + "; ".join(errors))
    if sum(done) != RUNS:
        raise RuntimeError(f"runs1000: {sum(done)} of {RUNS} runs succeeded")
    return RUNS / elapsed


REPEATS = 5
RUNS_REPEATS = 3


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def ping():
    replies = app.control.ping(timeout=1.0)
    return 0 if replies else 1


def main():
    if sys.argv[1:] == ["--ping"]:
        return ping()

    # One warm-up, then the median of REPEATS timed runs of each shape (a
    # single run varies by a third on a small VM); the dispatch samples of
    # all timed chain runs are pooled. The Integration Service driver
    # (tests/src/bin/is-bench.rs) does the same.
    log("chain100: warm-up")
    shape_chain100()
    chains = [shape_chain100() for _ in range(REPEATS)]
    chain_s = median([c[0] for c in chains])
    samples = [s for c in chains for s in c[1]]
    log(f"chain100: {chain_s:.3f} s")

    log("fanout100_join: warm-up")
    shape_fanout100()
    fanout_s = median([shape_fanout100() for _ in range(REPEATS)])
    log(f"fanout100_join: {fanout_s:.3f} s")

    log("windmill40: warm-up")
    shape_windmill40()
    windmill_s = median([shape_windmill40() for _ in range(REPEATS)])
    log(f"windmill40: {windmill_s:.3f} s")

    log("runs1000: warm-up")
    shape_runs1000()
    runs_per_s = median([shape_runs1000() for _ in range(RUNS_REPEATS)])
    log(f"runs1000: {runs_per_s:.1f} runs/s")

    report = {
        "chain100_s": round(chain_s, 6),
        "fanout100_join_s": round(fanout_s, 6),
        "windmill40_s": round(windmill_s, 6),
        "runs1000_per_s": round(runs_per_s, 3),
        "dispatch_p50_ms": round(percentile(samples, 50), 3),
        "dispatch_p99_ms": round(percentile(samples, 99), 3),
        "celery_version": celery.__version__,
        "workers": int(os.environ.get("BENCH_CONCURRENCY", "0")),
        "durability": "redis default (no fsync per write)",
    }
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
