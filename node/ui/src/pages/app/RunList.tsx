// The recent runs of one application, newest first, a page at a time
// (GET /tasks?app=NAME&limit=…&cursor=…); choosing one shows it in the
// flowchart. `refresh` changes whenever a run starts or ends.
import { useEffect, useState } from "react";
import { page, withQuery } from "../../api";
import { ErrorBox, Pager, StateBadge } from "../../components/common";
import { duration, shortId, triggerOf, type RunStatus } from "./types";

const LIMIT = 12;

export interface RunListProps {
  app: string;
  selected: string | null;
  refresh: number;
  onSelect: (id: string) => void;
}

export function RunList({ app, selected, refresh, onSelect }: RunListProps) {
  // cursors[i] opens page i; the first page has none.
  const [cursors, setCursors] = useState<string[]>([""]);
  const [items, setItems] = useState<RunStatus[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const cursor = cursors[cursors.length - 1];

  useEffect(() => setCursors([""]), [app]);
  useEffect(() => {
    const ac = new AbortController();
    page<RunStatus>(withQuery("/tasks", { app, limit: LIMIT, cursor }), ac.signal)
      .then((p) => {
        setItems(p.items);
        setNext(p.next);
        setError(null);
      })
      .catch((e) => {
        if (!ac.signal.aborted) setError(e);
      });
    return () => ac.abort();
  }, [app, cursor, refresh]);

  return (
    <section className="panel run-list" aria-label="Runs of this application">
      <header className="run-side-head">
        <h2>Runs</h2>
      </header>
      <ErrorBox error={error} />
      {items === null && !error ? <p className="muted">Loading…</p> : null}
      {items && items.length === 0 && cursors.length === 1 ? (
        <p className="empty">This application has not run yet.</p>
      ) : null}
      {items && items.length > 0 ? (
        <ul>
          {items.map((r) => {
            const when = r.start_time ?? r.created_time;
            return (
              <li key={r.id}>
                <button
                  type="button"
                  className={r.id === selected ? "current" : ""}
                  aria-current={r.id === selected ? "true" : undefined}
                  aria-label={`${r.state} ${when ? new Date(when * 1000).toLocaleString() : ""} ${r.id}`}
                  onClick={() => onSelect(r.id)}
                >
                  <StateBadge state={r.state} />
                  <span className="run-list-when">{when ? new Date(when * 1000).toLocaleString() : "—"}</span>
                  <span className="muted small">
                    {triggerOf(r)} · {r.start_time ? duration(r.start_time, r.end_time) : "not started"} · {shortId(r.id)}
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      ) : null}
      <Pager
        hasPrev={cursors.length > 1}
        hasNext={!!next}
        onPrev={() => setCursors((c) => c.slice(0, -1))}
        onNext={() => next && setCursors((c) => [...c, next])}
      />
    </section>
  );
}
