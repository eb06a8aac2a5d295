import { describe, expect, it } from "vitest";
import { sortProblems } from "./problems";

const steps = ["Greet", "Shout", "Store"];

describe("sortProblems", () => {
  it("puts a problem naming a step on that step, without the step's name", () => {
    const p = sortProblems(['step "Greet": "output_to" names unknown step "Zed"'], steps);
    expect(p.byStep).toEqual({ Greet: ['"output_to" names unknown step "Zed"'] });
    expect(p.general).toEqual([]);
    expect(p.name).toEqual([]);
  });

  it("collects several problems of one step and of several steps", () => {
    const p = sortProblems(
      ['step "Greet": needs "file"', 'step "Shout": bad retry_max', 'step "Greet": unknown key "x"'],
      steps,
    );
    expect(p.byStep).toEqual({
      Greet: ['needs "file"', 'unknown key "x"'],
      Shout: ["bad retry_max"],
    });
  });

  it("reads step names with quotes, spaces and escapes", () => {
    const names = ['say "hi"', "two words", "back\\slash"];
    const p = sortProblems(
      ['step "say \\"hi\\"": oops', 'step "two words": meh', 'step "back\\\\slash": hmm'],
      names,
    );
    expect(p.byStep).toEqual({ 'say "hi"': ["oops"], "two words": ["meh"], "back\\slash": ["hmm"] });
  });

  it("marks both steps of a duplicate name", () => {
    const p = sortProblems(['duplicate step name "Shout"'], steps);
    expect(p.byStep).toEqual({ Shout: ["another step has the same name"] });
    expect(p.general).toEqual([]);
  });

  it("marks every step of a cycle and keeps the path in the general list", () => {
    const d = "the steps form a cycle: Greet -> Shout -> Greet";
    const p = sortProblems([d], steps);
    expect(p.byStep).toEqual({ Greet: ["part of a cycle (see above)"], Shout: ["part of a cycle (see above)"] });
    expect(p.general).toEqual([d]);
  });

  it("puts a problem of steps[i] on the i-th step sent", () => {
    const p = sortProblems(['steps[1] needs a non-empty string "file"'], steps);
    expect(p.byStep).toEqual({ Shout: ['needs a non-empty string "file"'] });
  });

  it("sorts problems about the application's name apart", () => {
    const d = '"name" must not contain spaces, got "my app"';
    const p = sortProblems([d], steps);
    expect(p.name).toEqual([d]);
    expect(p.general).toEqual([]);
    expect(p.byStep).toEqual({});
  });

  it("keeps what names no step it knows as a problem of the whole document", () => {
    const details = [
      'step "Ghost": something',
      'duplicate step name "Ghost"',
      "the steps form a cycle: X -> Y -> X",
      "steps[7] needs a non-empty string \"name\"",
      "application documents need steps",
      'step Greet without quotes',
    ];
    const p = sortProblems(details, steps);
    expect(p.general).toEqual(details);
    expect(p.byStep).toEqual({});
    expect(p.name).toEqual([]);
  });

  it("keeps the order of problems within each list", () => {
    const p = sortProblems(["first", '"name" is empty', 'step "Store": a', "second", 'step "Store": b'], steps);
    expect(p.general).toEqual(["first", "second"]);
    expect(p.name).toEqual(['"name" is empty']);
    expect(p.byStep.Store).toEqual(["a", "b"]);
  });

  it("answers empty lists for no problems", () => {
    expect(sortProblems([], steps)).toEqual({ byStep: {}, name: [], general: [] });
  });
});
