//! The shared cache over the API (`GET/DELETE /cache/{key}`): an entry is
//! shown with its value rendered as JSON, read from the stored pickle
//! without a Python interpreter, and the pickle itself only on request.
//!
//! The rendering follows what steps see in their results: tuples and sets
//! become lists, dict keys become strings, non-finite floats become their
//! Python spelling. A pickle of anything else (a class instance, a date,
//! bytes) has no rendering: `value` is null and `note` says how to fetch
//! the pickle.

use is_proto::v1 as pb;
use serde_json::{Map, Number, Value};
use serde_pickle::{HashableValue, Value as Pickled};

use super::views::secs;
use super::{ApiError, Service};
use crate::store::{Command, CommandResult};
use crate::util::now_ms;

/// Nesting past this depth is not rendered (the pickle still is served).
const MAX_DEPTH: usize = 100;

impl Service {
    /// The live entry under `key`, with its pickle when `raw`.
    pub fn cache_get(&self, key: &str, raw: bool) -> Result<pb::CacheEntry, ApiError> {
        let sm = self.inner.content.read();
        let entry = sm
            .content
            .cache
            .get(key)
            .filter(|e| e.is_live(now_ms()))
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no cache entry {key:?} (or it expired); keys of Cache Save steps are \"<application>/<key>\""
                ))
            })?;
        let (value, note) = match render(&entry.value) {
            Ok(v) => (Some(is_proto::json::to_proto(&v)), None),
            Err(why) => (
                None,
                Some(format!(
                    "the value has no JSON rendering ({why}); fetch the pickle with ?raw=true (iscli cache get --raw)"
                )),
            ),
        };
        Ok(pb::CacheEntry {
            key: key.to_string(),
            value,
            size: entry.value.len() as u64,
            expires_at: entry.expires_at_ms.map(secs),
            note,
            pickle: raw.then(|| entry.value.clone()),
        })
    }

    pub async fn cache_delete(&self, key: &str) -> Result<pb::CacheDeleted, ApiError> {
        match self.write(Command::CacheDelete { key: key.to_string() }).await? {
            CommandResult::Deleted { existed: true } => Ok(pb::CacheDeleted {
                key: key.to_string(),
                deleted: true,
            }),
            _ => Err(ApiError::NotFound(format!("no cache entry {key:?}"))),
        }
    }
}

/// The JSON rendering of a pickle, or why it has none.
pub fn render(pickle: &[u8]) -> Result<Value, String> {
    let value =
        serde_pickle::value_from_slice(pickle, serde_pickle::DeOptions::new()).map_err(|e| match e {
            serde_pickle::Error::Syntax(
                serde_pickle::ErrorCode::UnresolvedGlobal | serde_pickle::ErrorCode::UnsupportedGlobal(..),
            ) => "it holds a Python object of a class".to_string(),
            other => format!("the pickle cannot be read here: {other}"),
        })?;
    json_of(value, 0)
}

fn json_of(v: Pickled, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!("it is nested more than {MAX_DEPTH} deep"));
    }
    let list = |items: Vec<Pickled>| -> Result<Value, String> {
        items
            .into_iter()
            .map(|i| json_of(i, depth + 1))
            .collect::<Result<_, _>>()
            .map(Value::Array)
    };
    Ok(match v {
        Pickled::None => Value::Null,
        Pickled::Bool(b) => Value::Bool(b),
        Pickled::I64(i) => Value::from(i),
        // Beyond 64 bits: the digits, as JSON numbers of any size would
        // lose them in most readers.
        Pickled::Int(i) => Value::String(i.to_string()),
        Pickled::F64(f) => Number::from_f64(f).map_or_else(|| Value::String(python_float(f)), Value::Number),
        Pickled::String(s) => Value::String(s),
        Pickled::Bytes(_) => return Err("it holds bytes".into()),
        Pickled::List(items) | Pickled::Tuple(items) => list(items)?,
        Pickled::Set(items) | Pickled::FrozenSet(items) => {
            list(items.into_iter().map(HashableValue::into_value).collect())?
        }
        Pickled::Dict(entries) => {
            let mut map = Map::new();
            for (k, v) in entries {
                map.insert(key_text(k)?, json_of(v, depth + 1)?);
            }
            Value::Object(map)
        }
    })
}

/// A dict key as Python's `str()` spells it (what `json.dumps` does for
/// numbers, booleans and None).
fn key_text(k: HashableValue) -> Result<String, String> {
    Ok(match k {
        HashableValue::String(s) => s,
        HashableValue::None => "None".into(),
        HashableValue::Bool(b) => if b { "True" } else { "False" }.into(),
        HashableValue::I64(i) => i.to_string(),
        HashableValue::Int(i) => i.to_string(),
        HashableValue::F64(f) => python_float(f),
        HashableValue::Bytes(_) => return Err("a dict key is bytes".into()),
        HashableValue::Tuple(_) | HashableValue::FrozenSet(_) => {
            return Err("a dict key is a tuple or frozenset".into())
        }
    })
}

fn python_float(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{f:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `pickle.dumps(value, protocol=4)` of the Python expression, by the
    /// machine's Python (the runner's), so the test reads real pickles.
    fn pickle(expr: &str) -> Vec<u8> {
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                &format!(
                    "import sys, pickle, datetime; sys.stdout.buffer.write(pickle.dumps({expr}, protocol=4))"
                ),
            ])
            .output()
            .expect("python3 runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }

    #[test]
    fn plain_values_render_as_a_step_result_would() {
        let got = render(&pickle(
            "{'rows': [1, 2.5, None, True], 'pair': (1, 'x'), 3: {7}, 'big': 2**70, 'inf': float('inf')}",
        ))
        .unwrap();
        assert_eq!(
            got,
            json!({"rows": [1, 2.5, null, true], "pair": [1, "x"], "3": [7],
                   "big": "1180591620717411303424", "inf": "inf"})
        );
        assert_eq!(render(&pickle("'text'")).unwrap(), json!("text"));
        assert_eq!(
            render(&pickle("{None: 1, True: 2}")).unwrap(),
            json!({"None": 1, "True": 2})
        );
    }

    #[test]
    fn objects_bytes_and_garbage_have_no_rendering_and_say_why() {
        let err = render(&pickle("{'when': datetime.datetime(2020, 1, 1)}")).unwrap_err();
        assert!(err.contains("Python object of a class"), "{err}");
        assert!(render(&pickle("b'xy'")).unwrap_err().contains("bytes"));
        assert!(render(b"not a pickle").unwrap_err().contains("cannot be read"));
        let deep = format!("{}1{}", "[".repeat(150), "]".repeat(150));
        assert!(render(&pickle(&deep)).unwrap_err().contains("nested"));
    }
}
