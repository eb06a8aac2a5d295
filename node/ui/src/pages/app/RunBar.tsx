// The line above the flowchart describing the run it shows: state, times,
// how it was started, its options, and links to related runs (the run
// that triggered it, the run it replays, the child runs it started).
import { useEffect, useState } from "react";
import { Link } from "wouter";
import { enc, get } from "../../api";
import { ErrorBox, StateBadge, time } from "../../components/common";
import { duration, isTerminal, relatedRun, triggerOf, type RunStatus } from "./types";

const runHref = (app: string, id: string) => `/apps/${enc(app)}?run=${enc(id)}`;

/** A link to another run, named after its application (read once). */
function RunLink({ id, sameApp }: { id: string; sameApp?: string }) {
  const [app, setApp] = useState<string | null>(sameApp ?? null);
  useEffect(() => {
    if (sameApp) return;
    const ac = new AbortController();
    get<RunStatus>(`/tasks/${enc(id)}`, ac.signal)
      .then((r) => setApp(r.app_name))
      .catch(() => {
        /* the run may have expired: show its id without a link */
      });
    return () => ac.abort();
  }, [id, sameApp]);
  if (!app) return <code>{id}</code>;
  return (
    <Link href={runHref(app, id)}>
      {sameApp ? "" : `${app} `}
      <code>{id}</code>
    </Link>
  );
}

export function RunBar({ run, error, live, runId }: { run: RunStatus | null; error: unknown; live: boolean; runId: string | null }) {
  if (!runId) return <div className="run-bar muted">This application has not run yet.</div>;
  if (error && !run) return <ErrorBox error={error} />;
  if (!run) return <div className="run-bar muted">Loading run {runId}…</div>;
  const parent = relatedRun(run, "PARENT");
  const replayOf = relatedRun(run, "REPLAY_OF");
  return (
    <div className="run-bar" role="region" aria-label="Selected run">
      <div className="row">
        <StateBadge state={run.state} />
        <span>
          Run <code>{run.id}</code>
        </span>
        {live && !isTerminal(run.state) ? (
          <span className="run-live" title="following the run's events">
            ● live
          </span>
        ) : null}
        <span className="muted">
          started {time(run.start_time ?? run.created_time)} · took {run.start_time ? duration(run.start_time, run.end_time) : "—"} · by{" "}
          {triggerOf(run)} · log level {run.log_level ?? "—"} · configuration {run.configuration || "none"} · queue{" "}
          {run.queue || "default"}
        </span>
      </div>
      {parent || replayOf || run.children?.length ? (
        <div className="row run-related">
          {parent ? (
            <span>
              Started by step <strong>{parent.step ?? "?"}</strong> of <RunLink id={parent.application_id} />
            </span>
          ) : null}
          {replayOf ? (
            <span>
              Replay of <RunLink id={replayOf.application_id} sameApp={run.app_name} />
            </span>
          ) : null}
          {run.children?.length ? (
            <span>
              Child runs:{" "}
              {run.children.map((c, i) => (
                <span key={c.id}>
                  {i ? ", " : ""}
                  <Link href={runHref(c.app_name, c.id)}>
                    {c.app_name}
                  </Link>{" "}
                  <span className="muted">(step {c.step})</span>
                </span>
              ))}
            </span>
          ) : null}
        </div>
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
    </div>
  );
}
