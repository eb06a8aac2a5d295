//! Free-form JSON inside replicated records. The Raft log and snapshots are
//! bincode, which cannot encode `serde_json::Value` (it needs a
//! self-describing format), so a field of free-form JSON is stored as its JSON
//! text and parsed back once when the record is decoded. Use it as
//! `#[serde(with = "crate::model::json_text")]` on a field whose type
//! serializes to JSON (a `Value`, a `Map<String, Value>`, …).

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub fn serialize<T: Serialize, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    let text = serde_json::to_string(value).map_err(serde::ser::Error::custom)?;
    s.serialize_str(&text)
}

pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    let text = String::deserialize(d)?;
    serde_json::from_str(&text).map_err(D::Error::custom)
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};
    use serde_json::{json, Value};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Record {
        #[serde(with = "super")]
        value: Value,
    }

    #[test]
    fn free_form_json_survives_bincode() {
        let r = Record {
            value: json!({"a": [1, 2.5, null, {"b": "c"}]}),
        };
        let bytes = bincode::serde::encode_to_vec(&r, bincode::config::standard()).unwrap();
        let (back, _): (Record, usize) =
            bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
        assert_eq!(back, r);
    }
}
