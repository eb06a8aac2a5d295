// The Configurations page: a paged, searchable list of configuration
// objects; one configuration's variables (encrypted values show a padlock
// and are never shown, whatever the role); uploading a configuration as a
// JSON file or pasted text; editing one (an encrypted value can be replaced,
// never read); deleting one. Changes need the `write` permission.
import { useEffect, useState } from "react";
import { Link } from "wouter";
import { can, enc, get, post, del, type ApiError } from "../api";
import { Dialog, Empty, ErrorBox, Pager } from "../components/common";
import { Confirm, Loading, PageHead, SearchBox, Sealed, useDetail, useOwners, valueText } from "./more/bits";
import { useDebounced, usePaged } from "../components/paging";
import { OwnedOr } from "./more/Owned";

interface ConfigSummary {
  name: string;
  /** The activated SyncPack that owns it (when the node says). */
  syncpack?: string | null;
  friendly_name?: string | null;
  description?: string | null;
  author?: string | null;
  version?: string | null;
}

interface ConfigVar {
  name: string;
  value?: unknown;
  encrypted?: boolean | string;
  description?: string;
}

interface ConfigDoc extends ConfigSummary {
  configuration_data?: ConfigVar[];
  [key: string]: unknown;
}

interface Stored {
  name: string;
  result?: string;
}

const isEncrypted = (v: ConfigVar) => v.encrypted === true || String(v.encrypted).toLowerCase() === "true";
/** A sealed value as the API hands it to administrators (never shown). */
const isSealed = (v: unknown) => typeof v === "string" && v.startsWith("enc:");

export function ConfigurationsPage() {
  const [name, open] = useDetail("name");
  return name === null ? <ConfigurationList onOpen={open} /> : <ConfigurationView name={name} onBack={() => open(null)} onOpen={open} />;
}

function ConfigurationList({ onOpen }: { onOpen: (name: string) => void }) {
  const [search, setSearch] = useState("");
  const term = useDebounced(search.trim());
  const list = usePaged<ConfigSummary>("/configurations", { search: term });
  const [uploading, setUploading] = useState(false);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<string | null>(null);
  const owners = useOwners();
  const needle = search.trim().toLowerCase();
  // The API filters by `search`; the page is filtered here as well so the
  // list narrows as the user types even before the next page arrives.
  const shown = list.items.filter(
    (c) => !needle || c.name.toLowerCase().includes(needle) || (c.friendly_name ?? "").toLowerCase().includes(needle),
  );

  return (
    <section>
      <PageHead title="Configurations">
        {can("write") ? (
          <>
            <button onClick={() => setCreating(true)}>New configuration</button>
            <button className="primary" onClick={() => setUploading(true)}>
              Upload configuration
            </button>
          </>
        ) : null}
      </PageHead>
      <div className="toolbar">
        <SearchBox label="Search configurations" value={search} onChange={setSearch} />
        {list.loading ? <Loading what="configurations" /> : null}
      </div>
      <ErrorBox error={list.error} />
      {!list.loading && !list.error && shown.length === 0 ? (
        <Empty>{term ? `No configuration matches “${term}”.` : "There are no configurations yet."}</Empty>
      ) : null}
      {shown.length > 0 ? (
        <table aria-label="Configurations">
          <thead>
            <tr>
              <th>Name</th>
              <th>Friendly name</th>
              <th>Description</th>
              <th>Author</th>
              {can("write") ? <th className="pg-narrow">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {shown.map((c) => (
              <tr key={c.name}>
                <td>
                  <Link href={`/configurations?name=${enc(c.name)}`}>{c.name}</Link>
                </td>
                <td>{c.friendly_name || <span className="muted">—</span>}</td>
                <td className="pg-clip">{c.description}</td>
                <td>{c.author}</td>
                {can("write") ? (
                  <td className="pg-nowrap">
                    <OwnedOr
                      pack={c.syncpack ?? owners?.configurations.get(c.name)}
                      known={c.syncpack !== undefined || owners !== null}
                    >
                      <button className="danger" aria-label={`Delete ${c.name}`} onClick={() => setDeleting(c.name)}>
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
        <UploadDialog
          onClose={() => setUploading(false)}
          onDone={(n) => {
            setUploading(false);
            onOpen(n);
          }}
        />
      ) : null}
      {creating ? (
        <Dialog title="New configuration" onClose={() => setCreating(false)} wide>
          <ConfigEditor
            doc={{ name: "", configuration_data: [] }}
            isNew
            onCancel={() => setCreating(false)}
            onSaved={(n) => {
              setCreating(false);
              onOpen(n);
            }}
          />
        </Dialog>
      ) : null}
      {deleting ? (
        <Confirm
          title="Delete configuration"
          action="Delete"
          onConfirm={() => del(`/configurations/${enc(deleting)}`)}
          onClose={() => setDeleting(null)}
          onDone={() => {
            setDeleting(null);
            list.reload();
          }}
        >
          Delete the configuration <strong>{deleting}</strong>? Applications aligned with it will run without it.
        </Confirm>
      ) : null}
    </section>
  );
}

/** Upload a configuration document: a JSON file or pasted JSON. */
function UploadDialog({ onClose, onDone }: { onClose: () => void; onDone: (name: string) => void }) {
  const [text, setText] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function pick(file: File | undefined) {
    if (!file) return;
    setError(null);
    try {
      setText(await file.text());
    } catch (e) {
      setError(new Error(`Cannot read ${file.name}: ${String(e)}`));
    }
  }

  async function upload() {
    setError(null);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      setError(new Error(`This is not valid JSON: ${(e as Error).message}`));
      return;
    }
    setBusy(true);
    try {
      const stored = await post<Stored>("/configurations", doc);
      onDone(stored?.name ?? (doc as ConfigDoc).name);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }

  return (
    <Dialog title="Upload configuration" onClose={onClose} wide>
      <p className="muted">
        Pick a configuration file (JSON) or paste its content. Values marked <code>"encrypted": true</code> are encrypted
        by the node and can never be read back.
      </p>
      <label>
        Configuration file
        <input type="file" accept=".json,application/json" onChange={(e) => pick(e.target.files?.[0])} />
      </label>
      <label>
        Configuration JSON
        <textarea
          rows={14}
          value={text}
          spellCheck={false}
          onChange={(e) => setText(e.target.value)}
          placeholder={'{"name": "my-settings", "configuration_data": [{"name": "host", "value": "10.0.0.1", "encrypted": false}]}'}
        />
      </label>
      <ErrorBox error={error} />
      <div className="pg-actions">
        <button onClick={onClose}>Cancel</button>
        <button className="primary" onClick={upload} disabled={busy || !text.trim()}>
          {busy ? "Uploading…" : "Upload"}
        </button>
      </div>
    </Dialog>
  );
}

function ConfigurationView({ name, onBack, onOpen }: { name: string; onBack: () => void; onOpen: (n: string) => void }) {
  const [doc, setDoc] = useState<ConfigDoc | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [tick, setTick] = useState(0);
  const owners = useOwners();
  const pack = owners?.configurations.get(name);

  useEffect(() => {
    const ac = new AbortController();
    setError(null);
    get<ConfigDoc>(`/configurations/${enc(name)}`, ac.signal)
      .then(setDoc)
      .catch((e: unknown) => {
        if (!ac.signal.aborted) setError(e);
      });
    return () => ac.abort();
  }, [name, tick]);

  const back = { label: "All configurations", onClick: onBack };
  if (error) {
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
        <Loading what="the configuration" />
      </section>
    );
  }
  const vars = doc.configuration_data ?? [];
  return (
    <section>
      <PageHead title={doc.friendly_name || doc.name} back={back}>
        {can("write") && !editing && owners !== null && !pack ? (
          <>
            <button onClick={() => setEditing(true)}>Edit</button>
            <button className="danger" onClick={() => setDeleting(true)}>
              Delete
            </button>
          </>
        ) : null}
      </PageHead>
      {editing ? (
        <div className="panel">
          <ConfigEditor
            doc={doc}
            onCancel={() => setEditing(false)}
            onSaved={(n) => {
              setEditing(false);
              if (n === name) setTick((t) => t + 1);
              else onOpen(n);
            }}
          />
        </div>
      ) : (
        <>
          <dl className="pg-facts">
            <dt>Name</dt>
            <dd>
              <code>{doc.name}</code>
            </dd>
            <dt>Description</dt>
            <dd>{doc.description || <span className="muted">—</span>}</dd>
            <dt>Author</dt>
            <dd>{doc.author || <span className="muted">—</span>}</dd>
            {doc.version ? (
              <>
                <dt>Version</dt>
                <dd>{doc.version}</dd>
              </>
            ) : null}
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
          <h2>Variables</h2>
          {vars.length === 0 ? (
            <Empty>This configuration has no variables.</Empty>
          ) : (
            <table aria-label="Variables">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Value</th>
                </tr>
              </thead>
              <tbody>
                {vars.map((v) => (
                  <tr key={v.name}>
                    <td>
                      <code>{v.name}</code>
                    </td>
                    <td>
                      <VarValue v={v} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {!vars.some((v) => "value" in v) && vars.length ? (
            <p className="muted">Your role may see the names of the variables, not their values.</p>
          ) : null}
        </>
      )}
      {deleting ? (
        <Confirm
          title="Delete configuration"
          action="Delete"
          onConfirm={() => del(`/configurations/${enc(name)}`)}
          onClose={() => setDeleting(false)}
          onDone={onBack}
        >
          Delete the configuration <strong>{name}</strong>?
        </Confirm>
      ) : null}
    </section>
  );
}

/** One variable's value as the caller may see it; never an encrypted one. */
function VarValue({ v }: { v: ConfigVar }) {
  if (isEncrypted(v)) {
    return (
      <Sealed />
    );
  }
  if (!("value" in v)) return <span className="muted">hidden for your role</span>;
  const text = valueText(v.value);
  return text ? <code className="pg-value">{text}</code> : <span className="muted">(empty)</span>;
}

interface Row {
  key: number;
  name: string;
  text: string;
  encrypted: boolean;
  /** The sealed value to send back as is, until the user replaces it. */
  sealed?: string;
  /** The value was not a string: the text is parsed as JSON on saving. */
  json: boolean;
}

let rowKeys = 0;

function rowsOf(doc: ConfigDoc): Row[] {
  return (doc.configuration_data ?? []).map((v) => {
    const encrypted = isEncrypted(v);
    return {
      key: ++rowKeys,
      name: v.name,
      text: encrypted ? "" : valueText(v.value),
      encrypted,
      sealed: encrypted && isSealed(v.value) ? (v.value as string) : undefined,
      json: !encrypted && v.value !== undefined && typeof v.value !== "string",
    };
  });
}

/**
 * Edits a configuration: its friendly name, description and variables. An
 * encrypted variable keeps its sealed value unless the user types a new one
 * (the old one is never shown).
 */
function ConfigEditor(props: { doc: ConfigDoc; isNew?: boolean; onSaved: (name: string) => void; onCancel: () => void }) {
  const [name, setName] = useState(props.doc.name);
  const [friendly, setFriendly] = useState(props.doc.friendly_name ?? "");
  const [description, setDescription] = useState(props.doc.description ?? "");
  const [rows, setRows] = useState<Row[]>(() => rowsOf(props.doc));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const change = (key: number, patch: Partial<Row>) => setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...patch } : r)));

  function documentToSend(): ConfigDoc {
    const problems: string[] = [];
    if (!name.trim()) problems.push("The configuration needs a name.");
    const seen = new Set<string>();
    const data: ConfigVar[] = rows.map((r, i) => {
      const n = r.name.trim();
      if (!n) problems.push(`Variable ${i + 1} has no name.`);
      else if (seen.has(n)) problems.push(`The variable ${n} appears twice.`);
      seen.add(n);
      if (r.encrypted && r.sealed !== undefined) return { name: n, value: r.sealed, encrypted: true };
      if (r.encrypted && !r.text) problems.push(`Give the encrypted variable ${n || i + 1} a value.`);
      let value: unknown = r.text;
      if (r.json && !r.encrypted) {
        try {
          value = JSON.parse(r.text);
        } catch {
          value = r.text;
        }
      }
      return { name: n, value, encrypted: r.encrypted };
    });
    if (problems.length) {
      const e = new Error("The configuration cannot be saved yet") as Error & { details: string[] };
      e.details = problems;
      throw e;
    }
    // `syncpack` is what the node reports about ownership, not part of the document.
    const { syncpack: _owner, ...rest } = props.doc;
    return { ...rest, name: name.trim(), friendly_name: friendly, description, configuration_data: data };
  }

  async function save() {
    setError(null);
    let doc: ConfigDoc;
    try {
      doc = documentToSend();
    } catch (e) {
      setError(e);
      return;
    }
    setBusy(true);
    try {
      await post<Stored>("/configurations", doc);
      props.onSaved(doc.name);
    } catch (e) {
      setError(e as ApiError);
      setBusy(false);
    }
  }

  return (
    <form
      className="pg-editor"
      aria-label="Edit configuration"
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <div className="pg-grid2">
        <label>
          Name
          <input value={name} onChange={(e) => setName(e.target.value)} readOnly={!props.isNew} required />
        </label>
        <label>
          Friendly name
          <input value={friendly} onChange={(e) => setFriendly(e.target.value)} />
        </label>
      </div>
      <label>
        Description
        <input value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <h3>Variables</h3>
      <table aria-label="Variables">
        <thead>
          <tr>
            <th>Name</th>
            <th>Value</th>
            <th className="pg-narrow">Encrypted</th>
            <th className="pg-narrow">
              <span className="pg-sr">Remove</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={r.key}>
              <td>
                <input
                  aria-label={`Name of variable ${i + 1}`}
                  value={r.name}
                  onChange={(e) => change(r.key, { name: e.target.value })}
                />
              </td>
              <td>
                {r.encrypted && r.sealed !== undefined ? (
                  <span className="row">
                    <Sealed />
                    <button type="button" onClick={() => change(r.key, { sealed: undefined, text: "" })}>
                      Replace value of {r.name || `variable ${i + 1}`}
                    </button>
                  </span>
                ) : (
                  <input
                    className="pg-wide"
                    type={r.encrypted ? "password" : "text"}
                    autoComplete="off"
                    aria-label={r.encrypted ? `New value of ${r.name || `variable ${i + 1}`}` : `Value of ${r.name || `variable ${i + 1}`}`}
                    value={r.text}
                    onChange={(e) => change(r.key, { text: e.target.value })}
                  />
                )}
              </td>
              <td>
                <input
                  type="checkbox"
                  aria-label={`Encrypt ${r.name || `variable ${i + 1}`}`}
                  checked={r.encrypted}
                  disabled={r.sealed !== undefined}
                  onChange={(e) => change(r.key, { encrypted: e.target.checked })}
                />
              </td>
              <td>
                <button
                  type="button"
                  className="icon"
                  aria-label={`Remove ${r.name || `variable ${i + 1}`}`}
                  onClick={() => setRows((rs) => rs.filter((x) => x.key !== r.key))}
                >
                  ✕
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <button
        type="button"
        className="pg-add"
        onClick={() => setRows((rs) => [...rs, { key: ++rowKeys, name: "", text: "", encrypted: false, json: false }])}
      >
        Add variable
      </button>
      <ErrorBox error={error} />
      <div className="pg-actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}
