// The step editor (the gear of a step): the step's name, the parameters its
// class declares (GET /steps/{file}) as a form with their type, description,
// default, sample value and required mark, any other keys of the entry, the
// steps it sends its data to, and its retry options (DESIGN 4.5). Nothing
// changes until Apply, which makes one undo entry; keys the form does not
// touch stay exactly as they were in the document.
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { ErrorBox } from "../../components/common";
import type { EditorState, EditorStep } from "./model";
import {
  RESERVED,
  RETRY,
  RETRY_KEYS,
  kindOf,
  parse,
  show,
  stepInfo,
  toText,
  truthy,
  typeLabel,
  type ParamDecl,
  type StepInfo,
} from "./values";

export interface StepFormProps {
  state: EditorState;
  /** The step being edited. */
  name: string;
  /** Stores the edited step; answers an error to show, or null when done. */
  onApply: (next: EditorStep, outputs: string[]) => string | null;
  onDelete: () => void;
  onClose: () => void;
}

interface Extra {
  id: number;
  /** The key it had in the document (undefined for a key added here). */
  orig?: string;
  key: string;
  text: string;
}

const NUMBER = /^\d+$/;

export function StepForm({ state, name, onApply, onDelete, onClose }: StepFormProps) {
  const step = state.steps.find((s) => s.name === name);
  const [info, setInfo] = useState<StepInfo | null>(null);
  const [infoError, setInfoError] = useState<unknown>(null);
  const [loaded, setLoaded] = useState(false);
  const [stepName, setStepName] = useState(name);
  const [values, setValues] = useState<Record<string, string>>({});
  const [retry, setRetry] = useState<Record<string, string | boolean>>({});
  const [extras, setExtras] = useState<Extra[]>([]);
  const [outputs, setOutputs] = useState<string[]>(() => state.edges.filter(([a]) => a === name).map(([, b]) => b));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [applyError, setApplyError] = useState<string | null>(null);
  const nameRef = useRef<HTMLInputElement>(null);
  const uid = useId();
  const file = step?.file ?? "";

  useEffect(() => {
    nameRef.current?.focus();
  }, []);

  useEffect(() => {
    let live = true;
    const settle = (i: StepInfo | null, e: unknown) => {
      if (!live) return;
      setInfo(i);
      setInfoError(e);
      const declared = new Set((i?.parameters ?? []).map((p) => p.name));
      let n = 0;
      setExtras(
        Object.entries(step?.keys ?? {})
          .filter(([k]) => !RESERVED.has(k) && !RETRY_KEYS.has(k) && !declared.has(k))
          .map(([k, v]) => ({ id: n++, orig: k, key: k, text: show(v) })),
      );
      setLoaded(true);
    };
    if (!file) settle(null, null);
    else stepInfo(file).then((i) => settle(i, null), (e) => settle(null, e));
    return () => {
      live = false;
    };
    // Loaded once per opened step: the draft must not be reset under the user.
  }, [file]);

  if (!step) return null;
  const params: ParamDecl[] = info?.parameters ?? [];
  const others = state.steps.map((s) => s.name).filter((n) => n !== name);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const keys: Record<string, unknown> = { ...step.keys };
    const errs: Record<string, string> = {};
    for (const p of params) {
      if (!(p.name in values)) continue;
      const text = values[p.name];
      const kind = kindOf(p);
      if (kind === "bool") {
        if (text === "") delete keys[p.name];
        else {
          const on = text === "true";
          // Steps written for the original read toggles as text ("True").
          const asText = typeof step.keys[p.name] === "string" || typeof p.default_value === "string";
          keys[p.name] = asText ? (on ? "True" : "False") : on;
        }
        continue;
      }
      if (kind === "select") {
        if (text === "") delete keys[p.name];
        else keys[p.name] = JSON.parse(text);
        continue;
      }
      const r = parse(kind, text);
      if (!r.ok) errs[p.name] = r.error;
      else if (r.value === undefined) delete keys[p.name];
      else keys[p.name] = r.value;
    }
    // The other keys are written again from the list (removed ones are gone).
    const seen = new Set<string>();
    for (const k of Object.keys(keys)) {
      if (!RESERVED.has(k) && !RETRY_KEYS.has(k) && !params.some((p) => p.name === k)) delete keys[k];
    }
    for (const x of extras) {
      const k = x.key.trim();
      const id = `extra-${x.id}`;
      if (!k && !x.text.trim()) continue;
      if (!k) errs[id] = "a key needs a name";
      else if (RESERVED.has(k) || RETRY_KEYS.has(k) || params.some((p) => p.name === k)) errs[id] = `"${k}" is set above`;
      else if (seen.has(k)) errs[id] = `"${k}" is listed twice`;
      else {
        seen.add(k);
        const original = x.orig !== undefined ? step.keys[x.orig] : undefined;
        if (x.orig !== undefined && x.text === show(original)) keys[k] = original;
        else {
          const r = parse("json", x.text);
          if (!r.ok) errs[id] = r.error;
          else if (r.value !== undefined) keys[k] = r.value;
        }
      }
    }
    for (const r of RETRY) {
      if (!(r.key in retry)) continue;
      const v = retry[r.key];
      if (typeof v === "boolean") {
        if (v) keys[r.key] = true;
        else delete keys[r.key];
      } else if (v.trim() === "") delete keys[r.key];
      else if (NUMBER.test(v.trim())) keys[r.key] = Number(v.trim());
      else errs[r.key] = "a whole number of at least 0";
    }
    setErrors(errs);
    if (Object.keys(errs).length) {
      setApplyError("Some fields need attention.");
      return;
    }
    const problem = onApply({ name: stepName.trim(), file: step.file, keys }, outputs);
    setApplyError(problem);
  };

  const field = (p: ParamDecl) => {
    const kind = kindOf(p);
    const id = `${uid}-p-${p.name}`;
    const help = `${id}-help`;
    const current = step.keys[p.name];
    const edited = p.name in values;
    const set = (t: string) => setValues((v) => ({ ...v, [p.name]: t }));
    const sample = p.sample_value === null || p.sample_value === undefined ? "" : show(p.sample_value);
    let input;
    if (kind === "bool") {
      const val = edited ? values[p.name] : current === undefined || current === null || current === "" ? "" : String(truthy(current));
      input = (
        <select id={id} aria-describedby={help} value={val} onChange={(e) => set(e.target.value)}>
          <option value="">default ({show(p.default_value) || "none"})</option>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      );
    } else if (kind === "select") {
      const opts = (p.options ?? []).map((o) => JSON.stringify(o));
      const cur = current === undefined || current === null ? "" : JSON.stringify(current);
      const val = edited ? values[p.name] : cur;
      input = (
        <select id={id} aria-describedby={help} value={val} onChange={(e) => set(e.target.value)}>
          <option value="">default ({show(p.default_value) || "none"})</option>
          {cur && !opts.includes(cur) ? <option value={cur}>{show(current)}</option> : null}
          {(p.options ?? []).map((o, i) => (
            <option key={i} value={opts[i]}>
              {show(o)}
            </option>
          ))}
        </select>
      );
    } else {
      const val = edited ? values[p.name] : toText(kind, current);
      const common = {
        id,
        value: val,
        "aria-describedby": help,
        "aria-invalid": errors[p.name] ? true : undefined,
        placeholder: sample ? `e.g. ${sample.replace(/\s+/g, " ")}` : undefined,
      };
      input =
        kind === "json" || val.includes("\n") ? (
          <textarea {...common} rows={Math.min(8, Math.max(2, val.split("\n").length))} onChange={(e) => set(e.target.value)} />
        ) : (
          <input
            {...common}
            type={kind === "password" ? "password" : "text"}
            inputMode={kind === "number" ? "decimal" : undefined}
            autoComplete="off"
            onChange={(e) => set(e.target.value)}
          />
        );
    }
    return (
      <div className="ed-param" key={p.name}>
        <label htmlFor={id} className="ed-param-label">
          <span className="ed-param-name">{p.name}</span>
          {p.required ? (
            <span className="ed-req" title="required">
              * <span className="sr-only">required</span>
            </span>
          ) : null}
          <span className="ed-type">{typeLabel(p)}</span>
        </label>
        {input}
        <div id={help} className="muted ed-param-help">
          {[
            p.description ? <span key="d">{p.description}</span> : null,
            p.default_value !== null && p.default_value !== undefined && p.default_value !== "" ? (
              <span key="v">
                default <code>{show(p.default_value)}</code>
              </span>
            ) : null,
            sample ? (
              <span key="s">
                sample <code>{sample}</code>
              </span>
            ) : null,
          ]
            .filter(Boolean)
            .flatMap((x, i) => (i ? [<span key={`sep${i}`}> · </span>, x] : [x]))}
        </div>
        {errors[p.name] ? <div className="ed-field-error">{errors[p.name]}</div> : null}
      </div>
    );
  };

  return (
    <aside className="ed-panel" aria-label="Step editor" onKeyDown={(e) => e.key === "Escape" && onClose()}>
      <form onSubmit={apply} aria-label={`Step ${name}`}>
        <header className="ed-panel-head">
          <h2>Step {name}</h2>
          <button type="button" className="icon" aria-label="Close step editor" onClick={onClose}>
            ✕
          </button>
        </header>
        <label>
          Step name
          <input ref={nameRef} value={stepName} onChange={(e) => setStepName(e.target.value)} required />
        </label>
        <p className="muted ed-class">
          Runs <code>{step.file || "?"}</code>
          {typeof step.keys.syncpack === "string" ? (
            <>
              {" "}
              from <code>{step.keys.syncpack}</code>
            </>
          ) : null}
          {info?.friendly_name && info.friendly_name !== step.file ? ` (${info.friendly_name})` : ""}
          {info?.description ? `: ${info.description}` : ""}
        </p>
        {infoError ? <ErrorBox error={infoError} /> : null}

        <h3>Parameters</h3>
        {!loaded ? <p className="muted">Loading the step's parameters…</p> : null}
        {loaded && !params.length && !infoError ? <p className="muted">This step declares no parameters.</p> : null}
        {params.map(field)}

        {loaded ? (
          <>
            <h3>Other keys</h3>
            {!extras.length ? <p className="muted">None. Keys the step reads without declaring them go here.</p> : null}
            {extras.map((x, i) => (
              <div className="ed-extra" key={x.id}>
                <input
                  aria-label={`Key ${i + 1}`}
                  value={x.key}
                  placeholder="key"
                  onChange={(e) => setExtras((xs) => xs.map((y) => (y.id === x.id ? { ...y, key: e.target.value } : y)))}
                />
                <textarea
                  aria-label={`Value of ${x.key || `key ${i + 1}`}`}
                  value={x.text}
                  rows={Math.min(6, Math.max(1, x.text.split("\n").length))}
                  placeholder="value (text or JSON)"
                  onChange={(e) => setExtras((xs) => xs.map((y) => (y.id === x.id ? { ...y, text: e.target.value } : y)))}
                />
                <button
                  type="button"
                  className="icon"
                  aria-label={`Remove ${x.key || `key ${i + 1}`}`}
                  onClick={() => setExtras((xs) => xs.filter((y) => y.id !== x.id))}
                >
                  ✕
                </button>
                {errors[`extra-${x.id}`] ? <div className="ed-field-error">{errors[`extra-${x.id}`]}</div> : null}
              </div>
            ))}
            <button
              type="button"
              onClick={() => setExtras((xs) => [...xs, { id: Math.max(-1, ...xs.map((y) => y.id)) + 1, key: "", text: "" }])}
            >
              Add key
            </button>
          </>
        ) : null}

        <h3>Sends its data to</h3>
        {others.length ? (
          <div className="ed-outputs" role="group" aria-label="Sends its data to">
            {others.map((o) => (
              <label className="inline" key={o}>
                <input
                  type="checkbox"
                  checked={outputs.includes(o)}
                  onChange={(e) => setOutputs((xs) => (e.target.checked ? [...xs, o] : xs.filter((y) => y !== o)))}
                />
                {o}
              </label>
            ))}
          </div>
        ) : (
          <p className="muted">No other steps yet.</p>
        )}

        <h3>Retries</h3>
        <div className="ed-retry">
          {RETRY.map((r) => {
            const cur = step.keys[r.key];
            if (r.kind === "bool") {
              const checked = r.key in retry ? (retry[r.key] as boolean) : truthy(cur);
              return (
                <label className="inline" key={r.key}>
                  <input type="checkbox" checked={checked} onChange={(e) => setRetry((x) => ({ ...x, [r.key]: e.target.checked }))} />
                  {r.label} <code className="muted">{r.key}</code>
                </label>
              );
            }
            const val = r.key in retry ? String(retry[r.key]) : show(cur);
            return (
              <div key={r.key}>
                <label>
                  <span>
                    {r.label} ({r.unit}) <code className="muted">{r.key}</code>
                  </span>
                  <input
                    type="text"
                    inputMode="numeric"
                    value={val}
                    placeholder={`${r.fallback} (default)`}
                    aria-invalid={errors[r.key] ? true : undefined}
                    onChange={(e) => setRetry((x) => ({ ...x, [r.key]: e.target.value }))}
                  />
                </label>
                {errors[r.key] ? <div className="ed-field-error">{errors[r.key]}</div> : null}
              </div>
            );
          })}
        </div>

        {applyError ? (
          <div className="error" role="alert">
            {applyError}
          </div>
        ) : null}
        <footer className="ed-panel-foot">
          <button type="submit" className="primary">
            Apply
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <span className="spacer" />
          <button type="button" className="danger" onClick={onDelete}>
            Delete step
          </button>
        </footer>
      </form>
    </aside>
  );
}
