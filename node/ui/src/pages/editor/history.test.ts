import { describe, expect, it } from "vitest";
import {
  LIMIT,
  canRedo,
  canUndo,
  historyReducer,
  isDirty,
  start,
  type History,
  type HistoryAction,
} from "./history";

// States are objects, compared by identity like the editor's states.
interface Doc {
  text: string;
}
const doc = (text: string): Doc => ({ text });

function run(h: History<Doc>, ...actions: HistoryAction<Doc>[]): History<Doc> {
  return actions.reduce(historyReducer<Doc>, h);
}
const commit = (text: string, key?: string): HistoryAction<Doc> => ({ type: "commit", state: doc(text), key });
const UNDO: HistoryAction<Doc> = { type: "undo" };
const REDO: HistoryAction<Doc> = { type: "redo" };

describe("undo / redo", () => {
  it("starts with nothing to undo or redo and no unsaved change", () => {
    const h = start(doc("a"));
    expect(canUndo(h)).toBe(false);
    expect(canRedo(h)).toBe(false);
    expect(isDirty(h)).toBe(false);
  });

  it("undoes changes newest first and redoes them in order", () => {
    let h = run(start(doc("a")), commit("b"), commit("c"), commit("d"));
    expect(h.present.text).toBe("d");
    const seen: string[] = [];
    while (canUndo(h)) {
      h = historyReducer(h, UNDO);
      seen.push(h.present.text);
    }
    expect(seen).toEqual(["c", "b", "a"]);
    expect(canRedo(h)).toBe(true);
    const again: string[] = [];
    while (canRedo(h)) {
      h = historyReducer(h, REDO);
      again.push(h.present.text);
    }
    expect(again).toEqual(["b", "c", "d"]);
  });

  it("gives back the very states that were committed", () => {
    const b = doc("b");
    const h = run(start(doc("a")), { type: "commit", state: b }, commit("c"), UNDO);
    expect(h.present).toBe(b);
  });

  it("does nothing on undo or redo with nothing there", () => {
    const h = start(doc("a"));
    expect(historyReducer(h, UNDO)).toBe(h);
    expect(historyReducer(h, REDO)).toBe(h);
  });

  it("drops what could be redone when a new change is made", () => {
    let h = run(start(doc("a")), commit("b"), commit("c"), UNDO, UNDO);
    expect(canRedo(h)).toBe(true);
    h = historyReducer(h, commit("x"));
    expect(canRedo(h)).toBe(false);
    expect(historyReducer(h, REDO)).toBe(h);
    h = historyReducer(h, UNDO);
    expect(h.present.text).toBe("a");
  });

  it("does not record a commit of the present state itself", () => {
    const h = start(doc("a"));
    expect(historyReducer(h, { type: "commit", state: h.present })).toBe(h);
    expect(historyReducer(h, { type: "update", fn: (s) => s })).toBe(h);
  });

  it("applies update to the present state and records it", () => {
    const h = run(start(doc("a")), { type: "update", fn: (s) => doc(s.text + "b") });
    expect(h.present.text).toBe("ab");
    expect(historyReducer(h, UNDO).present.text).toBe("a");
  });

  it("keeps at most LIMIT steps to undo, dropping the oldest", () => {
    let h = start(doc("0"));
    for (let i = 1; i <= LIMIT + 5; i++) h = historyReducer(h, commit(String(i)));
    expect(h.past).toHaveLength(LIMIT);
    while (canUndo(h)) h = historyReducer(h, UNDO);
    expect(h.present.text).toBe("5");
  });
});

describe("typing coalesced into one entry", () => {
  it("merges commits with the same key one after another", () => {
    const h = run(
      start(doc("")),
      commit("H", "field:name"),
      commit("He", "field:name"),
      commit("Hel", "field:name"),
      commit("Hello", "field:name"),
    );
    expect(h.present.text).toBe("Hello");
    expect(h.past).toHaveLength(1);
    const back = historyReducer(h, UNDO);
    expect(back.present.text).toBe("");
    expect(historyReducer(back, REDO).present.text).toBe("Hello");
  });

  it("starts a new entry for another key, or no key", () => {
    const h = run(
      start(doc("")),
      commit("a", "one"),
      commit("ab", "one"),
      commit("ab2", "two"),
      commit("ab3"),
      commit("ab4"),
    );
    expect(h.past.map((d) => d.text)).toEqual(["", "ab", "ab2", "ab3"]);
  });

  it("starts a new entry after an undo, even with the same key", () => {
    let h = run(start(doc("")), commit("a", "k"), commit("ab", "k"), UNDO, commit("x", "k"), commit("xy", "k"));
    expect(h.present.text).toBe("xy");
    h = historyReducer(h, UNDO);
    expect(h.present.text).toBe("");
  });

  it("starts a new entry after a save, even with the same key", () => {
    let h = run(start(doc("")), commit("a", "k"));
    h = historyReducer(h, { type: "saved", state: h.present });
    h = run(h, commit("ab", "k"));
    expect(historyReducer(h, UNDO).present.text).toBe("a");
  });
});

describe("reset and saved", () => {
  it("reset forgets the history and counts as saved", () => {
    const h = run(start(doc("a")), commit("b"), commit("c"), UNDO, { type: "reset", state: doc("loaded") });
    expect(h.present.text).toBe("loaded");
    expect(canUndo(h)).toBe(false);
    expect(canRedo(h)).toBe(false);
    expect(isDirty(h)).toBe(false);
  });

  it("marks a change unsaved, and undoing back to the saved state clean again", () => {
    let h = run(start(doc("a")), commit("b"));
    expect(isDirty(h)).toBe(true);
    h = historyReducer(h, UNDO);
    expect(isDirty(h)).toBe(false);
    h = historyReducer(h, REDO);
    expect(isDirty(h)).toBe(true);
  });

  it("takes the stored state in place of the present, which is not an undo step", () => {
    let h = run(start(doc("a")), commit("b"));
    const stored = doc("b (named)");
    h = historyReducer(h, { type: "saved", state: stored, base: h.present });
    expect(h.present).toBe(stored);
    expect(isDirty(h)).toBe(false);
    expect(h.past.map((d) => d.text)).toEqual(["a"]);
    // Undo goes back past the save, which leaves the document unsaved.
    h = historyReducer(h, UNDO);
    expect(h.present.text).toBe("a");
    expect(isDirty(h)).toBe(true);
  });

  it("keeps changes made while the save was under way, and they stay unsaved", () => {
    let h = run(start(doc("a")), commit("b"));
    const base = h.present;
    h = historyReducer(h, commit("c")); // typed while saving
    const stored = doc("b (stored)");
    h = historyReducer(h, { type: "saved", state: stored, base });
    expect(h.present.text).toBe("c");
    expect(h.saved).toBe(stored);
    expect(isDirty(h)).toBe(true);
  });
});
