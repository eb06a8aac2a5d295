// Step parameter declarations (GET /steps/{file}) and the conversion between
// a parameter's value in the document and the text of its form field. Every
// field also accepts `${...}` substitutions (DESIGN 4.4), so a number field
// that holds `${appvar.port}` keeps that text.
import { ApiError, enc, get } from "../../api";

export interface ParamDecl {
  name: string;
  description?: string | null;
  sample_value?: unknown;
  default_value?: unknown;
  required?: boolean;
  type?: string | null;
  /** The choices of a SelectStaticDropdownParameter. */
  options?: unknown[] | null;
}

export interface StepInfo {
  name: string;
  friendly_name?: string | null;
  description?: string | null;
  version?: string | null;
  parameters?: ParamDecl[];
}

/** How a field edits a value. */
export type Kind = "string" | "password" | "number" | "bool" | "json" | "select";

export function kindOf(p: ParamDecl): Kind {
  switch (p.type) {
    case "PasswordParameter":
      return "password";
    case "NumberParameter":
      return "number";
    case "BoolParameterToggle":
      return "bool";
    case "JSONParameter":
    case "ArrayParameterString":
      return "json";
    case "SelectStaticDropdownParameter":
      return p.options?.length ? "select" : "string";
    case "StringParameterShort":
    case "StringParameterLong":
      return "string";
  }
  // No declared type: guess from the default, then the sample.
  const hint = p.default_value ?? p.sample_value;
  if (typeof hint === "boolean") return "bool";
  if (typeof hint === "number") return "number";
  if (hint !== null && typeof hint === "object") return "json";
  return "string";
}

/** A short name of the type for the form. */
export function typeLabel(p: ParamDecl): string {
  const k = kindOf(p);
  return p.type ? `${k} (${p.type})` : k;
}

/** How a value reads in the form (and in the declaration's default/sample). */
export function show(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v, null, 2);
}

/** True for "True", "true", true, 1 and the like; false otherwise. */
export function truthy(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return ["true", "yes", "on", "1"].includes(v.trim().toLowerCase());
  return false;
}

const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

export type Parsed = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * The value a field's text stands for; `undefined` (no value: the step's
 * default applies) for empty text.
 */
export function parse(kind: Kind, text: string): Parsed {
  if (text.trim() === "") return { ok: true, value: undefined };
  const t = text.trim();
  const substitution = t.includes("${");
  switch (kind) {
    case "number":
      if (NUMBER.test(t)) return { ok: true, value: Number(t) };
      if (substitution) return { ok: true, value: text };
      return { ok: false, error: "not a number (use digits, or a ${…} variable)" };
    case "json":
      try {
        return { ok: true, value: JSON.parse(t) };
      } catch (e) {
        if (substitution || !/^[[{"]/.test(t)) return { ok: true, value: text };
        return { ok: false, error: `not valid JSON: ${(e as Error).message}` };
      }
    default:
      return { ok: true, value: text };
  }
}

/** Text of a field: JSON for structured data, the string itself otherwise. */
export function toText(kind: Kind, v: unknown): string {
  if (kind === "json" && typeof v === "string") return v;
  return show(v);
}

/** The retry options of a step (DESIGN 4.5) and what applies without them. */
export const RETRY = [
  { key: "retry_max", label: "Retries at most", unit: "times", fallback: 0, kind: "number" },
  { key: "retry_backoff", label: "Back off exponentially", fallback: false, kind: "bool" },
  { key: "retry_jitter", label: "Random jitter", fallback: false, kind: "bool" },
  { key: "retry_backoff_max", label: "Back-off at most", unit: "s", fallback: 600, kind: "number" },
  { key: "retry_countdown", label: "Wait between retries", unit: "s", fallback: 180, kind: "number" },
] as const;

export const RETRY_KEYS: ReadonlySet<string> = new Set(RETRY.map((r) => r.key));

/** Keys of a step entry that are neither parameters nor retry options. */
export const RESERVED = new Set(["name", "file", "syncpack", "output_to", "data_from"]);

const cache = new Map<string, Promise<StepInfo>>();

/** The declaration of a step class, fetched once per page load. */
export function stepInfo(file: string): Promise<StepInfo> {
  let p = cache.get(file);
  if (!p) {
    p = get<StepInfo>(`/steps/${enc(file)}`);
    // A failed fetch is tried again next time, unless the class is unknown.
    p.catch((e) => {
      if (!(e instanceof ApiError && e.status === 404)) cache.delete(file);
    });
    cache.set(file, p);
  }
  return p;
}

/** Names of the required parameters that have neither a value nor a default. */
export function missingRequired(info: StepInfo | undefined, keys: Record<string, unknown>): string[] {
  if (!info?.parameters) return [];
  return info.parameters
    .filter((p) => p.required && (p.default_value === null || p.default_value === undefined))
    .filter((p) => keys[p.name] === undefined || keys[p.name] === null || keys[p.name] === "")
    .map((p) => p.name);
}
