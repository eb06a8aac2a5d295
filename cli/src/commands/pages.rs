//! Following the pages of a paged list (`report list --all`, `audit
//! --all`): the items of every page gathered in order, and the cursor of
//! the next page checked, so that a node answering a cursor twice cannot
//! send --all round in circles.

use std::collections::HashSet;

use serde_json::Value;

use super::syncpack::unexpected;
use crate::error::CliError;

/// The items of the pages got so far, and the cursors already asked for.
#[derive(Debug)]
pub(super) struct Pages {
    /// The field of a page that holds its items (`reports`, `records`).
    key: &'static str,
    pub(super) items: Vec<Value>,
    asked: HashSet<String>,
}

impl Pages {
    /// Nothing yet; `key`: the field holding each page's items; `cursor`:
    /// where the first page starts, if not at the beginning.
    pub(super) fn new(key: &'static str, cursor: Option<&str>) -> Pages {
        Pages {
            key,
            items: Vec::new(),
            asked: cursor.map(str::to_string).into_iter().collect(),
        }
    }

    /// Takes one page's items; answers the cursor of the next page, if
    /// more follow (a null, empty or missing `next_cursor`: none).
    pub(super) fn add(&mut self, page: &Value) -> Result<Option<String>, CliError> {
        let Some(items) = page.get(self.key).and_then(Value::as_array) else {
            return Err(unexpected(&format!("a page of {}", self.key), page));
        };
        self.items.extend(items.iter().cloned());
        let next = match page.get("next_cursor") {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(c)) if c.is_empty() => return Ok(None),
            Some(Value::String(c)) => c.clone(),
            Some(other) => return Err(unexpected("the cursor of the next page", other)),
        };
        if !self.asked.insert(next.clone()) {
            return Err(unexpected(
                "the cursor of a page not listed yet",
                &Value::String(next),
            ));
        }
        Ok(Some(next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_gather_items_until_no_cursor_follows() {
        let mut pages = Pages::new("reports", None);
        let first = json!({"reports": [{"id": "r1"}, {"id": "r2"}], "next_cursor": "c-2"});
        assert_eq!(pages.add(&first).unwrap().as_deref(), Some("c-2"));
        let last = json!({"reports": [{"id": "r3"}], "next_cursor": null});
        assert_eq!(pages.add(&last).unwrap(), None);
        assert_eq!(
            pages.items,
            vec![json!({"id": "r1"}), json!({"id": "r2"}), json!({"id": "r3"})]
        );
        // An empty cursor or none at all: the last page too.
        assert_eq!(
            pages.add(&json!({"reports": [], "next_cursor": ""})).unwrap(),
            None
        );
        assert_eq!(pages.add(&json!({"reports": []})).unwrap(), None);
    }

    #[test]
    fn a_cursor_asked_for_already_or_an_odd_page_is_an_error() {
        let mut pages = Pages::new("reports", Some("c-1"));
        let err = pages
            .add(&json!({"reports": [], "next_cursor": "c-1"}))
            .unwrap_err();
        assert!(
            err.render()
                .contains("\"c-1\" where the cursor of a page not listed yet was expected"),
            "{}",
            err.render()
        );
        let mut pages = Pages::new("reports", None);
        assert!(pages.add(&json!({"reports": [], "next_cursor": "c-2"})).is_ok());
        assert!(pages.add(&json!({"reports": [], "next_cursor": "c-2"})).is_err());
        assert!(pages.add(&json!([{"id": "r1"}])).is_err());
        assert!(pages.add(&json!({"reports": [], "next_cursor": 2})).is_err());
    }

    #[test]
    fn the_items_are_read_from_the_field_named() {
        let mut pages = Pages::new("records", None);
        let err = pages
            .add(&json!({"reports": [{"id": "r1"}], "next_cursor": null}))
            .unwrap_err();
        assert!(
            err.render().contains("where a page of records was expected"),
            "{}",
            err.render()
        );
        let page = json!({"records": [{"at_ms": 2}, {"at_ms": 1}], "next_cursor": "1:x"});
        assert_eq!(pages.add(&page).unwrap().as_deref(), Some("1:x"));
        assert_eq!(pages.items.len(), 2);
    }
}
