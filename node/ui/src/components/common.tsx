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

/** A padlock, drawn inline (an emoji needs a font the machine may not have). */
export function Padlock({ className }: { className?: string }) {
  return (
    <svg className={className} viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">
      <path d="M4.5 7V5a3.5 3.5 0 0 1 7 0v2" fill="none" stroke="currentColor" strokeWidth="1.6" />
      <rect x="2.5" y="7" width="11" height="8" rx="1.5" fill="currentColor" />
    </svg>
  );
}
