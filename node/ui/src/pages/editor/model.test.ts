import { describe, expect, it } from "vitest";
import {
  EMPTY,
  addStep,
  connect,
  edgeId,
  fromDocument,
  moveSteps,
  parseEdgeId,
  reconnect,
  remove,
  replaceStep,
  setMeta,
  setOutputs,
  toDocument,
  uniqueName,
  withMetaOf,
  type AppDocument,
  type EditorState,
} from "./model";

/** A state with the steps named, of class `Cls`, each at the origin, and the arrows given. */
function stateOf(names: string[], edges: [string, string][] = []): EditorState {
  return {
    meta: { name: "app" },
    steps: names.map((name) => ({ name, file: "Cls", keys: {} })),
    edges,
    pos: Object.fromEntries(names.map((n) => [n, { x: 0, y: 0 }])),
  };
}

const names = (s: EditorState) => s.steps.map((x) => x.name);

describe("fromDocument / toDocument", () => {
  const doc: AppDocument = {
    name: "orders",
    friendly_name: "Orders",
    app_variables: { region: "eu" },
    some_future_key: [1, 2, 3],
    steps: [
      {
        name: "Fetch",
        file: "HttpGet",
        url: "https://example.org/${appvar.region}",
        retry_max: 3,
        syncpack: "base",
        x_custom: { nested: true },
        output_to: ["Parse"],
      },
      { name: "Parse", file: "JsonParse", strict: false },
      { name: "Store", file: "DbWrite", data_from: ["Parse"], table: "orders" },
    ],
  };

  it("keeps the top-level keys other than steps as they are", () => {
    const s = fromDocument(doc);
    expect(s.meta).toEqual({
      name: "orders",
      friendly_name: "Orders",
      app_variables: { region: "eu" },
      some_future_key: [1, 2, 3],
    });
    expect(s.meta).not.toHaveProperty("steps");
  });

  it("keeps each step's parameters and unknown keys, without the edge keys", () => {
    const s = fromDocument(doc);
    expect(names(s)).toEqual(["Fetch", "Parse", "Store"]);
    expect(s.steps[0]).toEqual({
      name: "Fetch",
      file: "HttpGet",
      keys: {
        url: "https://example.org/${appvar.region}",
        retry_max: 3,
        syncpack: "base",
        x_custom: { nested: true },
      },
    });
    expect(s.steps[2].keys).toEqual({ table: "orders" });
  });

  it("reads output_to and data_from as arrows", () => {
    expect(fromDocument(doc).edges).toEqual([
      ["Fetch", "Parse"],
      ["Parse", "Store"],
    ]);
  });

  it("gives every step a position", () => {
    const s = fromDocument(doc);
    expect(Object.keys(s.pos).sort()).toEqual(["Fetch", "Parse", "Store"]);
  });

  it("writes data_from back as output_to of the producer, and no data_from", () => {
    const out = toDocument(fromDocument(doc));
    const steps = out.steps!;
    expect(steps.find((s) => s.name === "Parse")!.output_to).toEqual(["Store"]);
    for (const s of steps) expect(s).not.toHaveProperty("data_from");
    // A step with no arrows leaving it has no output_to at all.
    expect(steps.find((s) => s.name === "Store")).not.toHaveProperty("output_to");
  });

  it("round-trips the document (data_from turned into output_to)", () => {
    const out = toDocument(fromDocument(doc));
    expect(out).toEqual({
      name: "orders",
      friendly_name: "Orders",
      app_variables: { region: "eu" },
      some_future_key: [1, 2, 3],
      steps: [
        {
          name: "Fetch",
          file: "HttpGet",
          url: "https://example.org/${appvar.region}",
          retry_max: 3,
          syncpack: "base",
          x_custom: { nested: true },
          output_to: ["Parse"],
        },
        { name: "Parse", file: "JsonParse", strict: false, output_to: ["Store"] },
        { name: "Store", file: "DbWrite", table: "orders" },
      ],
    });
    // And a second round trip changes nothing more.
    expect(toDocument(fromDocument(out))).toEqual(out);
  });

  it("does not list an arrow twice when both ends declare it", () => {
    const s = fromDocument({
      name: "a",
      steps: [
        { name: "A", file: "X", output_to: ["B"] },
        { name: "B", file: "X", data_from: ["A"] },
      ],
    });
    expect(s.edges).toEqual([["A", "B"]]);
    expect(toDocument(s).steps![0].output_to).toEqual(["B"]);
  });

  it("skips steps without a name and tolerates a document without steps", () => {
    const s = fromDocument({
      name: "a",
      steps: [{ file: "X" } as never, null as never, { name: "Ok", file: "X" }],
    });
    expect(names(s)).toEqual(["Ok"]);
    const none = fromDocument({ name: "empty" });
    expect(none.steps).toEqual([]);
    expect(none.edges).toEqual([]);
    expect(toDocument(none)).toEqual({ name: "empty", steps: [] });
  });

  it("drops arrows naming a step that is not there", () => {
    const s = fromDocument({ name: "a", steps: [{ name: "A", file: "X", output_to: ["Ghost"] }] });
    expect(s.edges).toEqual([]);
  });
});

describe("addStep", () => {
  it("names the step after its class, then Class_2, Class_3…", () => {
    let s = EMPTY;
    const added: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = addStep(s, "Greet", { x: 10, y: 20 });
      added.push(r.name);
      s = r.state;
    }
    expect(added).toEqual(["Greet", "Greet_2", "Greet_3"]);
    expect(names(s)).toEqual(["Greet", "Greet_2", "Greet_3"]);
    expect(s.steps[1]).toEqual({ name: "Greet_2", file: "Greet", keys: {} });
  });

  it("fills a gap left by a removed step", () => {
    const s = stateOf(["Greet", "Greet_3"]);
    expect(uniqueName(s, "Greet")).toBe("Greet_2");
    expect(addStep(s, "Greet", { x: 0, y: 0 }).name).toBe("Greet_2");
  });

  it("places the new step where asked, in whole pixels", () => {
    const { state, name } = addStep(EMPTY, "Greet", { x: 10.6, y: -3.2 });
    expect(state.pos[name]).toEqual({ x: 11, y: -3 });
  });

  it("leaves the state it was given unchanged", () => {
    const s = stateOf(["A"]);
    addStep(s, "Greet", { x: 0, y: 0 });
    expect(names(s)).toEqual(["A"]);
    expect(Object.keys(s.pos)).toEqual(["A"]);
  });
});

describe("edge ids", () => {
  it("parse back to the arrow, even with odd names", () => {
    for (const [a, b] of [
      ["A", "B"],
      ["with space", 'quote"d'],
      ["a->b", ""],
    ] as [string, string][]) {
      expect(parseEdgeId(edgeId(a, b))).toEqual([a, b]);
    }
  });

  it("are refused when not an id", () => {
    expect(parseEdgeId("A->B")).toBeNull();
    expect(parseEdgeId('["A"]')).toBeNull();
    expect(parseEdgeId("[1,2]")).toBeNull();
  });
});

describe("remove", () => {
  const s = stateOf(
    ["A", "B", "C", "D"],
    [
      ["A", "B"],
      ["B", "C"],
      ["C", "B"],
      ["A", "C"],
      ["C", "D"],
    ],
  );

  it("drops the step, its position and every arrow touching it", () => {
    const r = remove(s, ["B"]);
    expect(names(r)).toEqual(["A", "C", "D"]);
    expect(r.pos).not.toHaveProperty("B");
    expect(r.edges).toEqual([
      ["A", "C"],
      ["C", "D"],
    ]);
  });

  it("drops only the arrows listed, keeping both steps", () => {
    const r = remove(s, [], [["A", "C"]]);
    expect(names(r)).toEqual(["A", "B", "C", "D"]);
    expect(r.edges).toEqual([
      ["A", "B"],
      ["B", "C"],
      ["C", "B"],
      ["C", "D"],
    ]);
  });

  it("removes several steps and arrows at once", () => {
    const r = remove(s, ["A", "D"], [["B", "C"]]);
    expect(names(r)).toEqual(["B", "C"]);
    expect(r.edges).toEqual([["C", "B"]]);
  });

  it("does not touch the state it was given", () => {
    remove(s, ["B"]);
    expect(names(s)).toEqual(["A", "B", "C", "D"]);
    expect(s.edges).toHaveLength(5);
    expect(s.pos).toHaveProperty("B");
  });
});

describe("connect", () => {
  const s = stateOf(["A", "B", "C"], [["A", "B"]]);

  it("adds a new arrow", () => {
    expect(connect(s, "B", "C").edges).toEqual([
      ["A", "B"],
      ["B", "C"],
    ]);
  });

  it("allows the opposite direction of an existing arrow", () => {
    expect(connect(s, "B", "A").edges).toEqual([
      ["A", "B"],
      ["B", "A"],
    ]);
  });

  it("refuses a duplicate, a loop and a missing step", () => {
    expect(connect(s, "A", "B")).toBe(s);
    expect(connect(s, "A", "A")).toBe(s);
    expect(connect(s, "A", "Ghost")).toBe(s);
    expect(connect(s, "Ghost", "A")).toBe(s);
  });
});

describe("reconnect", () => {
  const s = stateOf(
    ["A", "B", "C", "D"],
    [
      ["A", "B"],
      ["B", "C"],
      ["C", "D"],
    ],
  );

  it("moves an arrow's end, keeping its place in the list", () => {
    expect(reconnect(s, ["B", "C"], "B", "D").edges).toEqual([
      ["A", "B"],
      ["B", "D"],
      ["C", "D"],
    ]);
  });

  it("moves an arrow's start", () => {
    expect(reconnect(s, ["A", "B"], "D", "B").edges).toEqual([
      ["D", "B"],
      ["B", "C"],
      ["C", "D"],
    ]);
  });

  it("refuses to move onto an existing arrow, a loop or a missing step", () => {
    expect(reconnect(s, ["A", "B"], "B", "C")).toBe(s);
    expect(reconnect(s, ["A", "B"], "B", "B")).toBe(s);
    expect(reconnect(s, ["A", "B"], "A", "Ghost")).toBe(s);
  });

  it("changes nothing when the ends stay the same", () => {
    expect(reconnect(s, ["A", "B"], "A", "B")).toBe(s);
  });
});

describe("replaceStep", () => {
  const s = stateOf(
    ["A", "B", "C"],
    [
      ["A", "B"],
      ["B", "C"],
    ],
  );
  const withPos: EditorState = { ...s, pos: { A: { x: 1, y: 1 }, B: { x: 2, y: 2 }, C: { x: 3, y: 3 } } };

  it("renames a step, carrying the name into its arrows and position", () => {
    const r = replaceStep(withPos, "B", { name: "Middle", file: "Cls", keys: { p: 1 } });
    if (typeof r === "string") throw new Error(r);
    expect(names(r)).toEqual(["A", "Middle", "C"]);
    expect(r.steps[1]).toEqual({ name: "Middle", file: "Cls", keys: { p: 1 } });
    expect(r.edges).toEqual([
      ["A", "Middle"],
      ["Middle", "C"],
    ]);
    expect(r.pos).toEqual({ A: { x: 1, y: 1 }, Middle: { x: 2, y: 2 }, C: { x: 3, y: 3 } });
  });

  it("keeps the name and arrows when only the keys change", () => {
    const r = replaceStep(s, "B", { name: "B", file: "Other", keys: { q: "x" } });
    if (typeof r === "string") throw new Error(r);
    expect(r.steps[1]).toEqual({ name: "B", file: "Other", keys: { q: "x" } });
    expect(r.edges).toEqual(s.edges);
  });

  it("trims the new name", () => {
    const r = replaceStep(s, "B", { name: "  Mid  ", file: "Cls", keys: {} });
    if (typeof r === "string") throw new Error(r);
    expect(names(r)).toEqual(["A", "Mid", "C"]);
    expect(r.edges).toContainEqual(["A", "Mid"]);
  });

  it("answers a message instead for a name another step has", () => {
    const r = replaceStep(s, "B", { name: "C", file: "Cls", keys: {} });
    expect(r).toBe('Another step is already named "C".');
  });

  it("answers a message instead for an empty name", () => {
    expect(replaceStep(s, "B", { name: "   ", file: "Cls", keys: {} })).toBe("A step needs a name.");
  });
});

describe("moveSteps", () => {
  const s: EditorState = { ...stateOf(["A", "B"]), pos: { A: { x: 0, y: 0 }, B: { x: 5, y: 5 } } };

  it("moves the steps given, in whole pixels, leaving the others", () => {
    const r = moveSteps(s, { A: { x: 100.4, y: 49.6 } });
    expect(r.pos).toEqual({ A: { x: 100, y: 50 }, B: { x: 5, y: 5 } });
    expect(s.pos.A).toEqual({ x: 0, y: 0 });
  });

  it("answers the same state when nothing moved (no undo entry for a click)", () => {
    expect(moveSteps(s, { A: { x: 0.2, y: -0.3 } })).toBe(s);
    expect(moveSteps(s, {})).toBe(s);
  });

  it("ignores names that are not steps", () => {
    expect(moveSteps(s, { Ghost: { x: 1, y: 1 } })).toBe(s);
  });
});

describe("setOutputs", () => {
  const s = stateOf(
    ["A", "B", "C", "D"],
    [
      ["A", "B"],
      ["C", "A"],
      ["A", "C"],
    ],
  );

  it("replaces the arrows leaving a step, keeping the ones arriving", () => {
    const r = setOutputs(s, "A", ["D", "B"]);
    expect(r.edges).toEqual([
      ["C", "A"],
      ["A", "D"],
      ["A", "B"],
    ]);
  });

  it("clears the arrows leaving a step", () => {
    expect(setOutputs(s, "A", []).edges).toEqual([["C", "A"]]);
  });

  it("skips the step itself and unknown names", () => {
    expect(setOutputs(s, "A", ["A", "Ghost", "D"]).edges).toEqual([
      ["C", "A"],
      ["A", "D"],
    ]);
  });

  it("is what toDocument writes as output_to", () => {
    const doc = toDocument(setOutputs(s, "A", ["D"]));
    expect(doc.steps!.find((x) => x.name === "A")!.output_to).toEqual(["D"]);
  });
});

describe("setMeta / withMetaOf", () => {
  it("sets and clears top-level keys, keeping an empty name", () => {
    let s = setMeta(EMPTY, "friendly_name", "Nice");
    expect(s.meta).toEqual({ name: "", friendly_name: "Nice" });
    s = setMeta(s, "friendly_name", "");
    expect(s.meta).not.toHaveProperty("friendly_name");
    s = setMeta(setMeta(s, "name", "x"), "name", "");
    expect(s.meta).toEqual({ name: "" });
  });

  it("takes a document's top-level keys but keeps the edited steps", () => {
    const s = stateOf(["A"]);
    const r = withMetaOf(s, { name: "app", app_variables: { k: 1 }, steps: [{ name: "Other" }] });
    expect(r.meta).toEqual({ name: "app", app_variables: { k: 1 } });
    expect(names(r)).toEqual(["A"]);
  });
});
