// Dialogs of the application page: Custom Run (log level, application
// variable overrides, configuration and queue) and a confirmation for
// actions that cannot be undone (revoke).
import { useEffect, useId, useState, type FormEvent } from "react";
import { page, post } from "../../api";
import { Dialog, ErrorBox } from "../../components/common";
import { show, type AppDoc, type RunStatus } from "./types";

export const LOG_LEVELS: [number, string][] = [
  [1, "Normal (1)"],
  [10, "Debug (10)"],
  [20, "Info (20)"],
  [30, "Warning (30)"],
  [40, "Error (40)"],
];

interface VarRow {
  key: number;
  name: string;
  text: string;
  /** The document's value; undefined for a variable added here. */
  original?: unknown;
  declared: boolean;
  description?: string;
}

/** A typed value back from its text: JSON when the original was not a string. */
function parseValue(text: string, original: unknown): unknown {
  if (typeof original === "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

interface ConfigSummary {
  name: string;
  friendly_name?: string | null;
}

export function CustomRunDialog(props: { app: AppDoc; onClose: () => void; onStarted: (run: RunStatus) => void }) {
  const { app } = props;
  const id = useId();
  const [level, setLevel] = useState(1);
  const [rows, setRows] = useState<VarRow[]>(() =>
    (app.app_variables ?? []).map((v, i) => {
      const original = v.value ?? v.default_value;
      return {
        key: i,
        name: v.name,
        text: original == null ? "" : show(original),
        original,
        declared: true,
        description: v.description,
      };
    }),
  );
  const [configs, setConfigs] = useState<ConfigSummary[] | null>(null);
  const [moreConfigs, setMoreConfigs] = useState(false);
  const [configuration, setConfiguration] = useState("");
  const [queue, setQueue] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const ac = new AbortController();
    page<ConfigSummary>("/configurations?limit=100", ac.signal)
      .then((p) => {
        setConfigs(p.items);
        setMoreConfigs(!!p.next);
      })
      .catch((e) => {
        if (!ac.signal.aborted) setError(e);
      });
    return () => ac.abort();
  }, []);

  const change = (key: number, patch: Partial<VarRow>) =>
    setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...patch } : r)));

  async function submit(e: FormEvent) {
    e.preventDefault();
    const params: Record<string, unknown> = { log_level: level };
    for (const r of rows) {
      const name = r.name.trim();
      if (!name) continue;
      const unchanged = r.declared && r.text === (r.original == null ? "" : show(r.original));
      if (!unchanged) params[name] = parseValue(r.text, r.original);
    }
    if (configuration) params.configuration = configuration;
    if (queue.trim()) params.queue = queue.trim();
    setBusy(true);
    setError(null);
    try {
      const run = await post<RunStatus>("/applications/run", { name: app.name, params });
      props.onStarted(run);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }

  const nextKey = rows.reduce((m, r) => Math.max(m, r.key), -1) + 1;
  return (
    <Dialog title="Custom Run" onClose={props.onClose}>
      <form onSubmit={submit} className="run-custom" aria-label="Custom Run">
        <label>
          Log level
          <select value={level} onChange={(e) => setLevel(Number(e.target.value))}>
            {LOG_LEVELS.map(([n, label]) => (
              <option key={n} value={n}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <fieldset>
          <legend>Application variables</legend>
          {rows.length === 0 ? <p className="muted">The application declares no variable.</p> : null}
          {rows.map((r) =>
            r.declared ? (
              <label key={r.key}>
                {r.name}
                {r.description ? <span className="muted small run-var-desc">{r.description}</span> : null}
                <input
                  value={r.text}
                  onChange={(e) => change(r.key, { text: e.target.value })}
                  placeholder={r.original == null ? "no value" : undefined}
                />
              </label>
            ) : (
              <div className="row run-newvar" key={r.key}>
                <input
                  aria-label="Variable name"
                  placeholder="name"
                  value={r.name}
                  onChange={(e) => change(r.key, { name: e.target.value })}
                />
                <input
                  aria-label={`Value of ${r.name || "the new variable"}`}
                  placeholder="value"
                  value={r.text}
                  onChange={(e) => change(r.key, { text: e.target.value })}
                />
                <button
                  type="button"
                  className="icon"
                  aria-label={`Remove ${r.name || "variable"}`}
                  onClick={() => setRows((rs) => rs.filter((x) => x.key !== r.key))}
                >
                  ✕
                </button>
              </div>
            ),
          )}
          <button
            type="button"
            onClick={() => setRows((rs) => [...rs, { key: nextKey, name: "", text: "", declared: false }])}
          >
            Add variable
          </button>
          <p className="muted small">Only values you change are sent; text that reads as JSON is sent as JSON for non-text variables.</p>
        </fieldset>
        <label htmlFor={`${id}-cfg`}>Configuration</label>
        <select id={`${id}-cfg`} value={configuration} onChange={(e) => setConfiguration(e.target.value)}>
          <option value="">The application's ({app.configuration || "none"})</option>
          {(configs ?? []).map((c) => (
            <option key={c.name} value={c.name}>
              {c.friendly_name ? `${c.friendly_name} (${c.name})` : c.name}
            </option>
          ))}
        </select>
        {moreConfigs ? <p className="muted small">The first 100 configurations are listed.</p> : null}
        <label>
          Queue
          <input value={queue} onChange={(e) => setQueue(e.target.value)} placeholder={app.queue || "default"} />
        </label>
        <ErrorBox error={error} />
        <div className="toolbar run-dialog-actions">
          <span className="spacer" />
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? "Starting…" : "Start run"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Asks before an action; shows the action's error in place. */
export function ConfirmDialog(props: {
  title: string;
  message: string;
  action: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <p>{props.message}</p>
      <ErrorBox error={error} />
      <div className="toolbar run-dialog-actions">
        <span className="spacer" />
        <button type="button" onClick={props.onClose} autoFocus>
          Cancel
        </button>
        <button
          type="button"
          className="primary danger-fill"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await props.onConfirm();
            } catch (e) {
              setError(e);
              setBusy(false);
            }
          }}
        >
          {props.action}
        </button>
      </div>
    </Dialog>
  );
}
