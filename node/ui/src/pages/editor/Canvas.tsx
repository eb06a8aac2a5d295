// The editor's canvas: React Flow showing the steps of the edited document.
// The document (EditorState) is the truth; React Flow's node list follows it
// and keeps only what React Flow itself measures and selects. Every user
// gesture that changes the application goes through `update` (one undo
// entry): dropping a step from the registry, drawing an arrow from a step's
// bottom handle to another's top, dragging an arrow's end to another step,
// moving steps, and Delete/Backspace on the selection.
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type RefObject } from "react";
import {
  Background,
  Controls,
  MarkerType,
  ReactFlow,
  ReactFlowProvider,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type Edge,
  type EdgeChange,
  type NodeChange,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { NODE_H, NODE_W } from "../../components/graph";
import {
  connect,
  edgeId,
  hasEdge,
  moveSteps,
  parseEdgeId,
  reconnect,
  remove,
  type EditorState,
  type XY,
} from "./model";
import { STEP_MIME } from "./Registry";
import { StepNode, type StepFlowNode } from "./StepNode";
import { missingRequired, type StepInfo } from "./values";

const NODE_TYPES = { editStep: StepNode };

export interface CanvasProps {
  state: EditorState;
  update: (fn: (s: EditorState) => EditorState, key?: string) => void;
  /** Problems of the last refused save, per step. */
  problems: Record<string, string[]>;
  /** Declarations per step class; null when the class is unknown. */
  infos: Record<string, StepInfo | null>;
  onDropStep: (file: string, at: XY) => void;
  /** Filled in by the canvas: where a step added with "Add" goes. */
  placeRef: RefObject<(() => XY) | null>;
  /** Filled in by the canvas: shows every step. */
  fitRef: RefObject<(() => void) | null>;
  /** The step whose editor is open: brought into view when hidden. */
  focus: string | null;
}

export function Canvas(props: CanvasProps) {
  return (
    <ReactFlowProvider>
      <Inner {...props} />
    </ReactFlowProvider>
  );
}

function Inner({ state, update, problems, infos, onDropStep, placeRef, fitRef, focus }: CanvasProps) {
  const flow = useReactFlow<StepFlowNode, Edge>();
  const wrap = useRef<HTMLDivElement>(null);
  const [nodes, setNodes] = useState<StepFlowNode[]>([]);
  // A stored application is fitted into view once; a new one starts at 1:1
  // (fitting the first dropped step would move it away from the pointer).
  const [fitOnLoad] = useState(() => state.steps.length > 0);
  const [selectedEdges, setSelectedEdges] = useState<ReadonlySet<string>>(new Set());

  // The node list follows the document; what React Flow measured and the
  // selection are kept for steps that are still there.
  useEffect(() => {
    setNodes((prev) => {
      const old = new Map(prev.map((n) => [n.id, n]));
      return state.steps.map((s): StepFlowNode => {
        const info = s.file ? infos[s.file] : undefined;
        const data = {
          step: s,
          problems: problems[s.name] ?? [],
          missing: info ? missingRequired(info, s.keys) : [],
          unknownFile: info === null,
        };
        const position = state.pos[s.name] ?? { x: 0, y: 0 };
        const o = old.get(s.name);
        const ariaLabel = `Step ${s.name}`;
        return o ? { ...o, position, data, ariaLabel } : { id: s.name, type: "editStep", position, data, ariaLabel };
      });
    });
  }, [state, problems, infos]);

  const edges = useMemo(
    () =>
      state.edges.map(([a, b]): Edge => {
        const id = edgeId(a, b);
        return {
          id,
          source: a,
          target: b,
          selected: selectedEdges.has(id),
          markerEnd: { type: MarkerType.ArrowClosed },
          ariaLabel: `Arrow from ${a} to ${b}`,
          className: "ed-edge",
        };
      }),
    [state.edges, selectedEdges],
  );

  placeRef.current = () => {
    // The middle of what is visible, moved down past steps already there.
    const box = wrap.current?.getBoundingClientRect();
    const mid = box
      ? flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 })
      : { x: 0, y: 0 };
    const at = { x: mid.x - NODE_W / 2, y: mid.y - NODE_H / 2 };
    const taken = Object.values(state.pos);
    while (taken.some((p) => Math.abs(p.x - at.x) < NODE_W && Math.abs(p.y - at.y) < NODE_H + 10)) at.y += NODE_H + 30;
    return at;
  };
  fitRef.current = () => void flow.fitView({ padding: 0.2, maxZoom: 1, duration: 200 });

  // Opening the step editor narrows the canvas: keep the step in sight.
  useEffect(() => {
    if (!focus) return;
    const t = setTimeout(() => {
      const n = flow.getNode(focus);
      const box = wrap.current?.getBoundingClientRect();
      if (!n || !box) return;
      const w = n.measured?.width ?? NODE_W;
      const h = n.measured?.height ?? NODE_H;
      const tl = flow.flowToScreenPosition(n.position);
      const br = flow.flowToScreenPosition({ x: n.position.x + w, y: n.position.y + h });
      const m = 16;
      if (tl.x >= box.left + m && tl.y >= box.top + m && br.x <= box.right - m && br.y <= box.bottom - m) return;
      void flow.setCenter(n.position.x + w / 2, n.position.y + h / 2, { zoom: flow.getZoom(), duration: 200 });
    }, 80);
    return () => clearTimeout(t);
  }, [focus, flow]);

  const onNodesChange = useCallback(
    (changes: NodeChange<StepFlowNode>[]) => {
      // Removals go through onDelete (one undo entry for steps and arrows).
      setNodes((ns) => applyNodeChanges(changes.filter((c) => c.type !== "remove"), ns));
      // A move is kept when it ends (mouse released, or an arrow key press).
      const moved: Record<string, XY> = {};
      for (const c of changes) if (c.type === "position" && c.position && !c.dragging) moved[c.id] = c.position;
      if (Object.keys(moved).length) update((s) => moveSteps(s, moved));
    },
    [update],
  );

  const onEdgesChange = useCallback((changes: EdgeChange<Edge>[]) => {
    setSelectedEdges((old) => {
      const next = new Set(old);
      for (const c of changes) {
        if (c.type === "select") {
          if (c.selected) next.add(c.id);
          else next.delete(c.id);
        } else if (c.type === "remove") next.delete(c.id);
      }
      return next;
    });
  }, []);

  const onNodeDragStop = useCallback(
    (_: unknown, __: unknown, dragged: StepFlowNode[]) => {
      const moved: Record<string, XY> = {};
      for (const n of dragged) moved[n.id] = n.position;
      update((s) => moveSteps(s, moved));
    },
    [update],
  );

  const onDelete = useCallback(
    ({ nodes: ns, edges: es }: { nodes: StepFlowNode[]; edges: Edge[] }) => {
      const cut = es.map((e) => parseEdgeId(e.id)).filter((e): e is [string, string] => e !== null);
      update((s) => remove(s, ns.map((n) => n.id), cut));
    },
    [update],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      if (c.source && c.target) update((s) => connect(s, c.source, c.target));
    },
    [update],
  );

  const onReconnect = useCallback(
    (old: Edge, c: Connection) => {
      if (c.source && c.target) update((s) => reconnect(s, [old.source, old.target], c.source, c.target));
    },
    [update],
  );

  const isValidConnection = useCallback(
    (c: Connection | Edge) => !!c.source && !!c.target && c.source !== c.target && !hasEdge(state, c.source, c.target),
    [state],
  );

  const onDragOver = (e: DragEvent) => {
    if (!e.dataTransfer.types.includes(STEP_MIME)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  };
  const onDrop = (e: DragEvent) => {
    const file = e.dataTransfer.getData(STEP_MIME);
    if (!file) return;
    e.preventDefault();
    const p = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    onDropStep(file, { x: p.x - NODE_W / 2, y: p.y - NODE_H / 2 });
  };

  return (
    <div className="ed-canvas" ref={wrap} onDragOver={onDragOver} onDrop={onDrop} aria-label="Canvas" role="region">
      <ReactFlow<StepFlowNode, Edge>
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onNodeDragStop={onNodeDragStop}
        onDelete={onDelete}
        onConnect={onConnect}
        onReconnect={onReconnect}
        isValidConnection={isValidConnection}
        deleteKeyCode={["Delete", "Backspace"]}
        fitView={fitOnLoad}
        fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
        minZoom={0.2}
        maxZoom={2}
      >
        <Background gap={16} />
        <Controls showInteractive={false} />
      </ReactFlow>
      {!state.steps.length ? (
        <p className="ed-canvas-empty muted">Drag steps here from the registry, or use their Add buttons.</p>
      ) : null}
    </div>
  );
}
