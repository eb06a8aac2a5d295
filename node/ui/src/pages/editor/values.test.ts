import { describe, expect, it } from "vitest";
import { kindOf, missingRequired, parse, show, toText, truthy, typeLabel, type Kind, type StepInfo } from "./values";

const ok = (value: unknown) => ({ ok: true, value });

describe("kindOf", () => {
  it("follows the declared parameter type", () => {
    expect(kindOf({ name: "p", type: "PasswordParameter" })).toBe("password");
    expect(kindOf({ name: "p", type: "NumberParameter" })).toBe("number");
    expect(kindOf({ name: "p", type: "BoolParameterToggle" })).toBe("bool");
    expect(kindOf({ name: "p", type: "JSONParameter" })).toBe("json");
    expect(kindOf({ name: "p", type: "ArrayParameterString" })).toBe("json");
    expect(kindOf({ name: "p", type: "StringParameterShort" })).toBe("string");
    expect(kindOf({ name: "p", type: "StringParameterLong" })).toBe("string");
  });

  it("is a select only when the dropdown has options", () => {
    expect(kindOf({ name: "p", type: "SelectStaticDropdownParameter", options: ["a", "b"] })).toBe("select");
    expect(kindOf({ name: "p", type: "SelectStaticDropdownParameter", options: [] })).toBe("string");
    expect(kindOf({ name: "p", type: "SelectStaticDropdownParameter", options: null })).toBe("string");
  });

  it("a declared type wins over the default's type", () => {
    expect(kindOf({ name: "p", type: "StringParameterShort", default_value: 5 })).toBe("string");
  });

  it("guesses from the default, then the sample, without a declared type", () => {
    expect(kindOf({ name: "p", default_value: true })).toBe("bool");
    expect(kindOf({ name: "p", default_value: 3 })).toBe("number");
    expect(kindOf({ name: "p", default_value: { a: 1 } })).toBe("json");
    expect(kindOf({ name: "p", default_value: [1] })).toBe("json");
    expect(kindOf({ name: "p", default_value: "x" })).toBe("string");
    expect(kindOf({ name: "p", sample_value: 7 })).toBe("number");
    expect(kindOf({ name: "p", default_value: "x", sample_value: 7 })).toBe("string");
    expect(kindOf({ name: "p", type: "SomethingNew", sample_value: false })).toBe("bool");
    expect(kindOf({ name: "p" })).toBe("string");
    expect(kindOf({ name: "p", default_value: null })).toBe("string");
  });

  it("labels the kind with the declared type", () => {
    expect(typeLabel({ name: "p", type: "NumberParameter" })).toBe("number (NumberParameter)");
    expect(typeLabel({ name: "p", default_value: 1 })).toBe("number");
  });
});

describe("parse", () => {
  it("answers no value for empty or blank text, whatever the kind", () => {
    for (const k of ["string", "password", "number", "bool", "json", "select"] as Kind[]) {
      expect(parse(k, "")).toEqual(ok(undefined));
      expect(parse(k, "   ")).toEqual(ok(undefined));
    }
  });

  it("reads numbers", () => {
    expect(parse("number", "42")).toEqual(ok(42));
    expect(parse("number", " -3.5 ")).toEqual(ok(-3.5));
    expect(parse("number", ".5")).toEqual(ok(0.5));
    expect(parse("number", "1e3")).toEqual(ok(1000));
    expect(parse("number", "2.")).toEqual(ok(2));
  });

  it("refuses text that is not a number", () => {
    for (const t of ["abc", "12abc", "1,5", "0x10", "Infinity", "--1", "1 2"]) {
      const r = parse("number", t);
      expect(r.ok, t).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/not a number/);
    }
  });

  it("keeps a ${…} substitution in a number field as text", () => {
    expect(parse("number", "${appvar.port}")).toEqual(ok("${appvar.port}"));
  });

  it("reads JSON", () => {
    expect(parse("json", '{"a": [1, 2]}')).toEqual(ok({ a: [1, 2] }));
    expect(parse("json", "[1, 2]")).toEqual(ok([1, 2]));
    expect(parse("json", '"s"')).toEqual(ok("s"));
    expect(parse("json", "3")).toEqual(ok(3));
    expect(parse("json", "null")).toEqual(ok(null));
  });

  it("refuses broken JSON that looks like JSON, saying why", () => {
    for (const t of ['{"a": 1', "[1, 2", '{a: 1}', '"open']) {
      const r = parse("json", t);
      expect(r.ok, t).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/^not valid JSON: ./);
    }
  });

  it("keeps plain text and substitutions in a JSON field as text", () => {
    expect(parse("json", "hello")).toEqual(ok("hello"));
    expect(parse("json", "${appvar.list}")).toEqual(ok("${appvar.list}"));
    expect(parse("json", '{"a": ${appvar.x}}')).toEqual(ok('{"a": ${appvar.x}}'));
  });

  it("keeps text as typed for the other kinds", () => {
    expect(parse("string", " spaced ")).toEqual(ok(" spaced "));
    expect(parse("password", "p@ss")).toEqual(ok("p@ss"));
    expect(parse("bool", "true")).toEqual(ok("true"));
    expect(parse("select", "b")).toEqual(ok("b"));
    expect(parse("string", "42")).toEqual(ok("42"));
  });
});

describe("toText and show", () => {
  it("shows no value as empty text", () => {
    expect(show(undefined)).toBe("");
    expect(show(null)).toBe("");
    expect(toText("number", undefined)).toBe("");
  });

  it("shows scalars as they read", () => {
    expect(toText("number", 42)).toBe("42");
    expect(toText("bool", false)).toBe("false");
    expect(toText("string", "x")).toBe("x");
  });

  it("shows structured values as indented JSON", () => {
    expect(toText("json", { a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}');
  });

  it("keeps a string in a JSON field as written (a substitution, not a quoted string)", () => {
    expect(toText("json", "${appvar.list}")).toBe("${appvar.list}");
  });

  it("round-trips through parse", () => {
    const cases: [Kind, unknown][] = [
      ["number", 42],
      ["number", -0.25],
      ["number", "${appvar.port}"],
      ["json", { a: [1, { b: null }] }],
      ["json", [1, "two"]],
      ["json", "${appvar.list}"],
      ["string", "hello"],
      ["password", "secret"],
    ];
    for (const [k, v] of cases) expect(parse(k, toText(k, v)), `${k} ${JSON.stringify(v)}`).toEqual(ok(v));
  });
});

describe("truthy", () => {
  it("reads the usual spellings of true", () => {
    for (const v of [true, 1, -1, "true", "True", " YES ", "on", "1"]) expect(truthy(v), String(v)).toBe(true);
  });

  it("is false for everything else", () => {
    for (const v of [false, 0, "", "false", "no", "off", "0", "maybe", null, undefined, {}, []]) {
      expect(truthy(v), JSON.stringify(v)).toBe(false);
    }
  });
});

describe("missingRequired", () => {
  const info: StepInfo = {
    name: "Cls",
    parameters: [
      { name: "url", required: true },
      { name: "token", required: true, default_value: null },
      { name: "timeout", required: true, default_value: 30 },
      { name: "flag", required: true, default_value: false },
      { name: "note", required: false },
      { name: "extra" },
    ],
  };

  it("lists required parameters with neither a value nor a default, in declaration order", () => {
    expect(missingRequired(info, {})).toEqual(["url", "token"]);
  });

  it("counts empty text and null as no value", () => {
    expect(missingRequired(info, { url: "", token: null })).toEqual(["url", "token"]);
  });

  it("accepts any other value, falsy ones included", () => {
    expect(missingRequired(info, { url: "x", token: 0 })).toEqual([]);
    expect(missingRequired(info, { url: false, token: "${appvar.t}" })).toEqual([]);
  });

  it("lists nothing when the declaration is unknown", () => {
    expect(missingRequired(undefined, {})).toEqual([]);
    expect(missingRequired({ name: "Cls" }, {})).toEqual([]);
  });
});
