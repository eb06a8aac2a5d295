// The Schedules page: every schedule with its application, timing, next and
// last fire, enable switch and the history of its slots (expand a row);
// creating or editing one in a dialog with a frequency or a crontab builder
// (presets, the five fields, a time zone) that shows the next fire times the
// node computes before anything is saved; deleting one. Schedules a SyncPack
// declares can only be enabled or disabled here. Changes need `write`.
import { Fragment, useCallback, useEffect, useMemo, useState } from "react";
import { Link } from "wouter";
import { can, del, enc, get, page, post, put, withQuery } from "../api";
import { Dialog, Empty, ErrorBox, time } from "../components/common";
import { Confirm, Loading, PageHead, SearchBox, useVisibleInterval } from "./more/bits";
import { useDebounced } from "../components/paging";
import { CRON_PRESETS, describeSchedule, type CronFields, type ScheduleSpec } from "./more/schedule";

interface HistoryRecord {
  slot: number;
  outcome: string;
  run_id?: string;
  reason?: string;
  count?: number;
  until?: number;
}

interface ScheduleEntry {
  id: string;
  entry_id: string;
  application_id: string;
  enabled: boolean;
  overlap?: string;
  params?: Record<string, unknown>;
  schedule?: ScheduleSpec;
  owner?: { syncpack?: string } | null;
  next_fire?: number | null;
  last_fire?: number | null;
  history?: HistoryRecord[];
}

const OUTCOME_CLASS: Record<string, string> = {
  fired: "st-success",
  skipped: "st-waiting",
  refused: "st-failure",
  missed: "st-revoked",
};

/** "in 5 min" or "3 h ago" from seconds since the epoch. */
function relative(secs?: number | null): string {
  if (!secs) return "";
  const d = secs - Date.now() / 1000;
  const a = Math.abs(d);
  const text =
    a < 60 ? `${Math.round(a)} s` : a < 3600 ? `${Math.round(a / 60)} min` : a < 172800 ? `${Math.round(a / 3600)} h` : `${Math.round(a / 86400)} days`;
  return d >= 0 ? `in ${text}` : `${text} ago`;
}

function When({ secs }: { secs?: number | null }) {
  if (!secs) return <span className="muted">—</span>;
  return (
    <span className="pg-nowrap" title={new Date(secs * 1000).toISOString()}>
      {time(secs)} <span className="muted">({relative(secs)})</span>
    </span>
  );
}

export function SchedulesPage() {
  const [entries, setEntries] = useState<ScheduleEntry[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [search, setSearch] = useState("");
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [editing, setEditing] = useState<ScheduleEntry | "new" | null>(null);
  const [deleting, setDeleting] = useState<ScheduleEntry | null>(null);
  const [saved, setSaved] = useState<ScheduleEntry | null>(null);

  const load = useCallback(() => {
    get<ScheduleEntry[]>("/schedule")
      .then((e) => {
        setEntries(e);
        setError(null);
      })
      .catch(setError);
  }, []);
  useEffect(load, [load]);
  // Next fire times move on and slots fire: refresh while the page is seen.
  useVisibleInterval(load, 15000);

  async function toggle(e: ScheduleEntry, enabled: boolean) {
    setActionError(null);
    // The switch moves at once; the node's answer (with the new next fire)
    // replaces the row, or the row goes back when the change is refused.
    const swap = (row: ScheduleEntry) => setEntries((list) => list && list.map((x) => (x.id === e.id ? row : x)));
    swap({ ...e, enabled });
    try {
      swap(await put<ScheduleEntry>(`/schedule/${enc(e.id)}`, { enabled }));
    } catch (err) {
      swap(e);
      setActionError(err);
    }
  }

  const needle = search.trim().toLowerCase();
  const shown = (entries ?? [])
    .filter((e) => !needle || e.entry_id.toLowerCase().includes(needle) || e.application_id.toLowerCase().includes(needle))
    .sort((a, b) => a.entry_id.localeCompare(b.entry_id));
  const writer = can("write");

  return (
    <section>
      <PageHead title="Schedules">
        {writer ? (
          <button className="primary" onClick={() => setEditing("new")}>
            New schedule
          </button>
        ) : null}
      </PageHead>
      <div className="toolbar">
        <SearchBox label="Search schedules" value={search} onChange={setSearch} />
      </div>
      <ErrorBox error={error} />
      <ErrorBox error={actionError} />
      {saved ? (
        <div className="notice" role="status">
          Saved the schedule <strong>{saved.entry_id}</strong>
          {saved.next_fire ? (
            <>
              ; it fires next at <When secs={saved.next_fire} />.
            </>
          ) : saved.enabled ? (
            "."
          ) : (
            "; it is disabled."
          )}
        </div>
      ) : null}
      {entries === null && !error ? <Loading what="schedules" /> : null}
      {entries !== null && shown.length === 0 ? (
        <Empty>{needle ? "No schedule matches." : "There are no schedules yet."}</Empty>
      ) : null}
      {shown.length > 0 ? (
        <table aria-label="Schedules">
          <thead>
            <tr>
              <th>Entry</th>
              <th>Application</th>
              <th>When</th>
              <th>Enabled</th>
              <th>Next fire</th>
              <th>Last fire</th>
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => {
              const expanded = open.has(e.id);
              const pack = e.owner?.syncpack;
              return (
                <Fragment key={e.id}>
                  <tr data-entry={e.entry_id}>
                    <td>
                      {e.entry_id}
                      {pack ? <div className="muted">from SyncPack {pack}</div> : null}
                    </td>
                    <td>
                      <Link href={`/apps/${enc(e.application_id)}`}>{e.application_id}</Link>
                    </td>
                    <td>{describeSchedule(e.schedule)}</td>
                    <td>
                      {writer ? (
                        <input
                          type="checkbox"
                          aria-label={`Enabled ${e.entry_id}`}
                          checked={e.enabled}
                          onChange={(ev) => toggle(e, ev.target.checked)}
                        />
                      ) : e.enabled ? (
                        "yes"
                      ) : (
                        <span className="muted">no</span>
                      )}
                    </td>
                    <td className="pg-next-fire">{e.enabled ? <When secs={e.next_fire} /> : <span className="muted">disabled</span>}</td>
                    <td>
                      <When secs={e.last_fire} />
                    </td>
                    <td>
                      <span className="row pg-nowrap">
                        <button
                          aria-expanded={expanded}
                          aria-controls={`history-${e.id}`}
                          aria-label={`History of ${e.entry_id}`}
                          onClick={() =>
                            setOpen((s) => {
                              const n = new Set(s);
                              if (n.has(e.id)) n.delete(e.id);
                              else n.add(e.id);
                              return n;
                            })
                          }
                        >
                          {expanded ? "Hide history" : "History"}
                        </button>
                        {writer && !pack ? (
                          <>
                            <button aria-label={`Edit ${e.entry_id}`} onClick={() => setEditing(e)}>
                              Edit
                            </button>
                            <button className="danger" aria-label={`Delete ${e.entry_id}`} onClick={() => setDeleting(e)}>
                              Delete
                            </button>
                          </>
                        ) : null}
                      </span>
                    </td>
                  </tr>
                  {expanded ? (
                    <tr id={`history-${e.id}`} className="pg-subrow">
                      <td colSpan={7}>
                        <History records={e.history ?? []} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      ) : null}
      {editing ? (
        <ScheduleDialog
          entry={editing === "new" ? null : editing}
          taken={(entries ?? []).filter((e) => editing === "new" || e.id !== editing.id).map((e) => e.entry_id)}
          onClose={() => setEditing(null)}
          onSaved={(e) => {
            setEditing(null);
            setSaved(e);
            load();
          }}
        />
      ) : null}
      {deleting ? (
        <Confirm
          title="Delete schedule"
          action="Delete"
          onConfirm={() => del(`/schedule/${enc(deleting.id)}`)}
          onClose={() => setDeleting(null)}
          onDone={() => {
            setDeleting(null);
            setSaved(null);
            load();
          }}
        >
          Delete the schedule <strong>{deleting.entry_id}</strong> of {deleting.application_id}? Runs it started are kept.
        </Confirm>
      ) : null}
    </section>
  );
}

function History({ records }: { records: HistoryRecord[] }) {
  if (!records.length) return <p className="muted">No slot of this schedule has come yet.</p>;
  return (
    <table aria-label="Slot history" className="pg-inner">
      <thead>
        <tr>
          <th>Slot</th>
          <th>Outcome</th>
          <th>Run or reason</th>
        </tr>
      </thead>
      <tbody>
        {[...records].reverse().map((r, i) => (
          <tr key={`${r.slot}-${i}`}>
            <td>
              <When secs={r.slot} />
            </td>
            <td>
              <span className={`badge ${OUTCOME_CLASS[r.outcome] ?? ""}`}>{r.outcome}</span>
              {r.count ? <span className="muted"> ×{r.count}</span> : null}
            </td>
            <td>
              {r.run_id ? <code>{r.run_id}</code> : null}
              {r.reason ? <span>{r.reason}</span> : null}
              {r.until ? <span className="muted"> (until {time(r.until)})</span> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const UNITS: [number, string][] = [
  [1, "seconds"],
  [60, "minutes"],
  [3600, "hours"],
  [86400, "days"],
];

const CRON_LABELS: [keyof CronFields, string, string][] = [
  ["minute", "Minute", "0-59"],
  ["hour", "Hour", "0-23"],
  ["day_of_month", "Day of month", "1-31"],
  ["month_of_year", "Month", "1-12"],
  ["day_of_week", "Day of week", "0-6, 0 = Sunday"],
];

function zones(): string[] {
  try {
    return Intl.supportedValuesOf("timeZone");
  } catch {
    return ["UTC"];
  }
}


interface AppSummary {
  name: string;
  friendly_name?: string | null;
}

/** The dialog that creates a schedule, or changes one (`entry`). */
function ScheduleDialog(props: {
  entry: ScheduleEntry | null;
  taken: string[];
  onClose: () => void;
  onSaved: (e: ScheduleEntry) => void;
}) {
  const initial = props.entry;
  const info = initial?.schedule?.schedule_info ?? {};
  const initialEvery = Number(info.run_every) || 3600;
  const initialUnit = [...UNITS].reverse().find(([u]) => initialEvery % u === 0)?.[0] ?? 1;

  const [app, setApp] = useState(initial?.application_id ?? "");
  const [entryId, setEntryId] = useState(initial?.entry_id ?? "");
  const [entryTouched, setEntryTouched] = useState(!!initial);
  const [enabled, setEnabled] = useState(initial?.enabled ?? true);
  const [overlap, setOverlap] = useState(initial?.overlap ?? "skip");
  const [type, setType] = useState<"frequency" | "crontab">(initial?.schedule?.schedule_type === "crontab" ? "crontab" : "frequency");
  const [count, setCount] = useState(String(initialEvery / initialUnit));
  const [unit, setUnit] = useState(initialUnit);
  const [preset, setPreset] = useState(initial ? "custom" : "daily");
  const [at, setAt] = useState("06:00");
  const [cron, setCron] = useState<CronFields>(() =>
    initial?.schedule?.schedule_type === "crontab"
      ? {
          minute: info.minute ?? "*",
          hour: info.hour ?? "*",
          day_of_month: info.day_of_month ?? "*",
          month_of_year: info.month_of_year ?? "*",
          day_of_week: info.day_of_week ?? "*",
        }
      : CRON_PRESETS.find((p) => p.id === "daily")!.fields(6, 0),
  );
  const [timezone, setTimezone] = useState(info.timezone ?? "UTC");
  const [paramsText, setParamsText] = useState(
    initial?.params && Object.keys(initial.params).length ? JSON.stringify(initial.params, null, 2) : "",
  );
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const allZones = useMemo(zones, []);

  // Suggestions for the application field, a page at a time from the API.
  const term = useDebounced(app.trim(), 200);
  const [apps, setApps] = useState<AppSummary[]>([]);
  useEffect(() => {
    const ac = new AbortController();
    page<AppSummary>(withQuery("/applications", { limit: 20, search: term }), ac.signal)
      .then((p) => setApps(p.items))
      .catch(() => {
        /* suggestions only: the field still takes any name */
      });
    return () => ac.abort();
  }, [term]);

  function applyPreset(id: string, time = at) {
    setPreset(id);
    const p = CRON_PRESETS.find((x) => x.id === id);
    if (!p) return;
    const [h, m] = time.split(":").map(Number);
    setCron(p.fields(h || 0, m || 0));
  }

  const spec: ScheduleSpec = useMemo(
    () =>
      type === "frequency"
        ? { schedule_type: "frequency", schedule_info: { run_every: Math.round(Number(count) * unit) } }
        : { schedule_type: "crontab", schedule_info: { ...cron, timezone: timezone.trim() || "UTC" } },
    [type, count, unit, cron, timezone],
  );
  const presetObj = CRON_PRESETS.find((p) => p.id === preset);

  async function save() {
    setError(null);
    let params: Record<string, unknown> = {};
    if (paramsText.trim()) {
      try {
        params = JSON.parse(paramsText);
      } catch (e) {
        setError(new Error(`The run parameters are not valid JSON: ${(e as Error).message}`));
        return;
      }
      if (typeof params !== "object" || params === null || Array.isArray(params)) {
        setError(new Error("The run parameters must be a JSON object, e.g. {\"log_level\": 10}"));
        return;
      }
    }
    const doc = { application_id: app.trim(), entry_id: entryId.trim(), enabled, overlap, params, schedule: spec };
    setBusy(true);
    try {
      const stored = initial
        ? await put<ScheduleEntry>(`/schedule/${enc(initial.id)}`, doc)
        : await post<ScheduleEntry>("/schedule", doc);
      props.onSaved(stored);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }

  const replaces = !initial && props.taken.includes(entryId.trim());
  return (
    <Dialog title={initial ? `Edit schedule ${initial.entry_id}` : "New schedule"} onClose={props.onClose} wide>
      <form
        aria-label="Schedule"
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        <div className="pg-grid2">
          <label>
            Application
            <input
              list="pg-app-suggestions"
              value={app}
              required
              autoComplete="off"
              onChange={(e) => {
                setApp(e.target.value);
                if (!entryTouched) setEntryId(e.target.value ? `${e.target.value} schedule` : "");
              }}
            />
          </label>
          <label>
            Entry id
            <input
              value={entryId}
              required
              onChange={(e) => {
                setEntryId(e.target.value);
                setEntryTouched(true);
              }}
            />
          </label>
        </div>
        <datalist id="pg-app-suggestions">
          {apps.map((a) => (
            <option key={a.name} value={a.name}>
              {a.friendly_name ?? ""}
            </option>
          ))}
        </datalist>
        {replaces ? <p className="notice">A schedule with this entry id exists: saving replaces it.</p> : null}
        <div className="row">
          <label className="inline">
            <input type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
            Enabled
          </label>
          <label className="inline" htmlFor="pg-overlap">
            While the previous run is unfinished
          </label>
          <select id="pg-overlap" value={overlap} onChange={(e) => setOverlap(e.target.value)}>
            <option value="skip">skip the slot</option>
            <option value="allow">start another run</option>
          </select>
        </div>

        <fieldset className="pg-fieldset">
          <legend>When</legend>
          <div className="row" role="radiogroup" aria-label="Schedule type">
            <label className="inline">
              <input type="radio" name="stype" checked={type === "frequency"} onChange={() => setType("frequency")} />
              Frequency
            </label>
            <label className="inline">
              <input type="radio" name="stype" checked={type === "crontab"} onChange={() => setType("crontab")} />
              Crontab
            </label>
          </div>
          {type === "frequency" ? (
            <div className="row">
              <label className="inline">
                Run every
                <input
                  type="number"
                  min={1}
                  className="pg-num"
                  value={count}
                  onChange={(e) => setCount(e.target.value)}
                  aria-label="Run every"
                />
              </label>
              <select aria-label="Unit" value={unit} onChange={(e) => setUnit(Number(e.target.value))}>
                {UNITS.map(([u, l]) => (
                  <option key={u} value={u}>
                    {l}
                  </option>
                ))}
              </select>
            </div>
          ) : (
            <>
              <div className="row">
                <label className="inline" htmlFor="pg-preset">
                  Preset
                </label>
                <select id="pg-preset" value={preset} onChange={(e) => applyPreset(e.target.value)}>
                    {CRON_PRESETS.map((p) => (
                      <option key={p.id} value={p.id}>
                        {p.label}
                      </option>
                    ))}
                    <option value="custom">Custom (edit the fields)</option>
                  </select>
                {presetObj?.timed ? (
                  <label className="inline">
                    At
                    <input
                      type="time"
                      aria-label="Time of day"
                      value={at}
                      onChange={(e) => {
                        setAt(e.target.value);
                        applyPreset(preset, e.target.value);
                      }}
                    />
                  </label>
                ) : null}
              </div>
              <div className="pg-cron">
                {CRON_LABELS.map(([key, label, hint]) => (
                  <label key={key} title={hint}>
                    {label}
                    <input
                      aria-label={label}
                      aria-describedby={`pg-hint-${key}`}
                      value={cron[key]}
                      onChange={(e) => {
                        setCron({ ...cron, [key]: e.target.value });
                        setPreset("custom");
                      }}
                    />
                    <span className="muted pg-hint" id={`pg-hint-${key}`}>
                      {hint}
                    </span>
                  </label>
                ))}
              </div>
              <label className="pg-tz">
                Time zone
                <input list="pg-timezones" value={timezone} onChange={(e) => setTimezone(e.target.value)} />
              </label>
              <datalist id="pg-timezones">
                {allZones.map((z) => (
                  <option key={z} value={z} />
                ))}
              </datalist>
            </>
          )}
          <NextFires spec={spec} timezone={type === "crontab" ? timezone.trim() || "UTC" : undefined} />
        </fieldset>

        <details className="pg-gap">
          <summary>Run parameters (optional)</summary>
          <label>
            Parameters of each run, as a JSON object (variable overrides, configuration, queue, log_level)
            <textarea rows={4} value={paramsText} onChange={(e) => setParamsText(e.target.value)} spellCheck={false} />
          </label>
        </details>
        <ErrorBox error={error} />
        <div className="pg-actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !app.trim() || !entryId.trim()}>
            {busy ? "Saving…" : "Save"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The next fire times of `spec` as the node computes them, before saving. */
function NextFires({ spec, timezone }: { spec: ScheduleSpec; timezone?: string }) {
  const key = JSON.stringify(spec);
  const settled = useDebounced(key, 300);
  const [fires, setFires] = useState<number[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    let live = true;
    setLoading(true);
    post<{ next_fires: number[] }>("/schedule/preview?count=5", JSON.parse(settled))
      .then((a) => {
        if (!live) return;
        setFires(a?.next_fires ?? []);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!live) return;
        setFires(null);
        setError(e);
      })
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [settled]);

  const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const other = timezone && timezone !== local;
  const inZone = (s: number) => {
    try {
      return new Date(s * 1000).toLocaleString(undefined, { timeZone: timezone });
    } catch {
      return "";
    }
  };
  return (
    <div className="pg-fires" role="region" aria-label="Next fire times" aria-busy={loading || key !== settled}>
      <strong>Next fire times</strong>
      <ErrorBox error={error} />
      {fires && fires.length === 0 ? <p className="muted">This schedule never fires.</p> : null}
      {fires && fires.length ? (
        <ol>
          {fires.map((s) => (
            <li key={s}>
              {time(s)}
              {other ? <span className="muted"> — {inZone(s)} in {timezone}</span> : null}
              <span className="muted"> ({relative(s)})</span>
            </li>
          ))}
        </ol>
      ) : null}
      {!fires && !error ? <p className="muted">Working them out…</p> : null}
    </div>
  );
}
