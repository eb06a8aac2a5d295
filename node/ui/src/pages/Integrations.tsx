// The Integrations page: every application a page at a time (friendly
// name, description, owning SyncPack, last run, schedules) with search as
// you type and the actions Run, Open and Delete the caller's role allows;
// a second tab lists runs of every application with filters.
import { useEffect, useState } from "react";
import { Link, useLocation, useSearch } from "wouter";
import { can, del, enc, page, post, withQuery } from "../api";
import { ErrorBox, Pager, StateBadge, time } from "../components/common";
import { ConfirmDialog } from "./app/RunDialogs";
import { RunsBrowser } from "./app/RunsBrowser";
import type { RunStatus } from "./app/types";

const LIMIT = 50;

interface LastRun {
  id: string;
  state: string;
  start_time?: number | null;
  end_time?: number | null;
}

interface ScheduleRef {
  id: string;
  enabled: boolean;
  next_fire?: number | null;
}

/** One application of GET /applications (pack, last run and schedules when the node sends them). */
interface AppItem {
  name: string;
  friendly_name?: string | null;
  description?: string | null;
  version?: string | null;
  author?: string | null;
  syncpack?: string | null;
  last_run?: LastRun | null;
  schedules?: ScheduleRef[];
}

const appHref = (name: string, run?: string) => `/apps/${enc(name)}${run ? `?run=${enc(run)}` : ""}`;

function Schedules({ list }: { list?: ScheduleRef[] }) {
  if (!list || list.length === 0) return <span className="muted">—</span>;
  const on = list.filter((s) => s.enabled);
  const next = on.map((s) => s.next_fire ?? 0).filter((t) => t > 0).sort((a, b) => a - b)[0];
  return (
    <span>
      {on.length ? `${on.length} active` : "disabled"}
      {list.length > on.length && on.length ? `, ${list.length - on.length} off` : ""}
      {next ? <div className="muted small">next {time(next)}</div> : null}
    </span>
  );
}

function Applications() {
  const [typed, setTyped] = useState("");
  const [query, setQuery] = useState("");
  const [cursors, setCursors] = useState<string[]>([""]);
  const [items, setItems] = useState<AppItem[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<{ app: string; run: string } | null>(null);
  const [reload, setReload] = useState(0);
  const [deleting, setDeleting] = useState<AppItem | null>(null);
  const [runError, setRunError] = useState<unknown>(null);
  const [starting, setStarting] = useState<string | null>(null);
  const cursor = cursors[cursors.length - 1];

  // Search as you type: wait for a pause, then start from the first page.
  useEffect(() => {
    const q = typed.trim();
    if (q === query) return;
    const t = setTimeout(() => {
      setQuery(q);
      setCursors([""]);
    }, 250);
    return () => clearTimeout(t);
  }, [typed, query]);

  useEffect(() => {
    const ac = new AbortController();
    setLoading(true);
    page<AppItem>(withQuery("/applications", { limit: LIMIT, cursor, search: query }), ac.signal)
      .then((p) => {
        setItems(p.items);
        setNext(p.next);
        setError(null);
        setLoading(false);
      })
      .catch((e) => {
        if (ac.signal.aborted) return;
        setError(e);
        setLoading(false);
      });
    return () => ac.abort();
  }, [query, cursor, reload]);

  const mayRun = can("run");
  const mayWrite = can("write");
  // The node searches (`search`) and pages; the page shows what it answers.
  const shown = items ?? [];

  async function run(a: AppItem) {
    setRunError(null);
    setStarting(a.name);
    try {
      const r = await post<RunStatus>(`/applications/${enc(a.name)}/run`, { params: { log_level: 1 } });
      setMessage({ app: a.name, run: r.id });
      setItems((list) =>
        (list ?? []).map((x) =>
          x.name === a.name ? { ...x, last_run: { id: r.id, state: r.state, start_time: r.start_time ?? r.created_time } } : x,
        ),
      );
    } catch (e) {
      setRunError(e);
    } finally {
      setStarting(null);
    }
  }

  return (
    <div>
      <div className="toolbar">
        <input
          type="search"
          aria-label="Search applications"
          placeholder="Search by name or description"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          className="int-search"
        />
        {loading ? <span className="muted">Loading…</span> : null}
        <span className="spacer" />
        {mayWrite ? (
          <Link className="button" href="/editor">
            New application
          </Link>
        ) : null}
      </div>
      <div role="status" className="int-status">
        {message ? (
          <span className="notice">
            Started <Link href={appHref(message.app, message.run)}>{message.app}</Link> as run <code>{message.run}</code>
          </span>
        ) : null}
      </div>
      <ErrorBox error={runError} />
      <ErrorBox error={error} />
      {items && shown.length === 0 ? (
        <p className="empty">{query ? `No application matches “${query}”.` : "There is no application yet."}</p>
      ) : null}
      {shown.length > 0 ? (
        <table className="int-table" aria-busy={loading}>
          <thead>
            <tr>
              <th scope="col">Application</th>
              <th scope="col">Description</th>
              <th scope="col">SyncPack</th>
              <th scope="col">Last run</th>
              <th scope="col">Schedule</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((a) => (
              <tr key={a.name}>
                <td>
                  <Link href={appHref(a.name)} className="int-name">
                    {a.friendly_name || a.name}
                  </Link>
                  {a.friendly_name && a.friendly_name !== a.name ? <div className="muted small">{a.name}</div> : null}
                </td>
                <td className="int-desc">{a.description || <span className="muted">—</span>}</td>
                <td>{a.syncpack || <span className="muted">—</span>}</td>
                <td>
                  {a.last_run ? (
                    <Link href={appHref(a.name, a.last_run.id)} className="int-lastrun">
                      <StateBadge state={a.last_run.state} />
                      <span className="small"> {time(a.last_run.start_time)}</span>
                    </Link>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
                <td>
                  <Schedules list={a.schedules} />
                </td>
                <td className="int-actions">
                  {mayRun ? (
                    <button onClick={() => run(a)} disabled={starting === a.name}>
                      Run
                    </button>
                  ) : null}
                  <Link className="button" href={appHref(a.name)}>
                    Open
                  </Link>
                  {mayWrite ? (
                    <button className="danger" onClick={() => setDeleting(a)}>
                      Delete
                    </button>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager
        hasPrev={cursors.length > 1}
        hasNext={!!next}
        onPrev={() => setCursors((c) => c.slice(0, -1))}
        onNext={() => next && setCursors((c) => [...c, next])}
      />
      {deleting ? (
        <ConfirmDialog
          title="Delete application"
          message={`Delete the application ${deleting.friendly_name || deleting.name} (${deleting.name})? Its past runs stay listed.`}
          action="Delete"
          onClose={() => setDeleting(null)}
          onConfirm={async () => {
            await del(`/applications/${enc(deleting.name)}`);
            setDeleting(null);
            // The last row of a later page gone: show the page before.
            if (items?.length === 1 && cursors.length > 1) setCursors((c) => c.slice(0, -1));
            else setReload((n) => n + 1);
          }}
        />
      ) : null}
    </div>
  );
}

export function IntegrationsPage() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const tab = new URLSearchParams(search).get("tab") === "runs" ? "runs" : "apps";
  const tabs: [string, string][] = [
    ["apps", "Applications"],
    ["runs", "Runs"],
  ];
  return (
    <section>
      <h1>Integrations</h1>
      <div className="tabs" role="tablist" aria-label="Integrations">
        {tabs.map(([t, label]) => (
          <button
            key={t}
            role="tab"
            id={`int-tab-${t}`}
            aria-selected={tab === t}
            aria-controls="int-panel"
            onClick={() => navigate(t === "runs" ? "/integrations?tab=runs" : "/integrations", { replace: true })}
          >
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id="int-panel" aria-labelledby={`int-tab-${tab}`}>
        {tab === "runs" ? <RunsBrowser /> : <Applications />}
      </div>
    </section>
  );
}
