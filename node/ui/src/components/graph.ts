// The step graph of an application as React Flow nodes and edges, laid out
// automatically by dagre (top to bottom). Both the application page and the
// editor draw through this, so an arrow means the same thing everywhere:
// data flows from a step to every step in its `output_to` and from every
// step in its `data_from` (the same edge seen from the consumer).
import { graphlib, layout } from "@dagrejs/dagre";
import type { Edge, Node } from "@xyflow/react";

export interface AppStep {
  name: string;
  file?: string;
  syncpack?: string;
  output_to?: string[];
  data_from?: string[];
  [param: string]: unknown;
}

export const NODE_W = 210;
export const NODE_H = 58;

/** Every edge of the graph once, as [from, to]. */
export function edgesOf(steps: AppStep[]): [string, string][] {
  const names = new Set(steps.map((s) => s.name));
  const seen = new Set<string>();
  const out: [string, string][] = [];
  const add = (from: string, to: string) => {
    const key = `${from}\u0000${to}`;
    if (!names.has(from) || !names.has(to) || seen.has(key)) return;
    seen.add(key);
    out.push([from, to]);
  };
  for (const s of steps) {
    for (const t of s.output_to ?? []) add(s.name, t);
    for (const f of s.data_from ?? []) add(f, s.name);
  }
  return out;
}

/** Positions (top-left corners) for each step name. */
export function positions(steps: AppStep[]): Map<string, { x: number; y: number }> {
  const g = new graphlib.Graph();
  g.setGraph({ rankdir: "TB", nodesep: 40, ranksep: 60, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const s of steps) g.setNode(s.name, { width: NODE_W, height: NODE_H });
  for (const [a, b] of edgesOf(steps)) g.setEdge(a, b);
  layout(g);
  const at = new Map<string, { x: number; y: number }>();
  for (const s of steps) {
    const n = g.node(s.name);
    at.set(s.name, { x: (n?.x ?? 0) - NODE_W / 2, y: (n?.y ?? 0) - NODE_H / 2 });
  }
  return at;
}

/** React Flow nodes (data: the step and whatever `extra` adds) and edges. */
export function flowOf<D extends Record<string, unknown>>(
  steps: AppStep[],
  extra: (s: AppStep) => D,
  type = "step",
): { nodes: Node<{ step: AppStep } & D>[]; edges: Edge[] } {
  const at = positions(steps);
  const nodes = steps.map((s) => ({
    id: s.name,
    type,
    position: at.get(s.name) ?? { x: 0, y: 0 },
    data: { step: s, ...extra(s) },
  }));
  const edges = edgesOf(steps).map(([a, b]) => ({
    id: `${a}->${b}`,
    source: a,
    target: b,
    markerEnd: { type: "arrowclosed" as const },
  }));
  return { nodes, edges } as { nodes: Node<{ step: AppStep } & D>[]; edges: Edge[] };
}
