//! Generated applications for tests (compiled for tests only).

use serde_json::{json, Value};

/// A valid application "big" of `steps` steps named S0, S1, ... with
/// `edges` distinct edges, and those edges as (upstream, downstream)
/// indices. Edges go forward (lower index to higher, short gaps first), so
/// no cycle forms; they alternate between `output_to` and `data_from`, and
/// each is written twice, so duplicates must count once.
pub(crate) fn big_app(steps: usize, edges: usize) -> (Value, Vec<(usize, usize)>) {
    let mut entries: Vec<Value> = (0..steps)
        .map(|i| json!({"name": format!("S{i}"), "file": "F", "output_to": [], "data_from": []}))
        .collect();
    let mut made = Vec::with_capacity(edges);
    'outer: for gap in 1..steps {
        for from in 0..steps - gap {
            if made.len() == edges {
                break 'outer;
            }
            let to = from + gap;
            let (entry, key, other) = if made.len() % 2 == 0 {
                (from, "output_to", to)
            } else {
                (to, "data_from", from)
            };
            let list = entries[entry][key].as_array_mut().expect("an array");
            list.push(json!(format!("S{other}")));
            list.push(json!(format!("S{other}")));
            made.push((from, to));
        }
    }
    assert_eq!(
        made.len(),
        edges,
        "{steps} steps cannot hold {edges} forward edges"
    );
    (json!({"name": "big", "steps": entries}), made)
}
