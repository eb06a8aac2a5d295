// The Cluster page: the Raft state (term, leader, log indexes), every member
// with its address, role, health, last contact, replication lag, the queues
// it serves and its workers (busy ones when the node says), and the pending
// steps per queue when the node gives them. Refreshes every 5 s while the
// page is visible.
import { useCallback, useEffect, useState } from "react";
import { get } from "../api";
import { ErrorBox } from "../components/common";
import { Loading, PageHead, useVisibleInterval } from "./more/bits";

interface Member {
  id: number;
  address: string;
  voter: boolean;
  leader: boolean;
  this_node: boolean;
  served_queues?: string[];
  workers?: number;
  busy_workers?: number | null;
  health?: string;
  last_contact_ms?: number | null;
  replication_lag?: number | null;
}

interface QueueState {
  queue: string;
  pending: number;
}

interface ClusterStatus {
  answered_by?: number;
  health_seen_by?: number;
  leader?: number | null;
  term?: number;
  last_log_index?: number | null;
  last_applied?: number | null;
  snapshot_index?: number | null;
  purged_index?: number | null;
  members: Member[];
  queues?: QueueState[];
}

const HEALTH_CLASS: Record<string, string> = { up: "st-success", down: "st-failure" };

const num = (n?: number | null) => (n === null || n === undefined ? "—" : String(n));

function contact(ms?: number | null): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${ms} ms ago`;
  if (ms < 120000) return `${(ms / 1000).toFixed(1)} s ago`;
  return `${Math.round(ms / 60000)} min ago`;
}

export function ClusterPage() {
  const [status, setStatus] = useState<ClusterStatus | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [updated, setUpdated] = useState<Date | null>(null);

  const load = useCallback(() => {
    get<ClusterStatus>("/cluster")
      .then((s) => {
        setStatus(s);
        setError(null);
        setUpdated(new Date());
      })
      .catch(setError);
  }, []);
  useEffect(load, [load]);
  useVisibleInterval(load, 5000);

  const members = [...(status?.members ?? [])].sort((a, b) => a.id - b.id);
  const showBusy = members.some((m) => m.busy_workers !== undefined && m.busy_workers !== null);
  const leader = members.find((m) => m.leader);
  return (
    <section>
      <PageHead title="Cluster">
        <span className="muted" aria-live="polite">
          {updated ? `Updated ${updated.toLocaleTimeString()} · refreshes every 5 s` : ""}
        </span>
        <button onClick={load}>Refresh</button>
      </PageHead>
      <ErrorBox error={error} />
      {!status && !error ? <Loading what="the cluster state" /> : null}
      {status ? (
        <>
          <div className="pg-stats" aria-label="Raft state" role="group">
            <Stat label="Leader" value={status.leader ? `node ${status.leader}${leader ? ` (${leader.address})` : ""}` : "none (election?)"} />
            <Stat label="Term" value={num(status.term)} />
            <Stat label="Members" value={String(members.length)} />
            <Stat label="Last log index" value={num(status.last_log_index)} />
            <Stat label="Last applied" value={num(status.last_applied)} />
            <Stat label="Snapshot index" value={num(status.snapshot_index)} />
            <Stat label="Answered by" value={status.answered_by ? `node ${status.answered_by}` : "—"} />
          </div>
          {!status.leader ? (
            <p className="notice">The cluster has no leader right now: changes wait until one is elected.</p>
          ) : null}
          <h2>Nodes</h2>
          <table aria-label="Nodes">
            <thead>
              <tr>
                <th>Node</th>
                <th>Address</th>
                <th>Role</th>
                <th>Health</th>
                <th>Last contact</th>
                <th>Replication lag</th>
                <th>Queues served</th>
                <th>Workers</th>
              </tr>
            </thead>
            <tbody>
              {members.map((m) => (
                <tr key={m.id} data-node={m.id}>
                  <td>
                    {m.id}
                    {m.this_node ? <span className="muted"> (this node)</span> : null}
                  </td>
                  <td>
                    <code>{m.address}</code>
                  </td>
                  <td>
                    {m.leader ? <strong>leader</strong> : m.voter ? "voter" : "learner"}
                  </td>
                  <td>
                    <span className={`badge ${HEALTH_CLASS[m.health ?? ""] ?? "st-waiting"}`}>{m.health ?? "unknown"}</span>
                  </td>
                  <td>{m.leader && m.this_node ? <span className="muted">—</span> : contact(m.last_contact_ms)}</td>
                  <td>{m.replication_lag === null || m.replication_lag === undefined ? "—" : `${m.replication_lag} entries`}</td>
                  <td>
                    {m.served_queues?.length ? (
                      m.served_queues.map((q) => (
                        <span className="pg-chip" key={q}>
                          {q}
                        </span>
                      ))
                    ) : (
                      <span className="muted">none</span>
                    )}
                  </td>
                  <td>
                    {showBusy && m.busy_workers !== undefined && m.busy_workers !== null
                      ? `${m.busy_workers} busy of ${num(m.workers)}`
                      : num(m.workers)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {status.queues ? (
            <>
              <h2 className="pg-gap">Queues</h2>
              {status.queues.length === 0 ? (
                <p className="muted">No step is waiting in any queue.</p>
              ) : (
                <table aria-label="Queues">
                  <thead>
                    <tr>
                      <th>Queue</th>
                      <th>Pending steps</th>
                      <th>Served by</th>
                    </tr>
                  </thead>
                  <tbody>
                    {status.queues.map((q) => {
                      const servers = members.filter((m) => m.served_queues?.includes(q.queue));
                      return (
                        <tr key={q.queue}>
                          <td>{q.queue}</td>
                          <td>{q.pending}</td>
                          <td>
                            {servers.length ? (
                              servers.map((m) => `node ${m.id}`).join(", ")
                            ) : (
                              <span className="pg-warn">no node serves this queue</span>
                            )}
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              )}
            </>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="pg-stat">
      <div className="muted">{label}</div>
      <div className="pg-stat-value">{value}</div>
    </div>
  );
}
