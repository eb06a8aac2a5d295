// The steps registry pane of the editor: the stored step classes, a page at
// a time (GET /steps?limit=50, "Load more" follows X-Next-Cursor), searched
// as the user types. Each entry can be dragged onto the canvas or added with
// its "Add" button (keyboard users).
import { useEffect, useState, type DragEvent } from "react";
import { page, withQuery } from "../../api";
import { ErrorBox } from "../../components/common";

export interface StepSummary {
  name: string;
  friendly_name?: string | null;
  description?: string | null;
  version?: string | null;
}

/** The drag-and-drop type that carries a step class name to the canvas. */
export const STEP_MIME = "application/x-is-step";
const PAGE = 50;

function matches(s: StepSummary, text: string): boolean {
  const t = text.trim().toLowerCase();
  if (!t) return true;
  return [s.name, s.friendly_name, s.description].some((v) => (v ?? "").toLowerCase().includes(t));
}

export function Registry({ onAdd }: { onAdd: (file: string) => void }) {
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [items, setItems] = useState<StepSummary[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  // Search as you type, without a request per key stroke.
  useEffect(() => {
    const t = setTimeout(() => setQuery(search.trim()), 250);
    return () => clearTimeout(t);
  }, [search]);

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    (async () => {
      const p = await page<StepSummary>(withQuery("/steps", { limit: PAGE, search: query }), ctl.signal);
      setItems(p.items);
      setNext(p.next);
    })()
      .catch((e) => {
        if (!ctl.signal.aborted) setError(e);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [query]);

  const more = async () => {
    if (!next) return;
    setLoading(true);
    try {
      const p = await page<StepSummary>(withQuery("/steps", { limit: PAGE, search: query, cursor: next }));
      setItems((old) => [...old, ...p.items]);
      setNext(p.next);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };

  // Filtering the loaded page too keeps the pane right while the search
  // for what was typed is on its way.
  const shown = items.filter((s) => matches(s, search));
  const start = (e: DragEvent, name: string) => {
    e.dataTransfer.setData(STEP_MIME, name);
    e.dataTransfer.setData("text/plain", name);
    e.dataTransfer.effectAllowed = "copy";
  };

  return (
    <aside className="ed-registry" aria-label="Steps registry">
      <h2>Steps</h2>
      <input
        type="search"
        aria-label="Search steps"
        placeholder="Search steps…"
        value={search}
        onChange={(e) => setSearch(e.target.value)}
      />
      <p className="muted ed-hint">Drag a step onto the canvas, or use Add.</p>
      <ErrorBox error={error} />
      <ul className="ed-steps">
        {shown.map((s) => (
          <li key={s.name} draggable onDragStart={(e) => start(e, s.name)} title={s.description ?? s.name} data-step={s.name}>
            <div className="ed-step-text">
              <strong>{s.friendly_name || s.name}</strong>
              {s.friendly_name && s.friendly_name !== s.name ? <span className="muted"> {s.name}</span> : null}
              {s.description ? <div className="muted ed-desc">{s.description}</div> : null}
            </div>
            <button type="button" aria-label={`Add ${s.name}`} onClick={() => onAdd(s.name)}>
              Add
            </button>
          </li>
        ))}
      </ul>
      {loading ? <p className="muted">Loading…</p> : null}
      {!loading && !shown.length && !error ? (
        <p className="empty">{search.trim() ? `No step matches “${search.trim()}”.` : "No steps are stored yet."}</p>
      ) : null}
      {next ? (
        <button type="button" disabled={loading} onClick={more}>
          Load more
        </button>
      ) : null}
    </aside>
  );
}
