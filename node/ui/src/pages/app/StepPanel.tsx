// The panel of one step of the application page, in three tabs: its
// parameters (the values the application gives, next to what the step
// declares), its log in the selected run (following live records), and
// its result, error and traceback with every attempt.
import { useEffect, useId, useRef, useState } from "react";
import { enc, get } from "../../api";
import { ErrorBox, StateBadge, time } from "../../components/common";
import { edgesOf, type AppStep } from "../../components/graph";
import { LogTable } from "./LogTable";
import type { LogBus } from "./useLiveRun";
import {
  RETRY_KEYS,
  STRUCTURE_KEYS,
  clock,
  duration,
  isTerminal,
  show,
  type LogRecord,
  type RunStep,
  type StepInfo,
  type TaskStatus,
} from "./types";

type Tab = "params" | "log" | "result";
const TABS: [Tab, string][] = [
  ["params", "Parameters"],
  ["log", "Log"],
  ["result", "Result"],
];
const LOG_PAGE = 1000;

const logKey = (l: LogRecord) => `${l.time}\u0000${l.levelno}\u0000${l.module}\u0000${l.message}`;

export interface StepPanelProps {
  step: AppStep;
  /** Every step of the application (for the arrows in and out of this one). */
  steps: AppStep[];
  /** The step in the selected run, if it has one. */
  status?: RunStep;
  logs: LogBus;
  live: boolean;
  onClose: () => void;
}

export function StepPanel({ step, steps, status, logs, live, onClose }: StepPanelProps) {
  const [tab, setTab] = useState<Tab>(status?.state === "FAILURE" ? "result" : status ? "log" : "params");
  const id = useId();
  const [task, setTask] = useState<TaskStatus | null>(null);
  const [taskError, setTaskError] = useState<unknown>(null);
  const [records, setRecords] = useState<LogRecord[]>([]);
  const seen = useRef(new Set<string>());
  const taskId = status?.id ?? null;

  // Live records of this step task, merged with what was read (no doubles).
  const add = (batch: LogRecord[]) => {
    const fresh = batch.filter((l) => {
      const k = logKey(l);
      if (seen.current.has(k)) return false;
      seen.current.add(k);
      return true;
    });
    if (fresh.length) setRecords((prev) => [...prev, ...fresh].sort((a, b) => a.time - b.time));
  };

  useEffect(() => {
    seen.current = new Set();
    setRecords([]);
    setTask(null);
    setTaskError(null);
    if (!taskId) return;
    const stop = logs.subscribe((e) => {
      if (e.id === taskId) add([e]);
    });
    add(logs.received(taskId));
    return stop;
  }, [taskId, logs]);

  // The step task's status, read again whenever its state changes.
  const state = status?.state;
  const attempt = status?.attempt;
  useEffect(() => {
    if (!taskId) return;
    const ac = new AbortController();
    get<TaskStatus>(`/tasks/${enc(taskId)}?logs_limit=${LOG_PAGE}`, ac.signal)
      .then((t) => {
        setTask(t);
        setTaskError(null);
        add(t.logs ?? []);
      })
      .catch((e) => {
        if (!ac.signal.aborted) setTaskError(e);
      });
    return () => ac.abort();
  }, [taskId, state, attempt]);

  return (
    <section className="panel run-step-panel" aria-label={`Step ${step.name}`}>
      <header className="run-side-head">
        <h2>
          {step.name} <span className="muted">({step.file ?? "?"})</span>
        </h2>
        <StateBadge state={status?.state} />
        <button className="icon" aria-label="Close step panel" onClick={onClose}>
          ✕
        </button>
      </header>
      <div className="tabs" role="tablist" aria-label="Step details">
        {TABS.map(([t, label]) => (
          <button
            key={t}
            role="tab"
            id={`${id}-${t}`}
            aria-selected={tab === t}
            aria-controls={`${id}-${t}-panel`}
            onClick={() => setTab(t)}
          >
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${id}-${tab}-panel`} aria-labelledby={`${id}-${tab}`} className="run-tabpanel">
        {tab === "params" && <Parameters step={step} steps={steps} />}
        {tab === "log" &&
          (taskId ? (
            <>
              <ErrorBox error={taskError} />
              <LogTable logs={records} live={live && !isTerminal(state)} total={task?.logs_total} />
            </>
          ) : (
            <p className="empty">This step has no task in the selected run.</p>
          ))}
        {tab === "result" &&
          (taskId ? <Result task={task} status={status} error={taskError} /> : <p className="empty">This step has no task in the selected run.</p>)}
      </div>
    </section>
  );
}

/** The step's parameter values from the application, with its declarations. */
function Parameters({ step, steps }: { step: AppStep; steps: AppStep[] }) {
  const [info, setInfo] = useState<StepInfo | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    if (!step.file) return;
    const ac = new AbortController();
    get<StepInfo>(`/steps/${enc(step.file)}`, ac.signal)
      .then(setInfo)
      .catch((e) => {
        if (!ac.signal.aborted) setError(e);
      });
    return () => ac.abort();
  }, [step.file]);

  const declared = info?.parameters ?? [];
  const declaredNames = new Set(declared.map((p) => p.name));
  const extra = Object.keys(step).filter(
    (k) => !STRUCTURE_KEYS.has(k) && !RETRY_KEYS.includes(k) && !declaredNames.has(k),
  );
  const retries = RETRY_KEYS.filter((k) => step[k] !== undefined);
  const edges = edgesOf(steps);
  const from = edges.filter(([, b]) => b === step.name).map(([a]) => a);
  const to = edges.filter(([a]) => a === step.name).map(([, b]) => b);
  return (
    <div>
      {error ? (
        <div className="notice">The step's declaration could not be read: {(error as Error).message}</div>
      ) : null}
      {info?.description ? <p className="muted">{info.description}</p> : null}
      <table className="run-params">
        <thead>
          <tr>
            <th scope="col">Parameter</th>
            <th scope="col">Value</th>
            <th scope="col">Default</th>
          </tr>
        </thead>
        <tbody>
          {declared.map((p) => (
            <tr key={p.name}>
              <td title={p.description || undefined}>
                <strong>{p.name}</strong>
                {p.required ? <span className="run-required" title="required"> *</span> : null}
                {p.type ? <div className="muted small">{p.type}</div> : null}
                {p.description ? <div className="muted small">{p.description}</div> : null}
              </td>
              <td className="run-value">
                {step[p.name] !== undefined ? show(step[p.name]) : <span className="muted">—</span>}
              </td>
              <td className="run-value muted">{p.default_value != null ? show(p.default_value) : "—"}</td>
            </tr>
          ))}
          {extra.map((k) => (
            <tr key={k}>
              <td>
                <strong>{k}</strong>
                {info ? <div className="muted small">not declared by the step</div> : null}
              </td>
              <td className="run-value">{show(step[k])}</td>
              <td className="muted">—</td>
            </tr>
          ))}
          {declared.length === 0 && extra.length === 0 ? (
            <tr>
              <td colSpan={3} className="muted">
                {info ? "This step takes no parameters." : "Loading…"}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <h3>Retries</h3>
      {retries.length ? (
        <ul className="run-facts">
          {retries.map((k) => (
            <li key={k}>
              {k}: <code>{show(step[k])}</code>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No retry (retry_max 0).</p>
      )}
      <h3>Data flow</h3>
      <ul className="run-facts">
        <li>reads from: {from.length ? from.join(", ") : "—"}</li>
        <li>sends to: {to.length ? to.join(", ") : "—"}</li>
        {step.syncpack ? <li>SyncPack: {step.syncpack}</li> : null}
      </ul>
    </div>
  );
}

/** State, times, error, traceback and saved data of the step task. */
function Result({ task, status, error }: { task: TaskStatus | null; status?: RunStep; error: unknown }) {
  if (error) return <ErrorBox error={error} />;
  if (!task) return <p className="muted">Loading…</p>;
  const traceback = task.traceback ?? status?.traceback;
  return (
    <div>
      <dl className="run-dl">
        <dt>State</dt>
        <dd>
          <StateBadge state={task.state} />
        </dd>
        <dt>Attempt</dt>
        <dd>{task.attempt || "—"}</dd>
        <dt>Worker</dt>
        <dd>{task.worker ?? "—"}</dd>
        <dt>Started</dt>
        <dd>{time(task.start_time)}</dd>
        <dt>Took</dt>
        <dd>{task.end_time ? duration(task.start_time, task.end_time) : "—"}</dd>
        {task.waiting_for ? (
          <>
            <dt>Waiting for</dt>
            <dd>{task.waiting_for}</dd>
          </>
        ) : null}
        {task.retry_at ? (
          <>
            <dt>Next attempt</dt>
            <dd>{clock(task.retry_at)}</dd>
          </>
        ) : null}
      </dl>
      {task.error ? (
        <div className="error">
          <strong>{task.error}</strong>
        </div>
      ) : null}
      {traceback ? (
        <>
          <h3>Traceback</h3>
          <pre className="run-traceback" aria-label="Traceback">
            {traceback}
          </pre>
        </>
      ) : null}
      <h3>Saved data</h3>
      {task.result_size ? (
        <p className="notice">The result is {task.result_size} bytes of JSON, too large to show here.</p>
      ) : task.result === null || task.result === undefined ? (
        <p className="muted">{isTerminal(task.state) ? "The step saved nothing." : "Not finished yet."}</p>
      ) : (
        <pre className="run-result" aria-label="Saved data">
          {JSON.stringify(task.result, null, 2)}
        </pre>
      )}
      {task.attempts && task.attempts.length > 1 ? (
        <>
          <h3>Attempts</h3>
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">State</th>
                <th scope="col">Worker</th>
                <th scope="col">Started</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {task.attempts.map((a) => (
                <tr key={a.attempt}>
                  <td>{a.attempt}</td>
                  <td>
                    <StateBadge state={a.state} />
                  </td>
                  <td>{a.worker ?? "—"}</td>
                  <td className="nowrap">{a.start_time ? clock(a.start_time) : "—"}</td>
                  <td>{a.error ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </div>
  );
}
