// The Steps page: a paged, searchable list of the step classes the node
// knows; one step's description, declared parameters and highlighted source;
// uploading a .py file (the class is named after the file unless the user
// changes it; a Python error comes back as a 400 and is shown); editing a
// step's code; deleting a step. Changes need the `write` permission.
import { useEffect, useState } from "react";
import { Link } from "wouter";
import { can, del, enc, get, post } from "../api";
import { Dialog, Empty, ErrorBox, Pager } from "../components/common";
import { PythonCode } from "./more/Code";
import { OwnedOr } from "./more/Owned";
import { Confirm, Loading, PageHead, SearchBox, useDetail, useOwners, valueText } from "./more/bits";
import { useDebounced, usePaged } from "../components/paging";

interface StepSummary {
  name: string;
  /** The activated SyncPack that owns it (when the node says). */
  syncpack?: string | null;
  friendly_name?: string | null;
  description?: string | null;
  version?: string | null;
}

export interface StepParameter {
  name: string;
  description?: string | null;
  sample_value?: unknown;
  default_value?: unknown;
  required?: boolean;
  type?: string | null;
}

interface StepDoc extends StepSummary {
  source: string;
  parameters?: StepParameter[];
}

export function StepsPage() {
  const [name, open] = useDetail("name");
  return name === null ? <StepList onOpen={open} /> : <StepView name={name} onBack={() => open(null)} />;
}

function StepList({ onOpen }: { onOpen: (name: string) => void }) {
  const [search, setSearch] = useState("");
  const term = useDebounced(search.trim());
  const list = usePaged<StepSummary>("/steps", { search: term });
  const [uploading, setUploading] = useState(false);
  const [deleting, setDeleting] = useState<string | null>(null);
  const owners = useOwners();
  const needle = search.trim().toLowerCase();
  const shown = list.items.filter(
    (s) =>
      !needle ||
      s.name.toLowerCase().includes(needle) ||
      (s.friendly_name ?? "").toLowerCase().includes(needle) ||
      (s.description ?? "").toLowerCase().includes(needle),
  );

  return (
    <section>
      <PageHead title="Steps">
        {can("write") ? (
          <button className="primary" onClick={() => setUploading(true)}>
            Upload step
          </button>
        ) : null}
      </PageHead>
      <div className="toolbar">
        <SearchBox label="Search steps" value={search} onChange={setSearch} />
        {list.loading ? <Loading what="steps" /> : null}
      </div>
      <ErrorBox error={list.error} />
      {!list.loading && !list.error && shown.length === 0 ? (
        <Empty>{term ? `No step matches “${term}”.` : "There are no steps yet."}</Empty>
      ) : null}
      {shown.length > 0 ? (
        <table aria-label="Steps">
          <thead>
            <tr>
              <th>Name</th>
              <th>Friendly name</th>
              <th>Description</th>
              <th className="pg-narrow">Version</th>
              {can("write") ? <th className="pg-narrow">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {shown.map((s) => (
              <tr key={s.name}>
                <td>
                  <Link href={`/steps?name=${enc(s.name)}`}>{s.name}</Link>
                </td>
                <td>{s.friendly_name || <span className="muted">—</span>}</td>
                <td className="pg-clip">{s.description}</td>
                <td>{s.version}</td>
                {can("write") ? (
                  <td className="pg-nowrap">
                    <OwnedOr
                      pack={s.syncpack ?? owners?.steps.get(s.name)}
                      known={s.syncpack !== undefined || owners !== null}
                    >
                      <button className="danger" aria-label={`Delete ${s.name}`} onClick={() => setDeleting(s.name)}>
                        Delete
                      </button>
                    </OwnedOr>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager hasPrev={list.hasPrev} hasNext={list.hasNext} onPrev={list.prev} onNext={list.next} />
      {uploading ? (
        <UploadStep
          onClose={() => setUploading(false)}
          onDone={(n) => {
            setUploading(false);
            onOpen(n);
          }}
        />
      ) : null}
      {deleting ? (
        <Confirm
          title="Delete step"
          action="Delete"
          onConfirm={() => del(`/steps/${enc(deleting)}`)}
          onClose={() => setDeleting(null)}
          onDone={() => {
            setDeleting(null);
            list.reload();
          }}
        >
          Delete the step <strong>{deleting}</strong>? Applications that use it will fail at that step.
        </Confirm>
      ) : null}
    </section>
  );
}

/** A step's class name from its file name: `Foo.py` → `Foo`. */
const classOf = (fileName: string) => fileName.replace(/\.py$/i, "");

function UploadStep({ onClose, onDone }: { onClose: () => void; onDone: (name: string) => void }) {
  const [name, setName] = useState("");
  const [source, setSource] = useState<string | null>(null);
  const [fileName, setFileName] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function pick(file: File | undefined) {
    if (!file) return;
    setError(null);
    try {
      setSource(await file.text());
      setFileName(file.name);
      setName(classOf(file.name));
    } catch (e) {
      setError(new Error(`Cannot read ${file.name}: ${String(e)}`));
    }
  }

  async function upload() {
    if (source === null) return;
    setBusy(true);
    setError(null);
    try {
      await post("/steps", { name: name.trim(), data: source });
      onDone(name.trim());
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }

  return (
    <Dialog title="Upload step" onClose={onClose} wide>
      <p className="muted">
        A step is one Python file holding a class of the same name derived from <code>BaseStep</code>.
      </p>
      <div className="pg-grid2">
        <label>
          Python file
          <input type="file" accept=".py,text/x-python" onChange={(e) => pick(e.target.files?.[0])} />
        </label>
        <label>
          Class name
          <input value={name} onChange={(e) => setName(e.target.value)} required placeholder="taken from the file name" />
        </label>
      </div>
      {source !== null ? (
        <div className="pg-preview">
          <PythonCode source={source} label={`Source of ${fileName}`} />
        </div>
      ) : null}
      <ErrorBox error={error} />
      <div className="pg-actions">
        <button onClick={onClose}>Cancel</button>
        <button className="primary" onClick={upload} disabled={busy || source === null || !name.trim()}>
          {busy ? "Uploading…" : "Upload"}
        </button>
      </div>
    </Dialog>
  );
}

function StepView({ name, onBack }: { name: string; onBack: () => void }) {
  const [step, setStep] = useState<StepDoc | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const owners = useOwners();
  const pack = owners?.steps.get(name);

  useEffect(() => {
    const ac = new AbortController();
    setError(null);
    get<StepDoc>(`/steps/${enc(name)}`, ac.signal)
      .then(setStep)
      .catch((e: unknown) => {
        if (!ac.signal.aborted) setError(e);
      });
    return () => ac.abort();
  }, [name, tick]);

  const back = { label: "All steps", onClick: onBack };
  if (error) {
    return (
      <section>
        <PageHead title={name} back={back} />
        <ErrorBox error={error} />
      </section>
    );
  }
  if (!step || step.name !== name) {
    return (
      <section>
        <PageHead title={name} back={back} />
        <Loading what="the step" />
      </section>
    );
  }
  const params = step.parameters ?? [];
  return (
    <section>
      <PageHead title={step.friendly_name || step.name} back={back}>
        {can("write") && !editing && owners !== null && !pack ? (
          <>
            <button onClick={() => setEditing(true)}>Edit code</button>
            <button className="danger" onClick={() => setDeleting(true)}>
              Delete
            </button>
          </>
        ) : null}
      </PageHead>
      <dl className="pg-facts">
        <dt>Class</dt>
        <dd>
          <code>{step.name}</code>
        </dd>
        <dt>Description</dt>
        <dd>{step.description || <span className="muted">—</span>}</dd>
        <dt>Version</dt>
        <dd>{step.version || <span className="muted">—</span>}</dd>
        {pack ? (
          <>
            <dt>SyncPack</dt>
            <dd>
              <Link href={`/syncpacks?name=${enc(pack)}`}>{pack}</Link>{" "}
              <span className="muted">(change it by activating another version of the pack)</span>
            </dd>
          </>
        ) : null}
      </dl>
      <h2>Parameters</h2>
      {params.length === 0 ? (
        <Empty>This step declares no parameters.</Empty>
      ) : (
        <table aria-label="Parameters">
          <thead>
            <tr>
              <th>Name</th>
              <th>Type</th>
              <th>Required</th>
              <th>Default</th>
              <th>Sample value</th>
              <th>Description</th>
            </tr>
          </thead>
          <tbody>
            {params.map((p) => (
              <tr key={p.name}>
                <td>
                  <code>{p.name}</code>
                </td>
                <td>{p.type || <span className="muted">any</span>}</td>
                <td>{p.required ? <strong>required</strong> : <span className="muted">optional</span>}</td>
                <td>
                  <code>{valueText(p.default_value)}</code>
                </td>
                <td>
                  <code>{valueText(p.sample_value)}</code>
                </td>
                <td>{p.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2 className="pg-gap">Source</h2>
      <PythonCode source={step.source ?? ""} label={`Source of ${step.name}`} />
      {editing ? (
        <EditCode
          step={step}
          onClose={() => setEditing(false)}
          onSaved={() => {
            setEditing(false);
            setTick((t) => t + 1);
          }}
        />
      ) : null}
      {deleting ? (
        <Confirm
          title="Delete step"
          action="Delete"
          onConfirm={() => del(`/steps/${enc(name)}`)}
          onClose={() => setDeleting(false)}
          onDone={onBack}
        >
          Delete the step <strong>{name}</strong>?
        </Confirm>
      ) : null}
    </section>
  );
}

/** Edits a step's Python source and stores it under the same class name. */
function EditCode({ step, onClose, onSaved }: { step: StepDoc; onClose: () => void; onSaved: () => void }) {
  const [source, setSource] = useState(step.source ?? "");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function save() {
    setBusy(true);
    setError(null);
    try {
      await post("/steps", { name: step.name, data: source });
      onSaved();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }
  return (
    <Dialog title={`Edit ${step.name}`} onClose={onClose} wide>
      <label>
        Python source
        <textarea
          className="pg-code-edit"
          rows={24}
          spellCheck={false}
          value={source}
          onChange={(e) => setSource(e.target.value)}
        />
      </label>
      <ErrorBox error={error} />
      <div className="pg-actions">
        <button onClick={onClose}>Cancel</button>
        <button className="primary" onClick={save} disabled={busy}>
          {busy ? "Saving…" : "Save"}
        </button>
      </div>
    </Dialog>
  );
}
