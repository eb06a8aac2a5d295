"""Celery app and tasks for the Celery 5 + Redis side of the benchmark.

The worker and the driver both import this module. The broker and the result
backend are the private Redis that run_celery.sh starts; its URL comes from
BENCH_REDIS_URL (broker in database 0, results in database 1).

Every task takes the dict its predecessor returned (or the one the driver
built) and returns a small dict of the same kind:

    {"i": n, "ready": t_prev_end, "start": t_start, "end": t_end}

"end" is the moment the task finished its body, by time.time(); the next task
in a chain receives it as prev["end"] and records it as "ready", so
start - ready is the time from "step ready" to "step started". For the first
task the driver puts the submission time in "end".
"""

import os
import time

from celery import Celery

BASE_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")

app = Celery("bench", broker=f"{BASE_URL}/0", backend=f"{BASE_URL}/1")
app.conf.update(
    # JSON everywhere (the Celery default, stated so nothing can change it).
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # One message reserved per pool process at a time, as run_celery.sh also
    # asks on the command line; with -O fair that is the usual latency setup.
    worker_prefetch_multiplier=1,
    # Silences the Celery 5 deprecation warning; the broker is up before the
    # worker starts anyway.
    broker_connection_retry_on_startup=True,
)


def fibo(n):
    return n if n < 2 else fibo(n - 1) + fibo(n - 2)


@app.task(name="bench.step")
def step(prev):
    """No-op step: pass the counter on, with the timestamps."""
    started = time.time()
    return {"i": prev["i"] + 1, "ready": prev["end"], "start": started, "end": time.time()}


@app.task(name="bench.fibo_step")
def fibo_step(prev):
    """One step of the workflow-engine comparison: compute fibo(10)."""
    started = time.time()
    value = fibo(10)
    return {
        "i": prev["i"] + 1,
        "fibo": value,
        "ready": prev["end"],
        "start": started,
        "end": time.time(),
    }


@app.task(name="bench.join")
def join(results):
    """Final step of the fan-out: receives every branch's result."""
    started = time.time()
    return {
        "n": len(results),
        "sum": sum(r["i"] for r in results),
        "start": started,
        "end": time.time(),
    }
