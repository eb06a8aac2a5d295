// Shapes the Integrations and Application pages read from the API (runs,
// step tasks, their live events, the application document) and small
// helpers over them: terminal states, how a run was started, durations.
import type { AppStep } from "../../components/graph";

export interface AppVariable {
  name: string;
  value?: unknown;
  description?: string;
  required?: boolean | string;
  sample_value?: unknown;
  default_value?: unknown;
}

/** The application document as GET /applications/{name} answers it. */
export interface AppDoc {
  name: string;
  friendly_name?: string;
  description?: string;
  author?: string;
  version?: string;
  configuration?: string | null;
  queue?: string | null;
  app_variables?: AppVariable[];
  steps: AppStep[];
  [key: string]: unknown;
}

/** One step of a run as the run status lists it. */
export interface RunStep {
  href: string;
  id: string;
  name: string;
  state: string;
  attempt: number;
  traceback?: string | null;
  retry_at?: number | null;
  waiting_for?: string | null;
}

export interface Trigger {
  application_id: string;
  /** USER, SCHEDULE, REPLAY, APPLICATION; REPLAY_OF and PARENT name other runs. */
  triggered_by: string;
  step?: string | null;
  schedule_id?: string | null;
}

/** A run started by a Trigger Application step of another run. */
export interface ChildRun {
  id: string;
  href: string;
  app_name: string;
  step: string;
}

/** A run (`isapp-…`) as GET /tasks/{id} and GET /tasks answer it. */
export interface RunStatus {
  app_name: string;
  app_vars?: Record<string, unknown>;
  href: string;
  id: string;
  created_time?: number;
  start_time?: number | null;
  end_time?: number | null;
  state: string;
  queue?: string;
  configuration?: string | null;
  log_level?: number;
  steps: RunStep[];
  triggered_by?: Trigger[];
  children?: ChildRun[];
}

export interface LogRecord {
  time: number;
  level: string;
  levelno: number;
  module: string;
  message: string;
}

export interface Attempt {
  attempt: number;
  worker?: string;
  start_time?: number;
  end_time?: number | null;
  state: string;
  error?: string | null;
}

/** A step task (one step of a run) as GET /tasks/{id} answers it. */
export interface TaskStatus {
  id: string;
  href: string;
  name: string;
  step: string;
  application_id?: string | null;
  state: string;
  queue?: string;
  attempt: number;
  start_time?: number | null;
  end_time?: number | null;
  worker?: string | null;
  logs: LogRecord[];
  logs_total?: number;
  logs_offset?: number;
  result?: unknown;
  result_size?: number | null;
  error?: string | null;
  traceback?: string | null;
  retry_at?: number | null;
  waiting_for?: string | null;
  attempts?: Attempt[];
}

/** `state` events of GET /tasks/{id}/events: the run's or a step's state. */
export interface StateEvent {
  type: "state";
  id: string;
  name: string;
  state: string;
  attempt: number;
  /** Why a ready step does not start yet. */
  waiting_for?: string | null;
  /** When a step in RETRY runs again (seconds since the epoch). */
  retry_at?: number | null;
}

/** `log` events: one record of a step task (`id`, `name`). */
export interface LogEvent extends LogRecord {
  type: "log";
  id: string;
  name: string;
}

/** One declared parameter of a step (GET /steps/{name}). */
export interface DeclaredParam {
  name: string;
  description?: string;
  sample_value?: unknown;
  default_value?: unknown;
  required?: boolean;
  type?: string | null;
}

export interface StepInfo {
  name: string;
  friendly_name?: string;
  description?: string;
  version?: string;
  parameters?: DeclaredParam[];
}

export const TERMINAL = new Set(["SUCCESS", "FAILURE", "REVOKED"]);

export const isTerminal = (state?: string | null) => !!state && TERMINAL.has(state);

/** Keys of a step entry that are not parameter values. */
export const STRUCTURE_KEYS = new Set(["name", "file", "syncpack", "output_to", "data_from"]);
export const RETRY_KEYS = ["retry_max", "retry_backoff", "retry_jitter", "retry_backoff_max", "retry_countdown"];

/** How the run was started: USER, SCHEDULE, REPLAY or APPLICATION. */
export function triggerOf(run: Pick<RunStatus, "id" | "triggered_by">): string {
  const own = run.triggered_by?.find((t) => t.application_id === run.id) ?? run.triggered_by?.[0];
  return own?.triggered_by ?? "—";
}

/** The run whose step started this one, or that this run replays. */
export function relatedRun(run: RunStatus, kind: "PARENT" | "REPLAY_OF"): Trigger | undefined {
  return run.triggered_by?.find((t) => t.triggered_by === kind);
}

/** "1.2 s", "3 min 4 s": how long from start to end (or to now). */
export function duration(start?: number | null, end?: number | null): string {
  if (!start) return "—";
  const secs = Math.max(0, (end ?? Date.now() / 1000) - start);
  if (secs < 10) return `${secs.toFixed(1)} s`;
  if (secs < 120) return `${Math.round(secs)} s`;
  const m = Math.floor(secs / 60);
  if (m < 120) return `${m} min ${Math.round(secs - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A log time as HH:MM:SS.mmm (local). */
export function clock(secs: number): string {
  const d = new Date(secs * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** A value as text: strings as they are, anything else as JSON. */
export function show(v: unknown): string {
  if (v === undefined) return "";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** Short form of a run id for lists (`isapp-1234abcd…`). */
export function shortId(id: string): string {
  return id.length > 18 ? `${id.slice(0, 14)}…` : id;
}

