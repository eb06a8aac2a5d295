// A step on the editor's canvas: its name and class, a gear that opens the
// step editor, a warning when required parameters have no value, and the
// problems of the last refused save (red outline, messages on the node).
import { createContext, useContext } from "react";
import { Handle, Position, type Node, type NodeProps } from "@xyflow/react";
import type { EditorStep } from "./model";

export interface StepNodeData extends Record<string, unknown> {
  step: EditorStep;
  /** Problems the API found with this step at the last save. */
  problems: string[];
  /** Required parameters without a value. */
  missing: string[];
  /** The step class is not stored on the node (GET /steps/{file} said 404). */
  unknownFile: boolean;
}

export type StepFlowNode = Node<StepNodeData, "editStep">;

/** What a node asks of the editor. */
export const NodeActions = createContext<{ openStep: (name: string) => void }>({ openStep: () => {} });

export function StepNode({ data, selected }: NodeProps<StepFlowNode>) {
  const { openStep } = useContext(NodeActions);
  const { step, problems, missing, unknownFile } = data;
  const cls = ["ed-node", selected ? "selected" : "", problems.length ? "has-problem" : ""].join(" ");
  return (
    <div className={cls} data-step={step.name} onDoubleClick={() => openStep(step.name)}>
      <Handle type="target" position={Position.Top} aria-label={`Input of ${step.name}`} />
      <div className="ed-node-head">
        <strong className="ed-node-name">{step.name}</strong>
        <button
          type="button"
          className="icon nodrag ed-gear"
          aria-label={`Edit step ${step.name}`}
          title="Edit the step's parameters"
          onClick={() => openStep(step.name)}
        >
          ⚙
        </button>
      </div>
      <div className="muted ed-node-file">
        {step.file || "no file"}
        {typeof step.keys.syncpack === "string" ? ` · ${step.keys.syncpack}` : ""}
      </div>
      {unknownFile ? <div className="ed-node-warn">step class not found on the node</div> : null}
      {missing.length ? <div className="ed-node-warn">needs {missing.join(", ")}</div> : null}
      {problems.length ? (
        <ul className="ed-node-problems" aria-label={`Problems of ${step.name}`}>
          {problems.map((p, i) => (
            <li key={i}>{p}</li>
          ))}
        </ul>
      ) : null}
      <Handle type="source" position={Position.Bottom} aria-label={`Output of ${step.name}`} />
    </div>
  );
}
