// The one way the UI talks to the node: the REST API under /api/v1 with the
// session token of the signed-in user. A 401 ends the session (the token
// expired, was revoked, or the user's password changed) and sends the user
// back to the sign-in page with the reason.

export interface Session {
  token: string;
  expires_at: number;
  name: string;
  role: string;
  permissions: string[];
  /** When this browser received the token (ms), to renew it half-way. */
  received_ms?: number;
}

export class ApiError extends Error {
  status: number;
  details: string[];
  constructor(status: number, message: string, details: string[] = []) {
    super(message);
    this.status = status;
    this.details = details;
  }
}

const KEY = "is-session";
type Listener = (s: Session | null, reason?: string) => void;
const listeners = new Set<Listener>();

export function currentSession(): Session | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Session;
    return s.expires_at * 1000 > Date.now() ? s : null;
  } catch {
    return null;
  }
}

export function setSession(s: Session | null, reason?: string) {
  if (s) s.received_ms ??= Date.now();
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
  listeners.forEach((l) => l(s, reason));
}

export function onSession(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

export function can(permission: "read" | "run" | "write" | "admin"): boolean {
  return currentSession()?.permissions.includes(permission) ?? false;
}

function headers(extra?: Record<string, string>): Record<string, string> {
  // X-Requested-With: a 401 then carries no Basic challenge, which would
  // make the browser show its own password prompt.
  const h: Record<string, string> = { Accept: "application/json", "X-Requested-With": "is-web-ui", ...extra };
  const s = currentSession();
  if (s && !h.Authorization) h.Authorization = `Bearer ${s.token}`;
  return h;
}

async function failure(res: Response): Promise<ApiError> {
  let message = `${res.status} ${res.statusText}`;
  let details: string[] = [];
  try {
    const body = await res.json();
    if (body && typeof body.error === "string") message = body.error;
    if (body && Array.isArray(body.details)) details = body.details.map(String);
  } catch {
    /* not JSON: keep the status line */
  }
  if (res.status === 401 && currentSession()) {
    setSession(null, "Your session has ended; sign in again.");
  }
  return new ApiError(res.status, message, details);
}

export interface RequestOptions {
  body?: unknown;
  raw?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export async function request(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
  const extra: Record<string, string> = { ...o.headers };
  let body: BodyInit | undefined = o.raw;
  if (o.body !== undefined) {
    extra["Content-Type"] = "application/json";
    body = JSON.stringify(o.body);
  }
  const res = await fetch(`/api/v1${path}`, { method, headers: headers(extra), body, signal: o.signal });
  if (!res.ok) throw await failure(res);
  renewIfDue();
  return res;
}

let renewing = false;

/**
 * A session ends when it is not renewed for the node's idle time
 * (`session_expires_seconds`): while the user works, the token is renewed
 * once half of its time has passed.
 */
function renewIfDue() {
  const s = currentSession();
  if (!s || renewing || !s.received_ms) return;
  const half = (s.expires_at * 1000 - s.received_ms) / 2;
  if (Date.now() - s.received_ms < half) return;
  renewing = true;
  fetch("/api/v1/session", { method: "POST", headers: headers() })
    .then(async (res) => {
      if (res.ok && currentSession()?.token === s.token) setSession((await res.json()) as Session);
    })
    .catch(() => {
      /* the next request tells whether the session still holds */
    })
    .finally(() => {
      renewing = false;
    });
}

export async function api<T = unknown>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
  const res = await request(method, path, o);
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

export const get = <T = unknown>(path: string, signal?: AbortSignal) => api<T>("GET", path, { signal });
export const post = <T = unknown>(path: string, body?: unknown) => api<T>("POST", path, { body });
export const put = <T = unknown>(path: string, body?: unknown) => api<T>("PUT", path, { body });
export const del = <T = unknown>(path: string) => api<T>("DELETE", path);

/**
 * One page of a listing and the cursor of the next, as a plain value to
 * pass as `cursor` through `withQuery` (the `X-Next-Cursor` header holds it
 * percent-encoded, ready for a query string: decoded here, once).
 */
export interface Page<T> {
  items: T[];
  next: string | null;
}

export async function page<T>(path: string, signal?: AbortSignal): Promise<Page<T>> {
  const res = await request("GET", path, { signal });
  const items = (await res.json()) as T[];
  const header = res.headers.get("x-next-cursor");
  let next = header;
  try {
    next = header === null ? null : decodeURIComponent(header);
  } catch {
    /* not percent-encoded: the header as it is */
  }
  return { items, next };
}

/** Builds `path?k=v&…` from the parameters that are set. */
export function withQuery(path: string, q: Record<string, string | number | boolean | null | undefined>): string {
  const parts = Object.entries(q)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `${path}?${parts.join("&")}` : path;
}

export const enc = encodeURIComponent;

/** Signs in with a user name and password, or with an API key. */
export async function signIn(cred: { user: string; password: string } | { apiKey: string }): Promise<Session> {
  const auth =
    "apiKey" in cred
      ? `Bearer ${cred.apiKey}`
      : `Basic ${btoa(unescape(encodeURIComponent(`${cred.user}:${cred.password}`)))}`;
  const res = await fetch("/api/v1/session", { method: "POST", headers: headers({ Authorization: auth }) });
  if (!res.ok) {
    const e = await failure(res);
    throw e;
  }
  const s = (await res.json()) as Session;
  setSession(s);
  return s;
}

export async function signOut() {
  try {
    await request("DELETE", "/session");
  } catch {
    /* the token is dropped either way */
  }
  setSession(null, "You have signed out.");
}

/** One event of a run's or task's live stream (`GET /tasks/{id}/events`). */
export interface TaskEvent {
  kind: string;
  data: any;
  /** The stream's position after this event (its SSE id). */
  id?: string;
}

/**
 * Follows the server-sent events of a run or step task until it ends or
 * `signal` aborts, from its beginning or after the event whose id is
 * `after`. Answers the id of the last event received, for a later call to
 * go on from there. EventSource cannot send the Authorization header, so
 * the stream is read with fetch and split into events here.
 */
export async function followEvents(
  id: string,
  onEvent: (e: TaskEvent) => void,
  signal: AbortSignal,
  after?: string,
): Promise<string | undefined> {
  const headers: Record<string, string> = { Accept: "text/event-stream" };
  if (after) headers["Last-Event-ID"] = after;
  let lastId = after;
  const res = await request("GET", `/tasks/${enc(id)}/events`, { headers, signal });
  if (!res.body) return lastId;
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return lastId;
    buf += value;
    let cut: number;
    while ((cut = buf.indexOf("\n\n")) >= 0) {
      const frame = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      let kind = "message";
      let frameId: string | undefined;
      const data: string[] = [];
      for (const line of frame.split("\n")) {
        if (line.startsWith("event:")) kind = line.slice(6).trim();
        else if (line.startsWith("id:")) frameId = line.slice(3).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (!data.length) continue;
      if (frameId) lastId = frameId;
      let parsed: any;
      try {
        parsed = JSON.parse(data.join("\n"));
      } catch {
        parsed = data.join("\n");
      }
      onEvent({ kind, data: parsed, id: frameId });
    }
  }
}
