// The Configure pane of an application, shown by the application page and
// the editor: which configuration its runs use (or none), its application
// variables, and the chosen configuration's values read-only. Encrypted
// values show a padlock, never their value; a user who may write can replace
// one (the configuration is stored again with the new value sealed and the
// other values as the API gave them, so their ciphertext stays as is).
// "Show JSON" shows the application document as it would be saved.
//
// Contract: `app` is the application document as GET /applications/{name}
// answers it; `onSaved` receives the document after the pane stored it
// (POST /applications).
import { useEffect, useId, useMemo, useState, type FormEvent } from "react";
import { ApiError, can, enc, get, page, post, withQuery } from "../api";
import { Dialog, ErrorBox, Padlock } from "./common";

export interface ConfigurePaneProps {
  app: Record<string, any>;
  onSaved: (doc: Record<string, any>) => void;
  onClose: () => void;
}

interface AppVariable {
  name: string;
  value?: unknown;
  description?: unknown;
  required?: unknown;
  sample_value?: unknown;
  default_value?: unknown;
  [key: string]: unknown;
}

/** A row of the variables table: texts of its fields and what it was. */
interface Row {
  id: number;
  name: string;
  value: string;
  description: string;
  required: boolean;
  sample_value: string;
  default_value: string;
  orig?: AppVariable;
}

interface ConfigValue {
  name: string;
  value?: unknown;
  encrypted?: boolean;
}

interface ConfigDoc {
  name: string;
  friendly_name?: string;
  configuration_data?: ConfigValue[];
  [key: string]: unknown;
}

interface ConfigSummary {
  name: string;
  friendly_name?: string | null;
}

const TEXT_FIELDS = ["value", "description", "sample_value", "default_value"] as const;
/** What an operator's view shows in place of an encrypted value. */
const MASK = "******";

function text(v: unknown): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

function truthy(v: unknown): boolean {
  if (typeof v === "string") return v.trim().toLowerCase() === "true";
  return v === true;
}

function rowsOf(app: Record<string, any>): Row[] {
  const vars: unknown = app.app_variables;
  if (!Array.isArray(vars)) return [];
  return vars
    .filter((v): v is AppVariable => !!v && typeof v === "object")
    .map((v, i) => ({
      id: i,
      name: String(v.name ?? ""),
      value: text(v.value),
      description: text(v.description),
      required: truthy(v.required),
      sample_value: text(v.sample_value),
      default_value: text(v.default_value),
      orig: v,
    }));
}

/** A field's value: as it was when its text is unchanged, else typed like it was. */
function valueOf(t: string, orig: unknown): unknown {
  if (orig !== undefined && t === text(orig)) return orig;
  if (orig !== undefined && orig !== null && typeof orig !== "string") {
    try {
      return JSON.parse(t);
    } catch {
      return t;
    }
  }
  return t;
}

function variablesOf(rows: Row[]): AppVariable[] {
  return rows
    .filter((r) => r.name.trim() || r.value.trim())
    .map((r) => {
      const v: AppVariable = { ...(r.orig ?? {}), name: r.name.trim() };
      for (const f of TEXT_FIELDS) {
        const was = r.orig?.[f];
        if (r[f] === "" && (was === undefined || (f !== "value" && was === null))) delete v[f];
        else v[f] = valueOf(r[f], was);
      }
      if (r.orig && r.required === truthy(r.orig.required)) {
        if (r.orig.required !== undefined) v.required = r.orig.required;
      } else if (r.required || r.orig?.required !== undefined) v.required = r.required;
      return v;
    });
}

/** `${config.X}` names the application's steps use. */
function configNamesUsed(app: Record<string, any>): string[] {
  const found = new Set<string>();
  const re = /\$\{config\.([^}\s]+)\}/g;
  for (const m of JSON.stringify(app.steps ?? []).matchAll(re)) found.add(m[1]);
  return [...found].sort();
}

export function ConfigurePane({ app, onSaved, onClose }: ConfigurePaneProps) {
  const writer = can("write");
  const uid = useId();
  const [configuration, setConfiguration] = useState<string>(typeof app.configuration === "string" ? app.configuration : "");
  const [rows, setRows] = useState<Row[]>(() => rowsOf(app));
  const [configs, setConfigs] = useState<ConfigSummary[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [listError, setListError] = useState<unknown>(null);
  const [listing, setListing] = useState(true);
  const [showJson, setShowJson] = useState(false);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const loadConfigs = async (cursor: string | null, signal?: AbortSignal) => {
    setListing(true);
    try {
      const p = await page<ConfigSummary>(
        withQuery("/configurations", { limit: 100, cursor: cursor ?? undefined }),
        signal,
      );
      setConfigs((old) => (cursor ? [...old, ...p.items] : p.items));
      setNext(p.next);
      setListError(null);
    } catch (e) {
      if (!signal?.aborted) setListError(e);
    } finally {
      if (!signal?.aborted) setListing(false);
    }
  };

  useEffect(() => {
    const ctl = new AbortController();
    void loadConfigs(null, ctl.signal);
    return () => ctl.abort();
  }, []);

  const doc = useMemo(() => {
    const d: Record<string, any> = { ...app };
    if (configuration) d.configuration = configuration;
    else delete d.configuration;
    const vars = variablesOf(rows);
    if (vars.length || Array.isArray(app.app_variables)) d.app_variables = vars;
    return d;
  }, [app, configuration, rows]);

  const setRow = (id: number, patch: Partial<Row>) => setRows((rs) => rs.map((r) => (r.id === id ? { ...r, ...patch } : r)));

  const save = async (e: FormEvent) => {
    e.preventDefault();
    const names = doc.app_variables?.map((v: AppVariable) => v.name) ?? [];
    const problems: string[] = [];
    if (names.some((n: string) => !n)) problems.push("Every application variable needs a name.");
    const dup = names.filter((n: string, i: number) => n && names.indexOf(n) !== i);
    if (dup.length) problems.push(`Variables named more than once: ${[...new Set(dup)].join(", ")}.`);
    if (problems.length) {
      setError(new ApiError(400, "The variables need attention.", problems));
      return;
    }
    setSaving(true);
    setError(null);
    try {
      await post("/applications", doc);
      onSaved(doc);
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  };

  const listed = configs.some((c) => c.name === configuration);
  return (
    <Dialog title={`Configure ${app.friendly_name || app.name || "the application"}`} onClose={onClose} wide>
      <form onSubmit={save} className="cfg-pane" aria-label="Configure">
        <section>
          <h3>Configuration</h3>
          <div className="row">
            <label className="inline" htmlFor={`${uid}-config`}>
              Configuration
            </label>
            <select id={`${uid}-config`} value={configuration} onChange={(e) => setConfiguration(e.target.value)} disabled={!writer}>
                <option value="">(none)</option>
                {configuration && !listed ? <option value={configuration}>{configuration}</option> : null}
                {configs.map((c) => (
                  <option key={c.name} value={c.name}>
                    {c.friendly_name && c.friendly_name !== c.name ? `${c.friendly_name} (${c.name})` : c.name}
                  </option>
                ))}
            </select>
            {listing ? <span className="muted">Loading configurations…</span> : null}
            {next && !listing ? (
              <button type="button" onClick={() => loadConfigs(next)}>
                More configurations
              </button>
            ) : null}
          </div>
          <ErrorBox error={listError} />
          {configuration ? (
            <ConfigValues key={configuration} name={configuration} used={configNamesUsed(app)} writer={writer} />
          ) : (
            <p className="muted">Runs use no configuration: <code>{"${config.…}"}</code> variables do not resolve.</p>
          )}
        </section>

        <section>
          <h3>Application variables</h3>
          {rows.length ? (
            <table className="cfg-vars">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Value</th>
                  <th>Description</th>
                  <th>Required</th>
                  <th>Sample</th>
                  <th>Default</th>
                  {writer ? <th aria-label="Actions" /> : null}
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => {
                  const who = r.name || `variable ${i + 1}`;
                  return (
                    <tr key={r.id}>
                      <td>
                        <input aria-label={`Name of ${who}`} value={r.name} readOnly={!writer} onChange={(e) => setRow(r.id, { name: e.target.value })} />
                      </td>
                      <td>
                        <input aria-label={`Value of ${who}`} value={r.value} readOnly={!writer} onChange={(e) => setRow(r.id, { value: e.target.value })} />
                      </td>
                      <td>
                        <input
                          aria-label={`Description of ${who}`}
                          value={r.description}
                          readOnly={!writer}
                          onChange={(e) => setRow(r.id, { description: e.target.value })}
                        />
                      </td>
                      <td className="cfg-center">
                        <input
                          type="checkbox"
                          aria-label={`${who} is required`}
                          checked={r.required}
                          disabled={!writer}
                          onChange={(e) => setRow(r.id, { required: e.target.checked })}
                        />
                      </td>
                      <td>
                        <input
                          aria-label={`Sample value of ${who}`}
                          value={r.sample_value}
                          readOnly={!writer}
                          onChange={(e) => setRow(r.id, { sample_value: e.target.value })}
                        />
                      </td>
                      <td>
                        <input
                          aria-label={`Default value of ${who}`}
                          value={r.default_value}
                          readOnly={!writer}
                          onChange={(e) => setRow(r.id, { default_value: e.target.value })}
                        />
                      </td>
                      {writer ? (
                        <td>
                          <button type="button" className="icon" aria-label={`Remove ${who}`} onClick={() => setRows((rs) => rs.filter((x) => x.id !== r.id))}>
                            ✕
                          </button>
                        </td>
                      ) : null}
                    </tr>
                  );
                })}
              </tbody>
            </table>
          ) : (
            <p className="muted">No application variables.</p>
          )}
          {writer ? (
            <button
              type="button"
              onClick={() =>
                setRows((rs) => [
                  ...rs,
                  { id: Math.max(-1, ...rs.map((r) => r.id)) + 1, name: "", value: "", description: "", required: false, sample_value: "", default_value: "" },
                ])
              }
            >
              Add variable
            </button>
          ) : null}
        </section>

        <div className="toolbar cfg-json">
          <button type="button" aria-expanded={showJson} onClick={() => setShowJson((s) => !s)}>
            {showJson ? "Hide JSON" : "Show JSON"}
          </button>
        </div>
        {showJson ? (
          <pre className="cfg-json-text" aria-label="Application JSON">
            {JSON.stringify(doc, null, 2)}
          </pre>
        ) : null}

        <ErrorBox error={error} />
        <footer className="toolbar cfg-foot">
          {writer ? (
            <button type="submit" className="primary" disabled={saving}>
              {saving ? "Saving…" : "Save"}
            </button>
          ) : (
            <span className="muted">Your role can look at the configuration but not change it.</span>
          )}
          <button type="button" onClick={onClose}>
            {writer ? "Cancel" : "Close"}
          </button>
        </footer>
      </form>
    </Dialog>
  );
}

/** The values of one configuration, read-only; encrypted ones behind a padlock. */
function ConfigValues({ name, used, writer }: { name: string; used: string[]; writer: boolean }) {
  const [cfg, setCfg] = useState<ConfigDoc | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [replacing, setReplacing] = useState<string | null>(null);
  const [fresh, setFresh] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    setError(null);
    get<ConfigDoc>(`/configurations/${enc(name)}`, ctl.signal)
      .then(setCfg)
      .catch((e) => {
        if (!ctl.signal.aborted) setError(e);
      });
    return () => ctl.abort();
  }, [name, reload]);

  const replace = async (field: string) => {
    setBusy(true);
    setError(null);
    try {
      // Fresh from the node: every other value goes back exactly as stored.
      const current = await get<ConfigDoc>(`/configurations/${enc(name)}`);
      const data = current.configuration_data ?? [];
      if (data.some((v) => v.name !== field && v.encrypted && (v.value === undefined || v.value === MASK))) {
        throw new ApiError(403, "Your role cannot store this configuration: its other encrypted values are not given to it.");
      }
      const configuration_data = data.map((v) => (v.name === field ? { ...v, value: fresh, encrypted: true } : v));
      await post("/configurations", { ...current, configuration_data });
      setReplacing(null);
      setFresh("");
      setDone(`The value of ${field} was replaced.`);
      setReload((n) => n + 1);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  if (!cfg) return error ? <ErrorBox error={error} /> : <p className="muted">Loading {name}…</p>;
  const values = cfg.configuration_data ?? [];
  const defined = new Set(values.map((v) => v.name));
  const missing = used.filter((u) => !defined.has(u));
  return (
    <div className="cfg-values">
      <table aria-label={`Values of ${name}`}>
        <thead>
          <tr>
            <th>Variable</th>
            <th>Value</th>
            {writer ? <th aria-label="Actions" /> : null}
          </tr>
        </thead>
        <tbody>
          {values.map((v) => (
            <tr key={v.name} data-variable={v.name}>
              <td>
                <code>{v.name}</code>
              </td>
              <td>
                {v.encrypted ? (
                  <span className="padlock cfg-locked" title="Encrypted: the value is never shown">
                    <Padlock className="cfg-padlock" />
                    encrypted
                  </span>
                ) : v.value === undefined ? (
                  <span className="muted">hidden</span>
                ) : (
                  <code>{text(v.value)}</code>
                )}
                {replacing === v.name ? (
                  <span className="cfg-replace">
                    <input
                      type="password"
                      autoComplete="new-password"
                      aria-label={`New value for ${v.name}`}
                      value={fresh}
                      autoFocus
                      onChange={(e) => setFresh(e.target.value)}
                      onKeyDown={(e) => {
                        // Enter stores this value, not the whole pane.
                        if (e.key === "Enter") {
                          e.preventDefault();
                          if (fresh) void replace(v.name);
                        }
                      }}
                    />
                    <button type="button" className="primary" disabled={busy || !fresh} onClick={() => replace(v.name)}>
                      Store
                    </button>
                    <button type="button" onClick={() => (setReplacing(null), setFresh(""))}>
                      Cancel
                    </button>
                  </span>
                ) : null}
              </td>
              {writer ? (
                <td>
                  {v.encrypted && replacing !== v.name ? (
                    <button type="button" aria-label={`Replace ${v.name}`} onClick={() => (setReplacing(v.name), setDone(null))}>
                      Replace
                    </button>
                  ) : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      {!values.length ? <p className="muted">This configuration defines no variables.</p> : null}
      {missing.length ? (
        <p className="notice">
          The steps use {missing.map((m) => `config.${m}`).join(", ")}, which {name} does not define.
        </p>
      ) : null}
      {done ? (
        <p className="muted" role="status">
          {done}
        </p>
      ) : null}
      <ErrorBox error={error} />
    </div>
  );
}
