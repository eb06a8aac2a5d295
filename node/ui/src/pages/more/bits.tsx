// Helpers shared by the Configurations, Steps, SyncPacks, Schedules, Reports
// and Cluster pages: the `?key=` detail selection in the address bar, a
// confirmation dialog for deletions and small presentational pieces.
// (Paging and debouncing are components/paging.ts's.)
import { useCallback, useEffect, useState, type ReactNode } from "react";
import { useLocation, useSearch } from "wouter";
import { get } from "../../api";
import { Dialog, ErrorBox, Padlock } from "../../components/common";

/**
 * The item a page shows in detail, kept in the address bar as `?key=value`
 * so the browser's Back button and links reach it. `open(null)` goes back
 * to the listing.
 */
export function useDetail(key: string): [string | null, (value: string | null) => void] {
  const search = useSearch();
  const [location, navigate] = useLocation();
  const value = new URLSearchParams(search).get(key);
  const open = useCallback(
    (v: string | null) => navigate(v === null ? location : `${location}?${key}=${encodeURIComponent(v)}`),
    [navigate, location, key],
  );
  return [value, open];
}

/** Calls `fn` every `ms` while the page is visible (and once at once). */
export function useVisibleInterval(fn: () => void, ms: number) {
  useEffect(() => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const start = () => {
      if (timer === undefined) timer = setInterval(fn, ms);
    };
    const stop = () => {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    };
    const onVisibility = () => {
      if (document.visibilityState === "visible") {
        fn();
        start();
      } else stop();
    };
    if (document.visibilityState === "visible") start();
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      stop();
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [fn, ms]);
}

/**
 * Asks before an irreversible action; shows the error of a failed attempt
 * in the dialog (the dialog stays open so the user can read it).
 */
export function Confirm(props: {
  title: string;
  children: ReactNode;
  action: string;
  onConfirm: () => Promise<unknown>;
  onClose: () => void;
  onDone: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  async function go() {
    setBusy(true);
    setError(null);
    try {
      await props.onConfirm();
      props.onDone();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }
  return (
    <Dialog title={props.title} onClose={props.onClose}>
      <div>{props.children}</div>
      <ErrorBox error={error} />
      <div className="pg-actions">
        <button onClick={props.onClose}>Cancel</button>
        <button className="primary pg-danger" onClick={go} disabled={busy} autoFocus>
          {busy ? "Working…" : props.action}
        </button>
      </div>
    </Dialog>
  );
}

/** A heading row: the title, an optional back link and the page's actions. */
export function PageHead(props: { title: ReactNode; back?: { label: string; onClick: () => void }; children?: ReactNode }) {
  return (
    <div className="pg-head">
      {props.back ? (
        <button className="pg-back" onClick={props.back.onClick}>
          ‹ {props.back.label}
        </button>
      ) : null}
      <h1>{props.title}</h1>
      <span className="spacer" />
      {props.children}
    </div>
  );
}

/** A search field that labels itself for screen readers and tests. */
export function SearchBox(props: { label: string; value: string; onChange: (v: string) => void; placeholder?: string }) {
  return (
    <input
      type="search"
      className="pg-search"
      aria-label={props.label}
      placeholder={props.placeholder ?? props.label}
      value={props.value}
      onChange={(e) => props.onChange(e.target.value)}
    />
  );
}

/** A line that says something is being loaded (for screen readers too). */
export function Loading({ what }: { what: string }) {
  return (
    <p className="pg-loading" role="status">
      Loading {what}…
    </p>
  );
}

/** Any JSON value as short text: strings as they are, the rest as JSON. */
export function valueText(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** A byte count for people. */
export function bytes(n?: number | null): string {
  if (n === null || n === undefined) return "—";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * The mark of an encrypted value: a padlock drawn in SVG (an emoji needs a
 * font the machine may not have) and the word, never the value.
 */
export function Sealed() {
  return (
    <span className="pg-sealed" title="Encrypted: the value can be replaced but never read">
      <Padlock className="pg-lock" />
      encrypted
    </span>
  );
}

/** Which activated SyncPack owns each step, application and configuration. */
export interface Owners {
  steps: Map<string, string>;
  applications: Map<string, string>;
  configurations: Map<string, string>;
}

interface PackContent {
  name: string;
  content?: { steps?: string[]; applications?: string[]; configurations?: string[] };
}

let ownersCache: { at: number; value: Promise<Owners> } | null = null;

/** Forgets what `useOwners` learnt (after a pack is activated or deleted). */
export function forgetOwners() {
  ownersCache = null;
}

function loadOwners(): Promise<Owners> {
  if (ownersCache && Date.now() - ownersCache.at < 30_000) return ownersCache.value;
  const value = (async () => {
    const packs = await get<{ name: string }[]>("/syncpacks?only_activated=true");
    const owners: Owners = { steps: new Map(), applications: new Map(), configurations: new Map() };
    const names = [...new Set(packs.map((p) => p.name))];
    const docs = await Promise.all(names.map((n) => get<PackContent>(`/syncpacks/${encodeURIComponent(n)}`)));
    for (const d of docs) {
      d.content?.steps?.forEach((s) => owners.steps.set(s, d.name));
      d.content?.applications?.forEach((a) => owners.applications.set(a, d.name));
      d.content?.configurations?.forEach((c) => owners.configurations.set(c, d.name));
    }
    return owners;
  })();
  value.catch(() => {
    ownersCache = null;
  });
  ownersCache = { at: Date.now(), value };
  return value;
}

/**
 * The owners of content, learnt from the activated SyncPacks (content a
 * pack owns is changed through the pack, so its pages offer no Delete or
 * Edit). Null while loading; empty when the packs cannot be read.
 */
export function useOwners(): Owners | null {
  const [owners, setOwners] = useState<Owners | null>(null);
  useEffect(() => {
    let live = true;
    loadOwners()
      .then((o) => live && setOwners(o))
      .catch(() => {
        // Unknown owners: every item looks changeable; the API still refuses.
        if (live) setOwners({ steps: new Map(), applications: new Map(), configurations: new Map() });
      });
    return () => {
      live = false;
    };
  }, []);
  return owners;
}
