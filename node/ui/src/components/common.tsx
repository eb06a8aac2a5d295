// Small pieces every page uses: state badges, error boxes, times, paging
// and a dialog. Pages own everything else.
import { useEffect, useRef, type ReactNode } from "react";
import { ApiError } from "../api";

export const STATE_CLASS: Record<string, string> = {
  PENDING: "st-pending",
  STARTED: "st-running",
  RETRY: "st-waiting",
  SUCCESS: "st-success",
  FAILURE: "st-failure",
  REVOKED: "st-revoked",
};

export function StateBadge({ state }: { state?: string | null }) {
  if (!state) return <span className="muted">—</span>;
  return <span className={`badge ${STATE_CLASS[state] ?? ""}`} data-state={state}>{state}</span>;
}

export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const e = error as ApiError;
  return (
    <div className="error" role="alert">
      <strong>{e.message ?? String(error)}</strong>
      {e.details?.length ? (
        <ul>
          {e.details.map((d, i) => (
            <li key={i}>{d}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** Seconds since the epoch as a local date and time. */
export function time(secs?: number | null): string {
  if (!secs) return "—";
  return new Date(secs * 1000).toLocaleString();
}

/** Previous/next buttons over a cursor-paged listing. */
export function Pager(props: { hasPrev: boolean; hasNext: boolean; onPrev: () => void; onNext: () => void }) {
  return (
    <div className="pager">
      <button disabled={!props.hasPrev} onClick={props.onPrev}>
        ‹ Previous
      </button>
      <button disabled={!props.hasNext} onClick={props.onNext}>
        Next ›
      </button>
    </div>
  );
}

/** A modal dialog: Escape or the close button closes it. */
export function Dialog(props: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} className={props.wide ? "wide" : ""} onCancel={props.onClose} aria-label={props.title}>
      <header>
        <h2>{props.title}</h2>
        <button className="icon" aria-label="Close" onClick={props.onClose}>
          ✕
        </button>
      </header>
      <div className="dialog-body">{props.children}</div>
    </dialog>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}
