// The application editor (/editor for a new application, /editor/NAME to
// change a stored one): the steps registry on the left, the flowchart in the
// middle, the step editor on the right when a step's gear is used. Changes
// are kept in an undo history (Ctrl+Z, Ctrl+Shift+Z or Ctrl+Y) until Save
// (POST /applications) or Save As; a refused save shows each problem next to
// the step it concerns. The Configure pane (configuration and application
// variables) opens from the toolbar.
import { useCallback, useEffect, useReducer, useRef, useState, type ReactNode } from "react";
import { Link, useLocation } from "wouter";
import { ApiError, can, enc, get, page, post, withQuery } from "../api";
import { Dialog, ErrorBox } from "../components/common";
import { ConfigurePane } from "../components/ConfigurePane";
import { Canvas } from "./editor/Canvas";
import { canRedo, canUndo, historyReducer, isDirty, start, type History, type HistoryAction } from "./editor/history";
import {
  EMPTY,
  addStep,
  fromDocument,
  relayout,
  remove,
  replaceStep,
  setMeta,
  setOutputs,
  toDocument,
  withMetaOf,
  type AppDocument,
  type EditorState,
  type EditorStep,
  type XY,
} from "./editor/model";
import { NO_PROBLEMS, sortProblems, type Problems } from "./editor/problems";
import { Registry } from "./editor/Registry";
import { NodeActions } from "./editor/StepNode";
import { StepForm } from "./editor/StepForm";
import { stepInfo, type StepInfo } from "./editor/values";

type Reducer = (h: History<EditorState>, a: HistoryAction<EditorState>) => History<EditorState>;
const reducer: Reducer = historyReducer;

/** Whether an application of that name is stored, without a 404 in the console. */
async function applicationExists(name: string): Promise<boolean> {
  // The listing starts after its cursor, in name order: start just before `name`.
  const cps = [...name];
  const last = cps.pop()!.codePointAt(0)!;
  const before = cps.join("") + (last > 0 ? String.fromCodePoint(last - 1) + "\u{10FFFF}" : "");
  const p = await page<{ name: string }>(withQuery("/applications", { limit: 1, cursor: before }));
  return p.items[0]?.name === name;
}

const editable = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName));

export function EditorPage({ name }: { name?: string }) {
  if (!can("write")) {
    return (
      <section>
        <h1>{name ? `Application ${name}` : "New application"}</h1>
        <p className="notice">
          Your role can look at applications but not change them; ask an administrator to make changes.
          {name ? (
            <>
              {" "}
              <Link href={`/apps/${enc(name)}`}>Open {name}</Link>
            </>
          ) : null}
        </p>
      </section>
    );
  }
  return <Editor name={name} />;
}

function Editor({ name }: { name?: string }) {
  const [, navigate] = useLocation();
  const [h, dispatch] = useReducer(reducer, EMPTY, start);
  const state = h.present;
  // The name the document was loaded or saved as (null: never stored).
  const stored = useRef<string | null>(null);
  const [loading, setLoading] = useState(!!name);
  const [loadError, setLoadError] = useState<unknown>(null);
  const [openStep, setOpenStep] = useState<string | null>(null);
  const [problems, setProblems] = useState<Problems>(NO_PROBLEMS);
  const [saveError, setSaveError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [askName, setAskName] = useState(false);
  const [confirmReplace, setConfirmReplace] = useState<string | null>(null);
  const [configure, setConfigure] = useState(false);
  const [infos, setInfos] = useState<Record<string, StepInfo | null>>({});
  const placeRef = useRef<(() => XY) | null>(null);
  const fitRef = useRef<(() => void) | null>(null);

  const update = useCallback((fn: (s: EditorState) => EditorState, key?: string) => {
    dispatch({ type: "update", fn, key });
    setNotice(null);
  }, []);

  // Load the stored application (not again for the name this page just saved).
  useEffect(() => {
    if (!name) {
      stored.current = null;
      dispatch({ type: "reset", state: EMPTY });
      setProblems(NO_PROBLEMS);
      setSaveError(null);
      setOpenStep(null);
      setLoading(false);
      return;
    }
    if (stored.current === name) return;
    const ctl = new AbortController();
    setLoading(true);
    setLoadError(null);
    get<AppDocument>(`/applications/${enc(name)}`, ctl.signal)
      .then((doc) => {
        stored.current = name;
        dispatch({ type: "reset", state: fromDocument(doc) });
        setProblems(NO_PROBLEMS);
        setSaveError(null);
        setOpenStep(null);
      })
      .catch((e) => {
        if (!ctl.signal.aborted) setLoadError(e);
      })
      .finally(() => {
        if (!ctl.signal.aborted) setLoading(false);
      });
    return () => ctl.abort();
  }, [name]);

  // Declarations of the step classes in use (for the "needs …" warnings).
  useEffect(() => {
    for (const f of new Set(state.steps.map((s) => s.file))) {
      if (!f || f in infos) continue;
      setInfos((m) => ({ ...m, [f]: m[f] }));
      stepInfo(f).then(
        (i) => setInfos((m) => ({ ...m, [f]: i })),
        (e) => {
          if (e instanceof ApiError && e.status === 404) setInfos((m) => ({ ...m, [f]: null }));
        },
      );
    }
  }, [state.steps, infos]);

  // Keyboard: undo and redo.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      // Not in a text field (it has its own), nor behind a dialog.
      if (!(e.ctrlKey || e.metaKey) || editable(e.target) || document.querySelector("dialog[open]")) return;
      const k = e.key.toLowerCase();
      if (k === "z" && !e.shiftKey) dispatch({ type: "undo" });
      else if ((k === "z" && e.shiftKey) || k === "y") dispatch({ type: "redo" });
      else return;
      e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  // Unsaved changes are not lost to a reload or a closed tab without a warning.
  const dirty = isDirty(h);
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  // A step closed by undo (or renamed away) closes its editor.
  useEffect(() => {
    if (openStep && !state.steps.some((s) => s.name === openStep)) setOpenStep(null);
  }, [state.steps, openStep]);

  const add = (file: string, at?: XY) => {
    const where = at ?? placeRef.current?.() ?? { x: 40, y: 40 };
    update((s) => addStep(s, file, where).state);
  };

  const applyStep = (old: string, next: EditorStep, outputs: string[]): string | null => {
    const r = replaceStep(state, old, next);
    if (typeof r === "string") return r;
    update((s) => {
      const t = replaceStep(s, old, next);
      return typeof t === "string" ? s : setOutputs(t, next.name, outputs);
    });
    setOpenStep(null);
    return null;
  };

  const save = async (asName?: string, replace = false) => {
    // A stored application keeps its name (Save As stores a copy).
    const appName = (asName ?? stored.current ?? String(state.meta.name ?? "")).trim();
    setSaveError(null);
    setNotice(null);
    const local: string[] = [];
    if (!appName) local.push("Give the application a name.");
    else if (/\s/.test(appName)) local.push("The name must not contain spaces.");
    if (!state.steps.length) local.push("Add at least one step.");
    if (local.length) {
      setProblems({ ...NO_PROBLEMS, name: appName && !/\s/.test(appName) ? [] : local.slice(0, 1) });
      setSaveError(new ApiError(400, "The application cannot be saved yet.", local));
      return;
    }
    const next = state.meta.name !== appName ? setMeta(state, "name", appName) : state;
    const doc = toDocument(next);
    setSaving(true);
    try {
      if (!replace && appName !== stored.current && (await applicationExists(appName))) {
        setConfirmReplace(appName);
        return;
      }
      await post("/applications", doc);
      stored.current = appName;
      dispatch({ type: "saved", state: next, base: state });
      setProblems(NO_PROBLEMS);
      setNotice(`Saved ${appName}.`);
      if (name !== appName) navigate(`/editor/${enc(appName)}`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) {
        const sorted = sortProblems(e.details, doc.steps?.map((s) => s.name) ?? []);
        setProblems(sorted);
        const onSteps = Object.keys(sorted.byStep).length;
        setSaveError(
          new ApiError(
            400,
            onSteps ? `${e.message}; the problems of each step are shown on it.` : e.message,
            [...sorted.general, ...sorted.name],
          ),
        );
      } else setSaveError(e instanceof ApiError ? e : new ApiError(0, String(e)));
    } finally {
      setSaving(false);
    }
  };

  const title = stored.current ? `Edit ${stored.current}` : "New application";
  if (loading) return <p className="muted">Loading {name}…</p>;
  if (loadError) {
    return (
      <section>
        <h1>{title === "New application" && name ? `Edit ${name}` : title}</h1>
        <ErrorBox error={loadError} />
        <Link href="/integrations">Back to the integrations</Link>
      </section>
    );
  }

  const meta = (key: string, label: string, extra?: ReactNode) => (
    <label className="ed-meta-field">
      {label}
      <input
        value={key === "name" && stored.current !== null ? stored.current : String(state.meta[key] ?? "")}
        onChange={(e) => update((s) => setMeta(s, key, e.target.value), `meta:${key}`)}
        aria-invalid={key === "name" && problems.name.length ? true : undefined}
        readOnly={key === "name" && stored.current !== null}
        title={key === "name" && stored.current !== null ? "Use Save As to store a copy under another name" : undefined}
        spellCheck={key !== "name"}
      />
      {extra}
    </label>
  );

  return (
    <section className="ed-page">
      <div className="ed-top">
        <h1>{title}</h1>
        <div className="toolbar ed-toolbar" role="toolbar" aria-label="Editor">
          <button className="primary" disabled={saving} onClick={() => save()}>
            {saving ? "Saving…" : "Save"}
          </button>
          <button disabled={saving} onClick={() => setAskName(true)}>
            Save As…
          </button>
          <button disabled={!canUndo(h)} onClick={() => dispatch({ type: "undo" })} title="Ctrl+Z" aria-keyshortcuts="Control+Z">
            Undo
          </button>
          <button
            disabled={!canRedo(h)}
            onClick={() => dispatch({ type: "redo" })}
            title="Ctrl+Shift+Z or Ctrl+Y"
            aria-keyshortcuts="Control+Shift+Z Control+Y"
          >
            Redo
          </button>
          <button
            disabled={!state.steps.length}
            onClick={() => {
              update(relayout);
              setTimeout(() => fitRef.current?.(), 50);
            }}
          >
            Arrange
          </button>
          <button onClick={() => setConfigure(true)}>Configure</button>
          {stored.current ? <Link href={`/apps/${enc(stored.current)}`}>Open application</Link> : null}
          <span className="spacer" />
          <span className="muted" role="status">
            {dirty ? "Unsaved changes" : notice ?? (stored.current ? "All changes saved" : "")}
          </span>
        </div>
        <div className="ed-meta">
          {meta(
            "name",
            "Name",
            problems.name.map((p, i) => (
              <span key={i} className="ed-field-error">
                {p}
              </span>
            )),
          )}
          {meta("friendly_name", "Friendly name")}
          {meta("description", "Description")}
        </div>
        <ErrorBox error={saveError} />
      </div>
      <div className={`ed-body ${openStep ? "with-panel" : ""}`}>
        <Registry onAdd={(f) => add(f)} />
        <NodeActions.Provider value={{ openStep: setOpenStep }}>
          <Canvas
            state={state}
            update={update}
            problems={problems.byStep}
            infos={infos}
            onDropStep={(f, at) => add(f, at)}
            placeRef={placeRef}
            fitRef={fitRef}
            focus={openStep}
          />
        </NodeActions.Provider>
        {openStep ? (
          <StepForm
            key={openStep}
            state={state}
            name={openStep}
            onApply={(next, outs) => applyStep(openStep, next, outs)}
            onDelete={() => {
              update((s) => remove(s, [openStep]));
              setOpenStep(null);
            }}
            onClose={() => setOpenStep(null)}
          />
        ) : null}
      </div>

      {askName ? (
        <SaveAsDialog
          initial={String(state.meta.name ?? "")}
          onCancel={() => setAskName(false)}
          onSave={(n) => {
            setAskName(false);
            void save(n);
          }}
        />
      ) : null}
      {confirmReplace ? (
        <Dialog title="Replace the application?" onClose={() => setConfirmReplace(null)}>
          <p>
            An application named <strong>{confirmReplace}</strong> is already stored. Saving replaces it with this one.
          </p>
          <div className="toolbar">
            <button
              className="primary"
              onClick={() => {
                const n = confirmReplace;
                setConfirmReplace(null);
                void save(n, true);
              }}
            >
              Replace
            </button>
            <button onClick={() => setConfirmReplace(null)}>Cancel</button>
          </div>
        </Dialog>
      ) : null}
      {configure ? (
        <ConfigurePane
          app={toDocument(stored.current !== null ? setMeta(state, "name", stored.current) : state)}
          onClose={() => setConfigure(false)}
          onSaved={(doc) => {
            const saved = withMetaOf(state, doc as AppDocument);
            const n = String(doc.name ?? "");
            stored.current = n || stored.current;
            dispatch({ type: "saved", state: saved, base: state });
            setConfigure(false);
            setNotice(`Saved ${n}.`);
            if (n && name !== n) navigate(`/editor/${enc(n)}`);
          }}
        />
      ) : null}
    </section>
  );
}

function SaveAsDialog(props: { initial: string; onCancel: () => void; onSave: (name: string) => void }) {
  const [value, setValue] = useState(props.initial ? `${props.initial}_copy` : "");
  const bad = !value.trim() ? "Enter a name." : /\s/.test(value.trim()) ? "The name must not contain spaces." : null;
  return (
    <Dialog title="Save As" onClose={props.onCancel}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!bad) props.onSave(value.trim());
        }}
      >
        <label>
          New name
          <input autoFocus value={value} onChange={(e) => setValue(e.target.value)} aria-invalid={bad ? true : undefined} />
        </label>
        {bad && value ? <p className="ed-field-error">{bad}</p> : null}
        <div className="toolbar">
          <button type="submit" className="primary" disabled={!!bad}>
            Save
          </button>
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </Dialog>
  );
}
