// Sorts the problems of a refused save (400 `{error, details: [...]}`) by
// what they concern, so the editor can show each next to its step. The API
// names steps in its messages the way these examples do:
//   step "Greet": "output_to" names unknown step "Zed"
//   duplicate step name "Greet"
//   the steps form a cycle: Greet -> Shout -> Greet
//   steps[2] needs a non-empty string "name"
//   "name" must not contain spaces, got "my app"
// Anything else is a problem of the whole document.

export interface Problems {
  /** Messages per step name. */
  byStep: Record<string, string[]>;
  /** Messages about the application's name. */
  name: string[];
  /** The rest. */
  general: string[];
}

export const NO_PROBLEMS: Problems = { byStep: {}, name: [], general: [] };

/** The text of a leading JSON-style quoted string (escapes undone), and where it ends. */
function quoted(s: string, from: number): { text: string; end: number } | null {
  if (s[from] !== '"') return null;
  let i = from + 1;
  while (i < s.length && s[i] !== '"') i += s[i] === "\\" ? 2 : 1;
  if (i >= s.length) return null;
  try {
    return { text: JSON.parse(s.slice(from, i + 1)) as string, end: i + 1 };
  } catch {
    return { text: s.slice(from + 1, i), end: i + 1 };
  }
}

/**
 * `stepNames` are the steps in the order they were sent (for `steps[i]`
 * messages); messages about a step are stripped of the step's name.
 */
export function sortProblems(details: string[], stepNames: string[]): Problems {
  const out: Problems = { byStep: {}, name: [], general: [] };
  const known = new Set(stepNames);
  const add = (step: string, msg: string) => {
    (out.byStep[step] ??= []).push(msg);
  };
  for (const d of details) {
    if (d.startsWith("step ")) {
      const q = quoted(d, 5);
      if (q && known.has(q.text)) {
        add(q.text, d.slice(q.end).replace(/^:\s*/, ""));
        continue;
      }
    }
    const dup = /^duplicate step name /.exec(d);
    if (dup) {
      const q = quoted(d, dup[0].length);
      if (q && known.has(q.text)) {
        add(q.text, "another step has the same name");
        continue;
      }
    }
    const cycle = /cycle:\s*(.+)$/.exec(d);
    if (cycle) {
      const members = [...new Set(cycle[1].split(" -> ").map((n) => n.trim()))].filter((n) => known.has(n));
      if (members.length) {
        // The path is long for a node: the nodes say so, the list shows it.
        for (const m of members) add(m, "part of a cycle (see above)");
        out.general.push(d);
        continue;
      }
    }
    const index = /^steps\[(\d+)\]\s*/.exec(d);
    if (index) {
      const step = stepNames[Number(index[1])];
      if (step !== undefined && known.has(step)) {
        add(step, d.slice(index[0].length));
        continue;
      }
    }
    if (d.startsWith('"name"')) {
      out.name.push(d);
      continue;
    }
    out.general.push(d);
  }
  return out;
}
