// The Reports page: reports of application runs, newest first, a page at a
// time, filtered by application; one report's sections (the tables its
// steps built, with their sub-tables) rendered as tables; keeping a report
// past its run's expiry and deleting one (`write`).
import { useEffect, useState } from "react";
import { Link } from "wouter";
import { can, del, enc, get, page, put, withQuery } from "../api";
import { Empty, ErrorBox, Pager, time } from "../components/common";
import { Confirm, Loading, PageHead, useDetail, valueText } from "./more/bits";
import { useDebounced, usePaged } from "../components/paging";

interface ReportSummary {
  id: string;
  app_name: string;
  application_id: string;
  created: number;
  sections?: number;
  kept?: boolean;
}

interface ReportTable {
  name?: string | null;
  step?: string;
  section?: string | null;
  flag?: unknown;
  columns?: { title: string; data_key?: string }[];
  rows?: { title?: string | null; cells?: Record<string, unknown> }[];
  sub_reports?: ReportTable[];
}

interface ReportDoc extends Omit<ReportSummary, "sections"> {
  sections: ReportTable[];
}

export function ReportsPage() {
  const [id, open] = useDetail("id");
  return id === null ? <ReportList /> : <ReportView id={id} onBack={() => open(null)} />;
}

function ReportList() {
  const [app, setApp] = useState("");
  const term = useDebounced(app.trim(), 300);
  const list = usePaged<ReportSummary>("/reports", { app: term }, 25);
  const [deleting, setDeleting] = useState<ReportSummary | null>(null);
  const [apps, setApps] = useState<string[]>([]);

  useEffect(() => {
    const ac = new AbortController();
    page<{ name: string }>(withQuery("/applications", { limit: 20, search: term }), ac.signal)
      .then((p) => setApps(p.items.map((a) => a.name)))
      .catch(() => {
        /* suggestions only */
      });
    return () => ac.abort();
  }, [term]);

  return (
    <section>
      <PageHead title="Reports" />
      <div className="toolbar">
        <label className="inline">
          Application
          <input
            type="search"
            className="pg-search"
            list="pg-report-apps"
            value={app}
            onChange={(e) => setApp(e.target.value)}
            placeholder="every application"
            aria-label="Application"
          />
        </label>
        <datalist id="pg-report-apps">
          {apps.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
        {list.loading ? <Loading what="reports" /> : null}
      </div>
      <ErrorBox error={list.error} />
      {!list.loading && !list.error && list.items.length === 0 ? (
        <Empty>
          {term
            ? `No report of ${term}. Reports are made by runs of applications with “generate report” on.`
            : "There are no reports. Runs of applications with “generate report” on make them."}
        </Empty>
      ) : null}
      {list.items.length > 0 ? (
        <table aria-label="Reports">
          <thead>
            <tr>
              <th>Created</th>
              <th>Application</th>
              <th>Run</th>
              <th className="pg-narrow">Sections</th>
              <th className="pg-narrow">Kept</th>
              {can("write") ? <th className="pg-narrow">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {list.items.map((r) => (
              <tr key={r.id}>
                <td className="pg-nowrap">
                  <Link href={`/reports?id=${enc(r.id)}`} aria-label={`Report of ${r.app_name} at ${time(r.created)}`}>
                    {time(r.created)}
                  </Link>
                </td>
                <td>
                  <Link href={`/apps/${enc(r.app_name)}`}>{r.app_name}</Link>
                </td>
                <td>
                  <code>{r.application_id}</code>
                </td>
                <td>{r.sections ?? "—"}</td>
                <td>{r.kept ? "yes" : <span className="muted">no</span>}</td>
                {can("write") ? (
                  <td>
                    <button className="danger" aria-label={`Delete report ${r.id}`} onClick={() => setDeleting(r)}>
                      Delete
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager hasPrev={list.hasPrev} hasNext={list.hasNext} onPrev={list.prev} onNext={list.next} />
      {deleting ? (
        <Confirm
          title="Delete report"
          action="Delete"
          onConfirm={() => del(`/reports/${enc(deleting.id)}`)}
          onClose={() => setDeleting(null)}
          onDone={() => {
            setDeleting(null);
            list.reload();
          }}
        >
          Delete the report of <strong>{deleting.app_name}</strong> made {time(deleting.created)}?
        </Confirm>
      ) : null}
    </section>
  );
}

function ReportView({ id, onBack }: { id: string; onBack: () => void }) {
  const [doc, setDoc] = useState<ReportDoc | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const [deleting, setDeleting] = useState(false);

  useEffect(() => {
    const ac = new AbortController();
    get<ReportDoc>(`/reports/${enc(id)}`, ac.signal)
      .then(setDoc)
      .catch((e: unknown) => {
        if (!ac.signal.aborted) setError(e);
      });
    return () => ac.abort();
  }, [id]);

  async function keep(k: boolean) {
    setActionError(null);
    try {
      setDoc(await put<ReportDoc>(`/reports/${enc(id)}`, { keep: k }));
    } catch (e) {
      setActionError(e);
    }
  }

  const back = { label: "All reports", onClick: onBack };
  if (error) {
    return (
      <section>
        <PageHead title="Report" back={back} />
        <ErrorBox error={error} />
      </section>
    );
  }
  if (!doc || doc.id !== id) {
    return (
      <section>
        <PageHead title="Report" back={back} />
        <Loading what="the report" />
      </section>
    );
  }
  return (
    <section>
      <PageHead title={`Report of ${doc.app_name}`} back={back}>
        {can("write") ? (
          <>
            <button onClick={() => keep(!doc.kept)}>{doc.kept ? "Let it expire with its run" : "Keep after its run expires"}</button>
            <button className="danger" onClick={() => setDeleting(true)}>
              Delete
            </button>
          </>
        ) : null}
      </PageHead>
      <ErrorBox error={actionError} />
      <dl className="pg-facts">
        <dt>Application</dt>
        <dd>
          <Link href={`/apps/${enc(doc.app_name)}`}>{doc.app_name}</Link>
        </dd>
        <dt>Run</dt>
        <dd>
          <code>{doc.application_id}</code>
        </dd>
        <dt>Created</dt>
        <dd>{time(doc.created)}</dd>
        <dt>Kept</dt>
        <dd>{doc.kept ? "yes, after its run expires" : "no: it expires with its run"}</dd>
      </dl>
      {doc.sections.length === 0 ? <Empty>This report has no sections.</Empty> : null}
      {doc.sections.map((s, i) => (
        <ReportSection key={i} table={s} depth={0} />
      ))}
      {deleting ? (
        <Confirm
          title="Delete report"
          action="Delete"
          onConfirm={() => del(`/reports/${enc(id)}`)}
          onClose={() => setDeleting(false)}
          onDone={onBack}
        >
          Delete this report of <strong>{doc.app_name}</strong>?
        </Confirm>
      ) : null}
    </section>
  );
}

/** One table of a report and, below it, its sub-tables. */
function ReportSection({ table, depth }: { table: ReportTable; depth: number }) {
  const columns = table.columns ?? [];
  const rows = table.rows ?? [];
  const hasRowTitles = rows.some((r) => r.title);
  const title = table.name || table.step || "Table";
  const Heading = depth === 0 ? "h2" : "h3";
  return (
    <div className={depth === 0 ? "panel pg-report" : "pg-subreport"}>
      <Heading>
        {title}
        {depth === 0 && table.step && table.step !== table.name ? <span className="muted"> — step {table.step}</span> : null}
        {table.section ? <span className="muted"> · {table.section}</span> : null}
      </Heading>
      {columns.length === 0 ? (
        <p className="muted">No columns.</p>
      ) : (
        <div className="pg-scroll">
          <table aria-label={title}>
            <thead>
              <tr>
                {hasRowTitles ? <th /> : null}
                {columns.map((c) => (
                  <th key={c.title}>{c.title}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={i}>
                  {hasRowTitles ? <th scope="row">{r.title}</th> : null}
                  {columns.map((c) => (
                    <td key={c.title}>{valueText(r.cells?.[c.title])}</td>
                  ))}
                </tr>
              ))}
              {rows.length === 0 ? (
                <tr>
                  <td colSpan={columns.length + (hasRowTitles ? 1 : 0)} className="muted">
                    No rows.
                  </td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </div>
      )}
      {(table.sub_reports ?? []).map((sub, i) => (
        <ReportSection key={i} table={sub} depth={depth + 1} />
      ))}
    </div>
  );
}
