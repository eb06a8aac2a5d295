//! A cache entry for people (`iscli cache get`): key, size, expiry, and the
//! value as indented JSON, or why it has no JSON rendering.

use is_proto::json::from_proto;
use is_proto::v1::CacheEntry;

use super::time::datetime;

pub(crate) fn cache_sheet(entry: &CacheEntry) -> String {
    let mut out = format!(
        "Key:      {}\nSize:     {} bytes (pickled)\nExpires:  {}\n",
        entry.key,
        entry.size,
        entry.expires_at.map(datetime).unwrap_or_else(|| "never".into())
    );
    match (&entry.value, &entry.note) {
        (Some(value), _) => {
            out.push_str("Value:\n");
            for line in super::pretty(&from_proto(value)).lines() {
                out.push_str(&format!("  {line}\n"));
            }
        }
        (None, Some(note)) => out.push_str(&format!("Value:    - ({note})\n")),
        (None, None) => out.push_str("Value:    -\n"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_value_is_indented_json_or_the_reason_there_is_none() {
        let entry = CacheEntry {
            key: "app/devices".into(),
            value: Some(is_proto::json::to_proto(&json!({"n": 2}))),
            size: 31,
            expires_at: None,
            note: None,
            pickle: None,
        };
        assert_eq!(
            cache_sheet(&entry),
            "Key:      app/devices\nSize:     31 bytes (pickled)\nExpires:  never\nValue:\n  {\n    \"n\": 2\n  }\n"
        );
        let object = CacheEntry {
            value: None,
            note: Some("it holds a Python object of a class".into()),
            ..entry
        };
        assert!(
            cache_sheet(&object).ends_with("Value:    - (it holds a Python object of a class)\n"),
            "{}",
            cache_sheet(&object)
        );
    }
}
