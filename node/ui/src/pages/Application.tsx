// The application page (/apps/NAME, optionally ?run=ID): the step graph as
// a flowchart coloured live by the selected run (the latest by default),
// the run actions a role may use (Run, Debug Run, Custom Run, Replay,
// Revoke), Edit and Configure, the list of the application's runs, and the
// panel of a clicked step. The parts live in pages/app/.
import { useCallback, useEffect, useMemo, useState } from "react";
import { Link, useLocation, useSearch } from "wouter";
import { can, enc, get, page, post } from "../api";
import { ErrorBox } from "../components/common";
import { ConfigurePane } from "../components/ConfigurePane";
import { Flowchart } from "./app/Flowchart";
import { RunBar } from "./app/RunBar";
import { ConfirmDialog, CustomRunDialog } from "./app/RunDialogs";
import { RunList } from "./app/RunList";
import { StepPanel } from "./app/StepPanel";
import { isTerminal, type AppDoc, type RunStatus, type RunStep } from "./app/types";
import { primeRun, useLiveRun } from "./app/useLiveRun";

type Side = "runs" | "step";

export function ApplicationPage({ name }: { name: string }) {
  const search = useSearch();
  const [, navigate] = useLocation();
  const runParam = new URLSearchParams(search).get("run");

  const [doc, setDoc] = useState<AppDoc | null>(null);
  const [docError, setDocError] = useState<unknown>(null);
  // The latest run, used when the address names none (null: never ran).
  const [latest, setLatest] = useState<string | null | undefined>(undefined);
  const runId = runParam ?? latest ?? null;
  const live = useLiveRun(runId);

  const [side, setSide] = useState<Side>("runs");
  const [step, setStep] = useState<string | null>(null);
  const [dialog, setDialog] = useState<"custom" | "revoke" | "configure" | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [refresh, setRefresh] = useState(0);

  useEffect(() => {
    const ac = new AbortController();
    setDoc(null);
    setDocError(null);
    get<AppDoc>(`/applications/${enc(name)}`, ac.signal)
      .then((d) => {
        setDoc(d);
        document.title = `${d.friendly_name || d.name} · Integration Service`;
      })
      .catch((e) => {
        if (!ac.signal.aborted) setDocError(e);
      });
    return () => ac.abort();
  }, [name]);

  useEffect(() => {
    if (runParam) return;
    const ac = new AbortController();
    setLatest(undefined);
    page<RunStatus>(`/tasks?app=${enc(name)}&limit=1`, ac.signal)
      .then((p) => setLatest(p.items[0]?.id ?? null))
      .catch((e) => {
        if (!ac.signal.aborted) {
          setLatest(null);
          setActionError(e);
        }
      });
    return () => ac.abort();
  }, [name, runParam]);

  // The runs list shows a run's end as soon as it happens.
  const runState = live.run?.state;
  const ended = isTerminal(runState);
  useEffect(() => {
    if (ended) setRefresh((n) => n + 1);
  }, [ended, live.run?.id]);

  const showRun = useCallback(
    (r: RunStatus) => {
      primeRun(r);
      setRefresh((n) => n + 1);
      navigate(`/apps/${enc(name)}?run=${enc(r.id)}`);
    },
    [name, navigate],
  );

  async function act(f: () => Promise<void>) {
    setBusy(true);
    setActionError(null);
    try {
      await f();
    } catch (e) {
      setActionError(e);
    } finally {
      setBusy(false);
    }
  }
  const start = (level: number) =>
    act(async () => showRun(await post<RunStatus>("/applications/run", { name, params: { log_level: level } })));
  const replay = () =>
    act(async () => {
      if (runId) showRun(await post<RunStatus>(`/tasks/${enc(runId)}/replay`));
    });

  const statuses = useMemo(() => {
    const m = new Map<string, RunStep>();
    for (const s of live.run?.steps ?? []) m.set(s.name, s);
    return m;
  }, [live.run]);
  const onSelect = useCallback((n: string) => {
    setStep(n);
    setSide("step");
  }, []);

  if (docError) {
    return (
      <section>
        <h1>{name}</h1>
        <ErrorBox error={docError} />
        <Link href="/integrations">Back to Integrations</Link>
      </section>
    );
  }
  if (!doc) return <p className="muted">Loading {name}…</p>;

  const mayRun = can("run");
  const mayWrite = can("write");
  const stepDoc = step ? doc.steps.find((s) => s.name === step) : undefined;
  return (
    <section className="run-page">
      <header className="run-head">
        <div className="run-title">
          <h1>
            {doc.friendly_name || doc.name}
            {doc.friendly_name && doc.friendly_name !== doc.name ? <span className="muted run-name"> {doc.name}</span> : null}
          </h1>
          {doc.description ? <p className="muted run-desc">{doc.description}</p> : null}
        </div>
        <div className="toolbar" role="toolbar" aria-label="Application actions">
          {mayRun ? (
            <>
              <button className="primary" disabled={busy} onClick={() => start(1)}>
                Run
              </button>
              <button disabled={busy} onClick={() => start(10)}>
                Debug Run
              </button>
              <button disabled={busy} onClick={() => setDialog("custom")}>
                Custom Run
              </button>
              {runId && live.run ? (
                <button disabled={busy} onClick={replay}>
                  Replay
                </button>
              ) : null}
              {live.run && !isTerminal(live.run.state) ? (
                <button className="danger" disabled={busy} onClick={() => setDialog("revoke")}>
                  Revoke
                </button>
              ) : null}
            </>
          ) : null}
          {mayWrite ? (
            <Link className="button" href={`/editor/${enc(name)}`}>
              Edit
            </Link>
          ) : null}
          {/* Every role may look; the pane itself offers saving only to writers. */}
          <button onClick={() => setDialog("configure")}>Configure</button>
        </div>
      </header>
      <ErrorBox error={actionError} />
      <RunBar run={live.run} error={live.error} live={live.live} runId={runId} />
      <div className="run-main">
        <Flowchart
          steps={doc.steps}
          statuses={statuses}
          children={live.run?.children ?? []}
          selected={side === "step" ? step : null}
          onSelect={onSelect}
        />
        <aside className="run-side">
          {side === "step" && stepDoc ? (
            <StepPanel
              key={`${stepDoc.name}\u0000${runId ?? ""}`}
              step={stepDoc}
              steps={doc.steps}
              status={statuses.get(stepDoc.name)}
              logs={live.logs}
              live={live.live}
              onClose={() => setSide("runs")}
            />
          ) : (
            <RunList app={name} selected={runId} refresh={refresh} onSelect={(id) => navigate(`/apps/${enc(name)}?run=${enc(id)}`)} />
          )}
        </aside>
      </div>
      {dialog === "custom" ? (
        <CustomRunDialog
          app={doc}
          onClose={() => setDialog(null)}
          onStarted={(r) => {
            setDialog(null);
            showRun(r);
          }}
        />
      ) : null}
      {dialog === "configure" ? (
        <ConfigurePane
          app={doc}
          onSaved={(d) => {
            setDoc(d as AppDoc);
            setDialog(null);
          }}
          onClose={() => setDialog(null)}
        />
      ) : null}
      {dialog === "revoke" && runId ? (
        <ConfirmDialog
          title="Revoke run"
          message={`Revoke run ${runId}? Pending steps will not start and running steps are stopped.`}
          action="Revoke run"
          onClose={() => setDialog(null)}
          onConfirm={async () => {
            const r = await post<RunStatus>(`/tasks/${enc(runId)}/revoke`);
            if (r && Array.isArray(r.steps)) live.setRun(r);
            setDialog(null);
            setRefresh((n) => n + 1);
          }}
        />
      ) : null}
    </section>
  );
}
