// Undo/redo for the editor: a pure reducer over a list of document states.
// `commit` pushes a new state (the future is dropped); commits that carry the
// same `key` one after another (typing in one field) merge into one entry,
// so a single undo takes back the whole edit. `saved` remembers which state
// was last stored, to tell whether there are unsaved changes.

export interface History<S> {
  past: S[];
  present: S;
  future: S[];
  /** Key of the last commit, while further commits with it merge into it. */
  lastKey: string | null;
  /** The state last loaded or saved. */
  saved: S;
}

export type HistoryAction<S> =
  | { type: "commit"; state: S; key?: string }
  /** A commit of what `fn` makes of the present state (pure). */
  | { type: "update"; fn: (present: S) => S; key?: string }
  | { type: "undo" }
  | { type: "redo" }
  | { type: "reset"; state: S }
  /** `state` was stored; `base` is the present it was made from, when the
   *  user may have changed things while it was being stored. */
  | { type: "saved"; state: S; base?: S };

/** How many steps back undo can go. */
export const LIMIT = 200;

export function start<S>(state: S): History<S> {
  return { past: [], present: state, future: [], lastKey: null, saved: state };
}

export function historyReducer<S>(h: History<S>, a: HistoryAction<S>): History<S> {
  switch (a.type) {
    case "commit": {
      if (a.state === h.present) return h;
      const key = a.key ?? null;
      if (key !== null && key === h.lastKey) return { ...h, present: a.state, future: [] };
      const past = [...h.past, h.present];
      if (past.length > LIMIT) past.splice(0, past.length - LIMIT);
      return { ...h, past, present: a.state, future: [], lastKey: key };
    }
    case "update":
      return historyReducer(h, { type: "commit", state: a.fn(h.present), key: a.key });
    case "undo": {
      if (!h.past.length) return h;
      const present = h.past[h.past.length - 1];
      return { ...h, past: h.past.slice(0, -1), present, future: [h.present, ...h.future], lastKey: null };
    }
    case "redo": {
      if (!h.future.length) return h;
      const [present, ...future] = h.future;
      return { ...h, past: [...h.past, h.present], present, future, lastKey: null };
    }
    case "reset":
      return start(a.state);
    case "saved":
      // Changed meanwhile: the newer present stays (and is unsaved).
      if (a.base !== undefined && a.base !== h.present) return { ...h, saved: a.state, lastKey: null };
      // The stored state takes the present's place (it may add what the save
      // set, such as the name): saving is not a change to undo.
      return { ...h, present: a.state, saved: a.state, lastKey: null };
  }
}

export const canUndo = <S>(h: History<S>) => h.past.length > 0;
export const canRedo = <S>(h: History<S>) => h.future.length > 0;
export const isDirty = <S>(h: History<S>) => h.present !== h.saved;
