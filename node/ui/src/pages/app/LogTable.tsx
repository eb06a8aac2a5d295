// A step's log as a table (time, level, module, message) with a minimum
// level filter; while records arrive live it keeps the newest in view
// unless the reader turns "Follow" off.
import { useEffect, useId, useRef, useState } from "react";
import { clock, type LogRecord } from "./types";

const LEVELS: [number, string][] = [
  [0, "All levels"],
  [10, "Debug and above"],
  [20, "Info and above"],
  [30, "Warning and above"],
  [40, "Error and above"],
  [50, "Critical only"],
];

function levelClass(levelno: number): string {
  if (levelno >= 40) return "lv-error";
  if (levelno >= 30) return "lv-warning";
  if (levelno >= 20) return "lv-info";
  return "lv-debug";
}

export function LogTable({ logs, live, total }: { logs: LogRecord[]; live: boolean; total?: number }) {
  const [min, setMin] = useState(0);
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLDivElement>(null);
  const id = useId();
  const shown = min ? logs.filter((l) => l.levelno >= min) : logs;

  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [shown.length, follow]);

  return (
    <div className="run-log">
      <div className="toolbar">
        <label className="inline" htmlFor={`${id}-level`}>
          Level
        </label>
        <select id={`${id}-level`} value={min} onChange={(e) => setMin(Number(e.target.value))}>
          {LEVELS.map(([n, label]) => (
            <option key={n} value={n}>
              {label}
            </option>
          ))}
        </select>
        <label className="inline">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
        <span className="spacer" />
        <span className="muted" aria-live="polite">
          {live ? "● live · " : ""}
          {shown.length === logs.length ? `${logs.length}` : `${shown.length} of ${logs.length}`} records
          {total && total > logs.length ? ` (first ${logs.length} of ${total} loaded)` : ""}
        </span>
      </div>
      <div className="run-log-box" ref={box} tabIndex={0} aria-label="Step log">
        {shown.length === 0 ? (
          <p className="empty">{logs.length ? "No record at this level." : "No log records."}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Level</th>
                <th scope="col">Module</th>
                <th scope="col">Message</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((l, i) => (
                <tr key={i} className={levelClass(l.levelno)}>
                  <td className="nowrap" title={new Date(l.time * 1000).toISOString()}>
                    {clock(l.time)}
                  </td>
                  <td className="run-log-level">{l.level}</td>
                  <td>{l.module}</td>
                  <td className="run-log-msg">{l.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
