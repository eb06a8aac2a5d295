// Runs of every application (the Runs tab of the Integrations page),
// newest first, filtered by state, how they were started and a time
// range, 25 at a time from the API's cursor; each links to its run on the
// application page.
import { useId, useState } from "react";
import { Link } from "wouter";
import { enc } from "../../api";
import { useDebounced, usePaged } from "../../components/paging";
import { ErrorBox, Pager, StateBadge, time } from "../../components/common";
import { duration, triggerOf, type RunStatus } from "./types";

const LIMIT = 25;
const STATES = ["PENDING", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED"];
const TRIGGERS: [string, string][] = [
  ["USER", "User"],
  ["SCHEDULE", "Schedule"],
  ["APPLICATION", "Trigger step"],
  ["REPLAY", "Replay"],
];

/** A datetime-local value as seconds since the epoch ("" when unset). */
function epoch(local: string): number | "" {
  if (!local) return "";
  const t = new Date(local).getTime();
  return Number.isNaN(t) ? "" : Math.floor(t / 1000);
}

export function RunsBrowser() {
  const id = useId();
  const [state, setState] = useState("");
  const [trigger, setTrigger] = useState("");
  const [app, setApp] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  // The application filter is typed: wait for a pause. Any filter change
  // starts again from the first page.
  const appQuery = useDebounced(app.trim(), 300);
  const list = usePaged<RunStatus>(
    "/tasks",
    { state, triggered_by: trigger, app: appQuery, since: epoch(from), until: epoch(to) },
    LIMIT,
  );

  const filtered = !!(state || trigger || appQuery || from || to);
  return (
    <div>
      <form className="toolbar int-filters" aria-label="Run filters" onSubmit={(e) => e.preventDefault()}>
        <span className="int-filter">
          <label htmlFor={`${id}-state`}>State</label>
          <select id={`${id}-state`} value={state} onChange={(e) => setState(e.target.value)}>
            <option value="">Any</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </span>
        <span className="int-filter">
          <label htmlFor={`${id}-trigger`}>Started by</label>
          <select id={`${id}-trigger`} value={trigger} onChange={(e) => setTrigger(e.target.value)}>
            <option value="">Anyone</option>
            {TRIGGERS.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </span>
        <span className="int-filter">
          <label htmlFor={`${id}-app`}>Application</label>
          <input id={`${id}-app`} value={app} onChange={(e) => setApp(e.target.value)} placeholder="exact name" size={16} />
        </span>
        <span className="int-filter">
          <label htmlFor={`${id}-from`}>From</label>
          <input id={`${id}-from`} type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
        </span>
        <span className="int-filter">
          <label htmlFor={`${id}-to`}>To</label>
          <input id={`${id}-to`} type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
        </span>
        {filtered ? (
          <button
            type="button"
            onClick={() => {
              setState("");
              setTrigger("");
              setApp("");
              setFrom("");
              setTo("");
            }}
          >
            Clear filters
          </button>
        ) : null}
        {list.loading ? <span className="muted">Loading…</span> : null}
      </form>
      <ErrorBox error={list.error} />
      {!list.loading && list.items.length === 0 ? (
        <p className="empty">{filtered ? "No run matches these filters." : "Nothing has run yet."}</p>
      ) : null}
      {list.items.length > 0 ? (
        <table aria-busy={list.loading} aria-label="Runs">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Application</th>
              <th scope="col">State</th>
              <th scope="col">Started by</th>
              <th scope="col">Created</th>
              <th scope="col">Took</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link href={`/apps/${enc(r.app_name)}?run=${enc(r.id)}`}>
                    <code>{r.id}</code>
                  </Link>
                </td>
                <td>{r.app_name}</td>
                <td>
                  <StateBadge state={r.state} />
                </td>
                <td>{triggerOf(r)}</td>
                <td className="nowrap">{time(r.created_time ?? r.start_time)}</td>
                <td className="nowrap">{r.start_time ? duration(r.start_time, r.end_time) : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager hasPrev={list.hasPrev} hasNext={list.hasNext} onPrev={list.prev} onNext={list.next} />
    </div>
  );
}
