// The live state of one run: loads its status, follows its server-sent
// events until the `end` event (reconnecting if the stream drops), applies
// each state change as it comes, and hands log records to whoever listens
// (the step panel). While the run is unfinished the status is also
// re-read now and then for what events do not carry (waiting_for,
// retry_at, child runs).
import { useCallback, useEffect, useRef, useState } from "react";
import { enc, followEvents, get, type TaskEvent } from "../../api";
import { isTerminal, type LogEvent, type RunStatus, type RunStep, type StateEvent } from "./types";

type LogListener = (e: LogEvent) => void;

/**
 * Log records of a run as they arrive, for any number of listeners. The
 * records of each step task are also kept (up to a bound) from the moment
 * the page started following, so a panel opened mid-run shows them at once
 * (the stream starts from the run's beginning; the step's status holds them
 * too, a moment later).
 */
export class LogBus {
  private listeners = new Set<LogListener>();
  private kept = new Map<string, LogEvent[]>();
  static readonly KEEP = 5000;
  subscribe(l: LogListener): () => void {
    this.listeners.add(l);
    return () => {
      this.listeners.delete(l);
    };
  }
  emit(e: LogEvent) {
    let list = this.kept.get(e.id);
    if (!list) this.kept.set(e.id, (list = []));
    if (list.length < LogBus.KEEP) list.push(e);
    this.listeners.forEach((l) => l(e));
  }
  /** What the stream brought so far for one step task. */
  received(taskId: string): LogEvent[] {
    return this.kept.get(taskId) ?? [];
  }
  clear() {
    this.kept.clear();
  }
}

const STATE_RANK: Record<string, number> = { PENDING: 0, STARTED: 1, RETRY: 2, SUCCESS: 3, FAILURE: 3, REVOKED: 3 };
const rank = (s: Pick<RunStep, "state" | "attempt">) => (s.attempt ?? 0) * 10 + (STATE_RANK[s.state] ?? 0);

/**
 * A status read from the API may be older than events already applied:
 * keep whichever state of each step is further along.
 */
function merge(prev: RunStatus | null, next: RunStatus): RunStatus {
  if (!prev || prev.id !== next.id) return next;
  const before = new Map(prev.steps.map((s) => [s.id, s]));
  const steps = next.steps.map((s) => {
    const p = before.get(s.id);
    return p && rank(p) > rank(s) ? { ...s, state: p.state, attempt: p.attempt } : s;
  });
  const state = isTerminal(prev.state) && !isTerminal(next.state) ? prev.state : next.state;
  return { ...next, state, steps };
}

function applyState(run: RunStatus, e: StateEvent): RunStatus {
  if (e.id === run.id) return { ...run, state: e.state };
  let hit = false;
  const steps = run.steps.map((s) => {
    if (s.id !== e.id && !(s.name === e.name && !run.steps.some((o) => o.id === e.id))) return s;
    hit = true;
    return {
      ...s,
      state: e.state,
      attempt: e.attempt,
      waiting_for: e.waiting_for ?? null,
      retry_at: e.retry_at ?? null,
    };
  });
  if (!hit) steps.push({ id: e.id, href: `/api/v1/tasks/${e.id}`, name: e.name, state: e.state, attempt: e.attempt });
  return { ...run, steps };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

// The answer of the call that started a run, so that the page showing it
// can follow its events at once instead of reading the status first.
let primed: RunStatus | null = null;

/** Hands a run status just received (e.g. from POST /applications/run) to the next useLiveRun of that id. */
export function primeRun(r: RunStatus) {
  primed = r;
}

export interface LiveRun {
  run: RunStatus | null;
  error: unknown;
  /** True while the event stream is open. */
  live: boolean;
  logs: LogBus;
  /** Replaces the status (e.g. with the answer of a revoke). */
  setRun: (r: RunStatus) => void;
}

export function useLiveRun(runId: string | null): LiveRun {
  const [run, setRunState] = useState<RunStatus | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState(false);
  const bus = useRef(new LogBus()).current;
  const current = useRef<RunStatus | null>(null);
  useEffect(() => {
    current.current = run;
  }, [run]);

  useEffect(() => {
    setRunState(null);
    setError(null);
    setLive(false);
    bus.clear();
    if (!runId) return;
    const ac = new AbortController();
    const signal = ac.signal;
    const refresh = async (): Promise<RunStatus | null> => {
      try {
        const s = await get<RunStatus>(`/tasks/${enc(runId)}`, signal);
        if (!signal.aborted) {
          setRunState((prev) => merge(prev, s));
          setError(null);
        }
        return s;
      } catch (e) {
        if (!signal.aborted) setError(e);
        return null;
      }
    };
    const onEvent = (e: TaskEvent): boolean => {
      const d = e.data as { type?: string; status?: RunStatus };
      if (e.kind === "state") {
        const st = d as StateEvent;
        // The event says why a step waits and when a retry runs.
        setRunState((prev) => (prev ? applyState(prev, st) : prev));
      } else if (e.kind === "log") {
        bus.emit(d as LogEvent);
      } else if (e.kind === "end") {
        if (d.status && Array.isArray(d.status.steps)) setRunState(d.status);
        return true;
      }
      return false;
    };
    (async () => {
      let first: RunStatus | null;
      if (primed && primed.id === runId) {
        first = primed;
        primed = null;
        setRunState(first);
      } else {
        first = await refresh();
      }
      if (!first || isTerminal(first.state)) return;
      let ended = false;
      // Where the stream stands: a new connection goes on from there.
      let cursor: string | undefined;
      for (let tries = 0; !ended && !signal.aborted; tries++) {
        setLive(true);
        try {
          cursor = await followEvents(
            runId,
            (e) => {
              if (e.id) cursor = e.id;
              if (onEvent(e)) ended = true;
            },
            signal,
            cursor,
          );
        } catch (e) {
          if (signal.aborted) return;
          if (tries >= 3) setError(e);
        } finally {
          if (!signal.aborted) setLive(false);
        }
        if (ended || signal.aborted) break;
        // The stream closed early: read the status, then listen again.
        const s = await refresh();
        if (s && isTerminal(s.state)) break;
        await sleep(Math.min(5000, 500 * (tries + 1)), signal);
      }
    })();
    // What events do not carry (child runs, a reason to wait that changed
    // while the state did not) is re-read while the run is unfinished.
    const poll = setInterval(() => {
      const now = current.current;
      if (now && now.id === runId && !isTerminal(now.state)) void refresh();
    }, 3000);
    return () => {
      ac.abort();
      clearInterval(poll);
    };
  }, [runId, bus]);

  const setRun = useCallback((r: RunStatus) => setRunState((prev) => merge(prev, r)), []);
  return { run, error, live, logs: bus, setRun };
}
