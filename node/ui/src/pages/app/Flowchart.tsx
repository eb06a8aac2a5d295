// The application's step graph as a read-only flowchart (React Flow, laid
// out by dagre through components/graph.ts), coloured live by the selected
// run: running blue, succeeded green, failed red, retrying or waiting
// yellow with the attempt number and the reason, not run yet grey. Each
// step is a button that opens the step panel; a step that started a child
// run links to it.
import { memo, useCallback, useMemo, useState } from "react";
import { Link } from "wouter";
import {
  Background,
  Controls,
  Handle,
  Position,
  ReactFlow,
  type Edge,
  type Node,
  type NodeChange,
  type NodeProps,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { flowOf, type AppStep } from "../../components/graph";
import { STATE_CLASS } from "../../components/common";
import { clock, type ChildRun, type RunStep } from "./types";

interface StepNodeData extends Record<string, unknown> {
  step: AppStep;
  status?: RunStep;
  children: ChildRun[];
  selected: boolean;
  onSelect: (name: string) => void;
}

type StepNodeType = Node<StepNodeData, "runstep">;

/** Words for a state on a step node. */
const STATE_WORD: Record<string, string> = {
  PENDING: "pending",
  STARTED: "running",
  RETRY: "retrying",
  SUCCESS: "succeeded",
  FAILURE: "failed",
  REVOKED: "revoked",
};

function StepNode({ data }: NodeProps<StepNodeType>) {
  const { step, status, children, selected, onSelect } = data;
  const state = status?.state;
  // A pending step that waits for something shows in yellow, like a retry.
  const waiting = state === "PENDING" && !!status?.waiting_for;
  const cls = state ? (waiting ? "st-waiting" : STATE_CLASS[state] ?? "") : "st-none";
  const attempt = status && (status.attempt > 1 || state === "RETRY") ? status.attempt : null;
  let note = "";
  if (state === "RETRY") note = status?.retry_at ? `retry at ${clock(status.retry_at).slice(0, 8)}` : "waiting to retry";
  if (waiting) note = status?.waiting_for ?? "";
  const label = `Step ${step.name}${state ? `, ${STATE_WORD[state] ?? state}` : ""}`;
  return (
    <div
      className={`run-node ${cls}${selected ? " selected" : ""}`}
      data-step={step.name}
      data-state={state ?? "NONE"}
      title={note || undefined}
    >
      <Handle type="target" position={Position.Top} isConnectable={false} />
      <button
        type="button"
        className="run-node-main nodrag"
        aria-label={label}
        aria-pressed={selected}
        onClick={() => onSelect(step.name)}
      >
        <span className="run-node-top">
          <span className="run-node-name">{step.name}</span>
          {state ? <span className="run-node-state">{waiting ? "waiting" : STATE_WORD[state] ?? state}</span> : null}
        </span>
        <span className="run-node-file">
          {step.file ?? "?"}
          {attempt ? <span className="run-node-attempt"> · attempt {attempt}</span> : null}
        </span>
        {note ? <span className="run-node-note">{note}</span> : null}
      </button>
      {children.map((c) => (
        <Link key={c.id} className="run-node-child nodrag" href={`/apps/${encodeURIComponent(c.app_name)}?run=${encodeURIComponent(c.id)}`}>
          ↳ child run: {c.app_name}
        </Link>
      ))}
      <Handle type="source" position={Position.Bottom} isConnectable={false} />
    </div>
  );
}

const NODE_TYPES = { runstep: memo(StepNode) };

export interface FlowchartProps {
  steps: AppStep[];
  statuses: Map<string, RunStep>;
  children: ChildRun[];
  selected: string | null;
  onSelect: (name: string) => void;
}

export function Flowchart({ steps, statuses, children, selected, onSelect }: FlowchartProps) {
  // Layout depends on the graph only, not on the run.
  const layout = useMemo(() => flowOf(steps, () => ({}), "runstep"), [steps]);
  // The nodes are rebuilt on every change of the run; React Flow keeps a
  // node's measured size only in the node objects it is given, so the sizes
  // it reports are kept here and handed back (else nodes hide to re-measure).
  const [sizes, setSizes] = useState<Record<string, { width: number; height: number }>>({});
  const onNodesChange = useCallback((changes: NodeChange<StepNodeType>[]) => {
    const measured: Record<string, { width: number; height: number }> = {};
    for (const c of changes) if (c.type === "dimensions" && c.dimensions) measured[c.id] = c.dimensions;
    if (Object.keys(measured).length) setSizes((m) => ({ ...m, ...measured }));
  }, []);
  const nodes: StepNodeType[] = layout.nodes.map((n) => ({
    ...n,
    measured: sizes[n.id],
    type: "runstep" as const,
    data: {
      step: n.data.step,
      status: statuses.get(n.id),
      children: children.filter((c) => c.step === n.id),
      selected: selected === n.id,
      onSelect,
    },
  }));
  const edges: Edge[] = layout.edges.map((e) => {
    const target = statuses.get(e.target)?.state;
    const source = statuses.get(e.source)?.state;
    return { ...e, animated: target === "STARTED" && source === "SUCCESS", className: source === "SUCCESS" ? "done" : "" };
  });
  return (
    <div className="run-flow" aria-label="Step flowchart" role="group">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        nodesDraggable={false}
        nodesConnectable={false}
        nodesFocusable={false}
        edgesFocusable={false}
        elementsSelectable={false}
        // A node without a click handler lets clicks through to the pane.
        onNodeClick={(_, n) => onSelect(n.id)}
        onNodesChange={onNodesChange}
        fitView
        fitViewOptions={{ maxZoom: 1, padding: 0.15 }}
        minZoom={0.2}
        maxZoom={2}
      >
        <Background gap={16} size={1} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
