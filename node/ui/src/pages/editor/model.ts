// The editor's picture of an application document, and the pure operations
// the editor performs on it. An EditorState is never mutated: every change
// answers a new state, so the undo history can keep the old ones as they are.
//
// Edges are kept apart from the steps while editing and are written back as
// `output_to` on the producing step when the document is saved (`data_from`
// is read on load, the same edge seen from the consumer, and not written).
import { edgesOf, positions, type AppStep } from "../../components/graph";

export interface XY {
  x: number;
  y: number;
}

/** One step: its name, the step class it runs, and every other key as is. */
export interface EditorStep {
  name: string;
  file: string;
  /** Parameters, retry options, `syncpack` and any key the editor does not know. */
  keys: Record<string, unknown>;
}

export interface EditorState {
  /** Every top-level key but `steps` (name, friendly_name, app_variables, …). */
  meta: Record<string, unknown>;
  steps: EditorStep[];
  /** Arrows, as [from, to]: data flows from `from` to `to`. */
  edges: [string, string][];
  /** Top-left corner of each step on the canvas. */
  pos: Record<string, XY>;
}

/** An application document as the API stores it. */
export type AppDocument = Record<string, unknown> & { steps?: AppStep[] };

export const EMPTY: EditorState = { meta: { name: "" }, steps: [], edges: [], pos: {} };

const EDGE_KEYS = new Set(["name", "file", "output_to", "data_from"]);

export function fromDocument(doc: AppDocument): EditorState {
  const { steps: rawSteps, ...meta } = doc;
  const appSteps: AppStep[] = Array.isArray(rawSteps)
    ? rawSteps.filter((s): s is AppStep => !!s && typeof s === "object" && typeof s.name === "string")
    : [];
  const steps = appSteps.map((s) => {
    const keys: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s)) if (!EDGE_KEYS.has(k)) keys[k] = v;
    return { name: s.name, file: typeof s.file === "string" ? s.file : "", keys };
  });
  const at = positions(appSteps);
  const pos: Record<string, XY> = {};
  for (const s of steps) pos[s.name] = at.get(s.name) ?? { x: 0, y: 0 };
  return { meta, steps, edges: edgesOf(appSteps), pos };
}

/** The document to store: edges become `output_to` of the producing step. */
export function toDocument(state: EditorState): AppDocument {
  const steps: AppStep[] = state.steps.map((s) => {
    const out = state.edges.filter(([a]) => a === s.name).map(([, b]) => b);
    const step: AppStep = { name: s.name, file: s.file, ...s.keys };
    if (out.length) step.output_to = out;
    return step;
  });
  return { ...state.meta, steps };
}

/** Lays every step out again (dagre, top to bottom), keeping the rest. */
export function relayout(state: EditorState): EditorState {
  return { ...state, pos: fromDocument(toDocument(state)).pos };
}

/** `base`, or `base_2`, `base_3`… whichever no step has yet. */
export function uniqueName(state: EditorState, base: string): string {
  const taken = new Set(state.steps.map((s) => s.name));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) {
    const name = `${base}_${i}`;
    if (!taken.has(name)) return name;
  }
}

export function addStep(state: EditorState, file: string, at: XY): { state: EditorState; name: string } {
  const name = uniqueName(state, file);
  return {
    name,
    state: {
      ...state,
      steps: [...state.steps, { name, file, keys: {} }],
      pos: { ...state.pos, [name]: { x: Math.round(at.x), y: Math.round(at.y) } },
    },
  };
}

export const edgeId = (from: string, to: string) => JSON.stringify([from, to]);

export function parseEdgeId(id: string): [string, string] | null {
  try {
    const v: unknown = JSON.parse(id);
    return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === "string") ? [v[0], v[1]] : null;
  } catch {
    return null;
  }
}

/** Removes steps (and every arrow touching them) and the arrows listed. */
export function remove(state: EditorState, names: string[], edges: [string, string][] = []): EditorState {
  const gone = new Set(names);
  const cut = new Set(edges.map(([a, b]) => edgeId(a, b)));
  const pos = { ...state.pos };
  for (const n of names) delete pos[n];
  return {
    ...state,
    steps: state.steps.filter((s) => !gone.has(s.name)),
    edges: state.edges.filter(([a, b]) => !gone.has(a) && !gone.has(b) && !cut.has(edgeId(a, b))),
    pos,
  };
}

export function hasEdge(state: EditorState, from: string, to: string): boolean {
  return state.edges.some(([a, b]) => a === from && b === to);
}

/** Adds the arrow from → to unless it exists, loops on one step or names a missing step. */
export function connect(state: EditorState, from: string, to: string): EditorState {
  const names = new Set(state.steps.map((s) => s.name));
  if (from === to || !names.has(from) || !names.has(to) || hasEdge(state, from, to)) return state;
  return { ...state, edges: [...state.edges, [from, to]] };
}

/** Moves an arrow's ends: the old arrow is replaced where it was in the list. */
export function reconnect(state: EditorState, old: [string, string], from: string, to: string): EditorState {
  if (old[0] === from && old[1] === to) return state;
  const names = new Set(state.steps.map((s) => s.name));
  if (from === to || !names.has(from) || !names.has(to) || hasEdge(state, from, to)) return state;
  return {
    ...state,
    edges: state.edges.map((e) => (e[0] === old[0] && e[1] === old[1] ? [from, to] : e)),
  };
}

/** Sets the steps `name` sends its data to (the arrows leaving it). */
export function setOutputs(state: EditorState, name: string, targets: string[]): EditorState {
  const kept = state.edges.filter(([a]) => a !== name);
  const names = new Set(state.steps.map((s) => s.name));
  const added = targets.filter((t) => t !== name && names.has(t)).map((t): [string, string] => [name, t]);
  return { ...state, edges: [...kept, ...added] };
}

export function moveSteps(state: EditorState, moved: Record<string, XY>): EditorState {
  const pos = { ...state.pos };
  let changed = false;
  for (const [n, p] of Object.entries(moved)) {
    if (!(n in pos)) continue;
    const q = { x: Math.round(p.x), y: Math.round(p.y) };
    if (pos[n].x !== q.x || pos[n].y !== q.y) {
      pos[n] = q;
      changed = true;
    }
  }
  return changed ? { ...state, pos } : state;
}

/**
 * Replaces step `old` by `next`: a new name is carried into every arrow and
 * position (a rename keeps the step's connections). Answers an error message
 * instead when the new name is empty or taken.
 */
export function replaceStep(state: EditorState, old: string, next: EditorStep): EditorState | string {
  const name = next.name.trim();
  if (!name) return "A step needs a name.";
  if (name !== old && state.steps.some((s) => s.name === name)) return `Another step is already named "${name}".`;
  const step = { ...next, name };
  const rename = (n: string) => (n === old ? name : n);
  const pos = { ...state.pos };
  if (name !== old) {
    pos[name] = pos[old];
    delete pos[old];
  }
  return {
    ...state,
    steps: state.steps.map((s) => (s.name === old ? step : s)),
    edges: state.edges.map(([a, b]) => [rename(a), rename(b)]),
    pos,
  };
}

export function setMeta(state: EditorState, key: string, value: unknown): EditorState {
  const meta = { ...state.meta };
  if (value === undefined || (value === "" && key !== "name")) delete meta[key];
  else meta[key] = value;
  return { ...state, meta };
}

/** Takes the top-level keys of a stored document (the Configure pane's save), keeping the steps as edited. */
export function withMetaOf(state: EditorState, doc: AppDocument): EditorState {
  const { steps: _steps, ...meta } = doc;
  return { ...state, meta };
}
