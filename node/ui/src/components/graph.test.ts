import { describe, expect, it } from "vitest";
import { NODE_H, NODE_W, edgesOf, flowOf, positions, type AppStep } from "./graph";

describe("edgesOf", () => {
  it("reads output_to as arrows leaving the step", () => {
    const steps: AppStep[] = [
      { name: "A", output_to: ["B", "C"] },
      { name: "B" },
      { name: "C" },
    ];
    expect(edgesOf(steps)).toEqual([
      ["A", "B"],
      ["A", "C"],
    ]);
  });

  it("reads data_from as arrows arriving at the step", () => {
    const steps: AppStep[] = [{ name: "A" }, { name: "B", data_from: ["A"] }];
    expect(edgesOf(steps)).toEqual([["A", "B"]]);
  });

  it("merges both, listing an arrow declared at both ends once", () => {
    const steps: AppStep[] = [
      { name: "A", output_to: ["B"] },
      { name: "B", data_from: ["A", "C"], output_to: ["C"] },
      { name: "C", output_to: ["B"] },
    ];
    expect(edgesOf(steps)).toEqual([
      ["A", "B"],
      ["B", "C"],
      ["C", "B"],
    ]);
  });

  it("drops repeated names in one list", () => {
    expect(edgesOf([{ name: "A", output_to: ["B", "B"] }, { name: "B" }])).toEqual([["A", "B"]]);
  });

  it("drops arrows naming a step that is not there", () => {
    const steps: AppStep[] = [
      { name: "A", output_to: ["Ghost", "B"] },
      { name: "B", data_from: ["Nobody"] },
    ];
    expect(edgesOf(steps)).toEqual([["A", "B"]]);
  });

  it("tells apart names that would run together", () => {
    // A naive "from+to" key would make these one arrow.
    const steps: AppStep[] = [
      { name: "a", output_to: ["bc"] },
      { name: "ab", output_to: ["c"] },
      { name: "bc" },
      { name: "c" },
    ];
    expect(edgesOf(steps)).toHaveLength(2);
  });

  it("answers no arrows for no steps", () => {
    expect(edgesOf([])).toEqual([]);
  });
});

describe("positions", () => {
  const below = (at: Map<string, { x: number; y: number }>, lower: string, upper: string) =>
    at.get(lower)!.y >= at.get(upper)!.y + NODE_H;

  it("gives every step a position", () => {
    const at = positions([{ name: "A" }, { name: "B" }, { name: "C", output_to: ["A"] }]);
    expect([...at.keys()].sort()).toEqual(["A", "B", "C"]);
    for (const p of at.values()) {
      expect(Number.isFinite(p.x)).toBe(true);
      expect(Number.isFinite(p.y)).toBe(true);
    }
  });

  it("puts a consumer below its producer", () => {
    const at = positions([
      { name: "Store", data_from: ["Parse"] },
      { name: "Parse" },
      { name: "Fetch", output_to: ["Parse"] },
    ]);
    expect(below(at, "Parse", "Fetch")).toBe(true);
    expect(below(at, "Store", "Parse")).toBe(true);
  });

  it("puts steps that do not depend on each other side by side without overlap", () => {
    const at = positions([{ name: "A", output_to: ["B", "C"] }, { name: "B" }, { name: "C" }]);
    const b = at.get("B")!;
    const c = at.get("C")!;
    expect(b.y).toBe(c.y);
    expect(Math.abs(b.x - c.x)).toBeGreaterThanOrEqual(NODE_W);
    expect(below(at, "B", "A")).toBe(true);
  });
});

describe("flowOf", () => {
  it("makes a node per step and an edge per arrow, at the laid-out positions", () => {
    const steps: AppStep[] = [{ name: "A", output_to: ["B"] }, { name: "B" }];
    const { nodes, edges } = flowOf(steps, (s) => ({ label: s.name.toLowerCase() }));
    expect(nodes.map((n) => n.id)).toEqual(["A", "B"]);
    expect(nodes[0].data.step).toBe(steps[0]);
    expect(nodes[1].data.label).toBe("b");
    expect(nodes[0].type).toBe("step");
    const at = positions(steps);
    expect(nodes[1].position).toEqual(at.get("B"));
    expect(edges.map((e) => [e.source, e.target])).toEqual([["A", "B"]]);
  });
});
