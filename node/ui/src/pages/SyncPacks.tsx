// The SyncPacks page: every uploaded pack version with its activation and
// install state; importing a wheel by file picker or drag-and-drop (with
// upload progress); Activate and Install (an install is followed node by
// node until it ends, with the install log when it failed); one pack's
// versions, per-node install state and the content it owns. Changes need the
// `write` permission.
import { useCallback, useEffect, useRef, useState, type DragEvent, type ReactNode } from "react";
import { Link } from "wouter";
import { can, del, enc, get, post, request } from "../api";
import { Empty, ErrorBox, time } from "../components/common";
import { Confirm, Loading, PageHead, SearchBox, bytes, forgetOwners, useDetail } from "./more/bits";
import { describeSchedule, type ScheduleSpec } from "./more/schedule";
import { uploadForm, type Progress } from "./more/upload";

interface PackRow {
  name: string;
  version: string;
  summary?: string | null;
  uploaded?: number | null;
  activated: boolean;
  installed: boolean;
}

interface NodeInstall {
  node_id: number;
  state: string;
  progress?: string | null;
  log?: string | null;
  updated?: number | null;
}

interface PackDeclaredSchedule {
  entry_id?: string;
  application_id?: string;
  schedule?: ScheduleSpec;
}

interface PackDoc {
  name: string;
  version?: string;
  summary?: string | null;
  description?: string | null;
  author?: string | null;
  requires_dist?: string[];
  activated?: boolean;
  installed?: boolean;
  install_requested?: boolean;
  sha256?: string | null;
  size?: number | null;
  uploaded?: number | null;
  nodes?: NodeInstall[];
  content?: { steps?: string[]; applications?: string[]; configurations?: string[] };
  schedules?: PackDeclaredSchedule[];
  versions?: { version: string; activated: boolean; installed: boolean; uploaded?: number | null }[];
  href?: string;
}

interface Uploaded {
  name: string;
  version: string;
  steps?: string[];
  applications?: string[];
  configurations?: string[];
  replaced?: boolean;
}

const count = (list: unknown[] | undefined, word: string) => {
  const n = list?.length ?? 0;
  return `${n} ${word}${n === 1 ? "" : "s"}`;
};

/** The pack that ships with every node: never deleted, always activated. */
const BASE_PACK = "base_steps_syncpack";

const INSTALL_CLASS: Record<string, string> = {
  installed: "st-success",
  failed: "st-failure",
  installing: "st-running",
  pending: "st-pending",
};

export function SyncPacksPage() {
  const [name, open] = useDetail("name");
  // The install being followed survives moving between list and detail.
  const [following, setFollowing] = useState<{ name: string; version: string } | null>(null);
  // Bumped when a followed install ends, so the list or pack shown reloads.
  const [ended, setEnded] = useState(0);
  const follow = useCallback((name: string, version: string) => setFollowing({ name, version }), []);
  const onFinished = useCallback(() => setEnded((n) => n + 1), []);
  const monitor = following ? (
    <InstallMonitor
      key={`${following.name}@${following.version}`}
      {...following}
      onFinished={onFinished}
      onClose={() => setFollowing(null)}
    />
  ) : null;
  return name === null ? (
    <PackList onOpen={open} onInstall={follow} monitor={monitor} refresh={ended} />
  ) : (
    <PackView name={name} onBack={() => open(null)} onInstall={follow} monitor={monitor} refresh={ended} />
  );
}

/** Activate and Install of one pack version, as buttons. */
function PackActions(props: {
  name: string;
  version: string;
  activated: boolean;
  installed: boolean;
  onChanged: () => void;
  onInstall: (name: string, version: string) => void;
  onError: (e: unknown) => void;
  onDelete?: () => void;
}) {
  const [busy, setBusy] = useState<string | null>(null);
  const label = `${props.name} ${props.version}`;
  async function activate() {
    setBusy("activate");
    props.onError(null);
    try {
      await post(`/syncpacks/${enc(props.name)}/activate?version=${enc(props.version)}`);
      forgetOwners();
      props.onChanged();
    } catch (e) {
      props.onError(e);
    } finally {
      setBusy(null);
    }
  }
  async function install() {
    setBusy("install");
    props.onError(null);
    try {
      // 200: installed everywhere already; 202: some node is working on it.
      await request("POST", `/syncpacks/${enc(props.name)}/install?version=${enc(props.version)}`);
      props.onInstall(props.name, props.version);
      props.onChanged();
    } catch (e) {
      props.onError(e);
    } finally {
      setBusy(null);
    }
  }
  if (!can("write") || props.name === BASE_PACK) return null;
  return (
    <span className="row pg-nowrap">
      {!props.activated ? (
        <button onClick={activate} disabled={busy !== null} aria-label={`Activate ${label}`}>
          {busy === "activate" ? "Activating…" : "Activate"}
        </button>
      ) : null}
      {!props.installed ? (
        <button onClick={install} disabled={busy !== null} aria-label={`Install ${label}`}>
          {busy === "install" ? "Installing…" : "Install"}
        </button>
      ) : null}
      {props.onDelete ? (
        <button className="danger" onClick={props.onDelete} disabled={busy !== null} aria-label={`Delete ${label}`}>
          Delete
        </button>
      ) : null}
    </span>
  );
}

function YesNo({ yes, label }: { yes: boolean; label: string }) {
  return yes ? <span className="badge st-success">{label}</span> : <span className="muted">no</span>;
}

function PackList(props: {
  onOpen: (name: string) => void;
  onInstall: (n: string, v: string) => void;
  monitor: ReactNode;
  refresh: number;
}) {
  const [packs, setPacks] = useState<PackRow[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [search, setSearch] = useState("");
  const [onlyActivated, setOnlyActivated] = useState(false);
  const [onlyInstalled, setOnlyInstalled] = useState(false);
  const [deleting, setDeleting] = useState<PackRow | null>(null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    const ac = new AbortController();
    const q = [onlyActivated ? "only_activated=true" : "", onlyInstalled ? "only_installed=true" : ""].filter(Boolean).join("&");
    get<PackRow[]>(`/syncpacks${q ? `?${q}` : ""}`, ac.signal)
      .then((p) => {
        setPacks(p);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!ac.signal.aborted) setError(e);
      });
    return () => ac.abort();
  }, [onlyActivated, onlyInstalled, tick, props.refresh]);

  const needle = search.trim().toLowerCase();
  const shown = (packs ?? [])
    .filter((p) => !needle || p.name.toLowerCase().includes(needle) || (p.summary ?? "").toLowerCase().includes(needle))
    .sort((a, b) => a.name.localeCompare(b.name) || b.version.localeCompare(a.version, undefined, { numeric: true }));

  return (
    <section>
      <PageHead title="SyncPacks" />
      {can("write") ? <ImportZone onImported={reload} onOpen={props.onOpen} /> : null}
      {props.monitor}
      <div className="toolbar">
        <SearchBox label="Search SyncPacks" value={search} onChange={setSearch} />
        <label className="inline">
          <input type="checkbox" checked={onlyActivated} onChange={(e) => setOnlyActivated(e.target.checked)} />
          Only activated
        </label>
        <label className="inline">
          <input type="checkbox" checked={onlyInstalled} onChange={(e) => setOnlyInstalled(e.target.checked)} />
          Only installed
        </label>
      </div>
      <ErrorBox error={error} />
      <ErrorBox error={actionError} />
      {packs === null && !error ? <Loading what="SyncPacks" /> : null}
      {packs !== null && shown.length === 0 ? <Empty>No SyncPack matches.</Empty> : null}
      {shown.length > 0 ? (
        <table aria-label="SyncPacks">
          <thead>
            <tr>
              <th>Name</th>
              <th>Version</th>
              <th>Summary</th>
              <th>Uploaded</th>
              <th>Activated</th>
              <th>Installed</th>
              {can("write") ? <th>Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {shown.map((p) => (
              <tr key={`${p.name}@${p.version}`} data-pack={`${p.name}@${p.version}`}>
                <td>
                  <Link href={`/syncpacks?name=${enc(p.name)}`}>{p.name}</Link>
                </td>
                <td>{p.version}</td>
                <td className="pg-clip">{p.summary}</td>
                <td className="pg-nowrap">{time(p.uploaded)}</td>
                <td>
                  <YesNo yes={p.activated} label="activated" />
                </td>
                <td>
                  <YesNo yes={p.installed} label="installed" />
                </td>
                {can("write") ? (
                  <td>
                    <PackActions
                      {...p}
                      onChanged={reload}
                      onInstall={props.onInstall}
                      onError={setActionError}
                      onDelete={() => setDeleting(p)}
                    />
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {deleting ? (
        <Confirm
          title="Delete SyncPack version"
          action="Delete"
          onConfirm={() => del(`/syncpacks/${enc(deleting.name)}?version=${enc(deleting.version)}`).then(forgetOwners)}
          onClose={() => setDeleting(null)}
          onDone={() => {
            setDeleting(null);
            reload();
          }}
        >
          Delete version <strong>{deleting.version}</strong> of <strong>{deleting.name}</strong>?
          {deleting.activated ? " It is activated: the node refuses unless nothing depends on it." : ""}
        </Confirm>
      ) : null}
    </section>
  );
}

/** Where a wheel is dropped or picked; uploads it at once with progress. */
function ImportZone({ onImported, onOpen }: { onImported: () => void; onOpen: (name: string) => void }) {
  const [over, setOver] = useState(false);
  const [force, setForce] = useState(false);
  const [progress, setProgress] = useState<Progress | null>(null);
  const [file, setFile] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<Uploaded | null>(null);
  const input = useRef<HTMLInputElement>(null);

  async function upload(f: File | undefined) {
    if (!f) return;
    setError(null);
    setDone(null);
    if (!f.name.toLowerCase().endsWith(".whl")) {
      setError(new Error(`${f.name} is not a wheel: a SyncPack is a .whl file (NAME-VERSION-py3-none-any.whl)`));
      return;
    }
    setFile(f.name);
    setProgress({ sent: 0, total: f.size });
    const form = new FormData();
    form.append("file", f, f.name);
    try {
      const answer = await uploadForm<Uploaded>(`/syncpacks${force ? "?force=true" : ""}`, form, setProgress);
      setDone(answer);
      onImported();
    } catch (e) {
      setError(e);
    } finally {
      setProgress(null);
      if (input.current) input.current.value = "";
    }
  }

  function onDrop(e: DragEvent) {
    e.preventDefault();
    setOver(false);
    upload(e.dataTransfer.files?.[0]);
  }

  const pct = progress && progress.total ? Math.round((progress.sent / progress.total) * 100) : 0;
  return (
    <div className="panel pg-import">
      <div
        className={`pg-drop${over ? " pg-over" : ""}`}
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={onDrop}
        data-testid="syncpack-drop-zone"
      >
        <strong>Import a SyncPack</strong>
        <span className="muted">Drop a .whl file here, or choose one:</span>
        <input
          ref={input}
          type="file"
          accept=".whl"
          aria-label="SyncPack wheel"
          disabled={progress !== null}
          onChange={(e) => upload(e.target.files?.[0])}
        />
        <label className="inline">
          <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
          Replace the same version if it was uploaded before
        </label>
      </div>
      {progress ? (
        <div className="row" role="status">
          <span>Uploading {file}…</span>
          <progress max={100} value={pct} aria-label="Upload progress" />
          <span>{pct}%</span>
        </div>
      ) : null}
      <ErrorBox error={error} />
      {done ? (
        <div className="notice" role="status">
          Uploaded <strong>{done.name}</strong> {done.version}
          {done.replaced ? " (replacing the earlier upload)" : ""}: {count(done.steps, "step")},{" "}
          {count(done.applications, "application")}, {count(done.configurations, "configuration")}. Activate it to register
          its content, then install it.{" "}
          <button
            className="pg-link"
            onClick={() => {
              // The pack's page takes it from here (activate, install).
              setDone(null);
              onOpen(done.name);
            }}
          >
            Open {done.name}
          </button>{" "}
          <button className="icon" aria-label="Dismiss" onClick={() => setDone(null)}>
            ✕
          </button>
        </div>
      ) : null}
    </div>
  );
}

/**
 * Follows an install until every node has installed the version or one has
 * failed, polling the pack (the href a 202 names); shows each node's state
 * and, for a failure, its install log.
 */
function InstallMonitor(props: { name: string; version: string; onClose: () => void; onFinished: () => void }) {
  const [doc, setDoc] = useState<PackDoc | null>(null);
  const [error, setError] = useState<unknown>(null);
  const nodes = doc?.version === props.version ? doc.nodes ?? [] : [];
  const entry = doc?.versions?.find((v) => v.version === props.version);
  const installed = entry?.installed ?? false;
  const failed = nodes.some((n) => n.state === "failed") && !nodes.some((n) => n.state === "installing");
  const finished = installed || failed;

  const { onFinished } = props;
  useEffect(() => {
    if (finished) onFinished();
  }, [finished, onFinished]);

  useEffect(() => {
    if (finished) return;
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const d = await get<PackDoc>(`/syncpacks/${enc(props.name)}`);
        if (stop) return;
        setDoc(d);
        setError(null);
      } catch (e) {
        if (!stop) setError(e);
      }
      if (!stop) timer = setTimeout(poll, 1000);
    };
    poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [props.name, finished]);

  return (
    <div className="panel pg-monitor" aria-label={`Install of ${props.name} ${props.version}`} role="region">
      <div className="row">
        <strong>
          Install of {props.name} {props.version}:
        </strong>
        {installed ? (
          <span className="badge st-success">installed on every node</span>
        ) : failed ? (
          <span className="badge st-failure">failed</span>
        ) : (
          <span className="badge st-running">installing…</span>
        )}
        <span className="spacer" />
        <button onClick={props.onClose} aria-label="Close install progress">
          Close
        </button>
      </div>
      <ErrorBox error={error} />
      {nodes.length ? <NodeStates nodes={nodes} openLogs={failed} /> : doc ? null : <Loading what="the install state" />}
    </div>
  );
}

function NodeStates({ nodes, openLogs }: { nodes: NodeInstall[]; openLogs?: boolean }) {
  return (
    <table aria-label="Install state per node" className="pg-nodes">
      <thead>
        <tr>
          <th>Node</th>
          <th>State</th>
          <th>Progress</th>
          <th>Updated</th>
        </tr>
      </thead>
      <tbody>
        {nodes.map((n) => (
          <tr key={n.node_id}>
            <td>{n.node_id}</td>
            <td>
              <span className={`badge ${INSTALL_CLASS[n.state] ?? ""}`} data-state={n.state}>
                {n.state}
              </span>
            </td>
            <td>
              {n.progress}
              {n.log ? (
                <details open={openLogs && n.state === "failed"}>
                  <summary>Install log of node {n.node_id}</summary>
                  <pre className="pg-log">{n.log}</pre>
                </details>
              ) : null}
            </td>
            <td className="pg-nowrap">{time(n.updated)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PackView(props: {
  name: string;
  onBack: () => void;
  onInstall: (n: string, v: string) => void;
  monitor: ReactNode;
  refresh: number;
}) {
  const { name } = props;
  const [doc, setDoc] = useState<PackDoc | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [deleting, setDeleting] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    const ac = new AbortController();
    get<PackDoc>(`/syncpacks/${enc(name)}`, ac.signal)
      .then((d) => {
        setDoc(d);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!ac.signal.aborted) setError(e);
      });
    return () => ac.abort();
  }, [name, tick, props.refresh]);

  // While some node installs, the page refreshes itself.
  const installing = doc?.nodes?.some((n) => n.state === "installing" || n.state === "pending") ?? false;
  useEffect(() => {
    if (!installing) return;
    const t = setTimeout(reload, 1500);
    return () => clearTimeout(t);
  }, [installing, doc, reload]);

  const back = { label: "All SyncPacks", onClick: props.onBack };
  if (error && !doc) {
    return (
      <section>
        <PageHead title={name} back={back} />
        <ErrorBox error={error} />
      </section>
    );
  }
  if (!doc || doc.name !== name) {
    return (
      <section>
        <PageHead title={name} back={back} />
        <Loading what="the SyncPack" />
      </section>
    );
  }
  const content = doc.content ?? {};
  const declared = doc.schedules ?? [];
  return (
    <section>
      <PageHead title={doc.name} back={back}>
        {doc.version ? (
          <PackActions
            name={doc.name}
            version={doc.version}
            activated={!!doc.activated}
            installed={!!doc.installed}
            onChanged={reload}
            onInstall={props.onInstall}
            onError={setActionError}
          />
        ) : null}
      </PageHead>
      {props.monitor}
      <ErrorBox error={error} />
      <ErrorBox error={actionError} />
      <dl className="pg-facts">
        <dt>Version shown</dt>
        <dd>
          {doc.version} {doc.activated ? <span className="badge st-success">activated</span> : null}{" "}
          {doc.installed ? <span className="badge st-success">installed</span> : null}
        </dd>
        <dt>Summary</dt>
        <dd>{doc.summary || <span className="muted">—</span>}</dd>
        <dt>Description</dt>
        <dd>{doc.description || <span className="muted">—</span>}</dd>
        <dt>Author</dt>
        <dd>{doc.author || <span className="muted">—</span>}</dd>
        <dt>Requires</dt>
        <dd>{doc.requires_dist?.length ? doc.requires_dist.join(", ") : <span className="muted">nothing else</span>}</dd>
        <dt>Wheel</dt>
        <dd>
          {doc.sha256 ? (
            <>
              {bytes(doc.size)}, uploaded {time(doc.uploaded)}, SHA-256 <code className="pg-hash">{doc.sha256}</code>
            </>
          ) : (
            <span className="muted">ships with the node</span>
          )}
        </dd>
      </dl>

      <h2>Versions</h2>
      <table aria-label="Versions">
        <thead>
          <tr>
            <th>Version</th>
            <th>Uploaded</th>
            <th>Activated</th>
            <th>Installed</th>
            {can("write") ? <th>Actions</th> : null}
          </tr>
        </thead>
        <tbody>
          {(doc.versions ?? []).map((v) => (
            <tr key={v.version}>
              <td>{v.version}</td>
              <td>{time(v.uploaded)}</td>
              <td>
                <YesNo yes={v.activated} label="activated" />
              </td>
              <td>
                <YesNo yes={v.installed} label="installed" />
              </td>
              {can("write") ? (
                <td>
                  <PackActions
                    name={doc.name}
                    {...v}
                    onChanged={reload}
                    onInstall={props.onInstall}
                    onError={setActionError}
                    onDelete={() => setDeleting(v.version)}
                  />
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>

      <h2 className="pg-gap">Install state of {doc.version} per node</h2>
      {doc.nodes?.length ? <NodeStates nodes={doc.nodes} openLogs /> : <Empty>No node has reported.</Empty>}

      <h2 className="pg-gap">Content it owns</h2>
      {!doc.activated ? <p className="muted">The content is registered when the version is activated.</p> : null}
      <div className="pg-columns">
        <div>
          <h3>Steps</h3>
          <NameLinks names={content.steps} href={(n) => `/steps?name=${enc(n)}`} />
        </div>
        <div>
          <h3>Applications</h3>
          <NameLinks names={content.applications} href={(n) => `/apps/${enc(n)}`} />
        </div>
        <div>
          <h3>Configurations</h3>
          <NameLinks names={content.configurations} href={(n) => `/configurations?name=${enc(n)}`} />
        </div>
      </div>
      {declared.length ? (
        <>
          <h3>Schedules it declares</h3>
          <table aria-label="Declared schedules">
            <thead>
              <tr>
                <th>Entry</th>
                <th>Application</th>
                <th>When</th>
              </tr>
            </thead>
            <tbody>
              {declared.map((s, i) => (
                <tr key={s.entry_id ?? i}>
                  <td>{s.entry_id}</td>
                  <td>{s.application_id}</td>
                  <td>{describeSchedule(s.schedule)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      {deleting ? (
        <Confirm
          title="Delete SyncPack version"
          action="Delete"
          onConfirm={() => del(`/syncpacks/${enc(name)}?version=${enc(deleting)}`).then(forgetOwners)}
          onClose={() => setDeleting(null)}
          onDone={() => {
            setDeleting(null);
            if ((doc.versions ?? []).length <= 1) props.onBack();
            else reload();
          }}
        >
          Delete version <strong>{deleting}</strong> of <strong>{name}</strong>?
        </Confirm>
      ) : null}
    </section>
  );
}

function NameLinks({ names, href }: { names?: string[]; href: (n: string) => string }) {
  if (!names?.length) return <p className="muted">none</p>;
  return (
    <ul className="pg-names">
      {names.map((n) => (
        <li key={n}>
          <Link href={href(n)}>{n}</Link>
        </li>
      ))}
    </ul>
  );
}
