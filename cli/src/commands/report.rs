//! `iscli report ...`: listing reports (one page, or every page following
//! the node's cursors), showing and deleting one.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::syncpack::unexpected;
use super::{deleted, Context, Outcome};
use crate::args::{ReportCommand, ReportList};
use crate::client::{Client, ReportQuery};
use crate::error::CliError;
use crate::output;

pub(crate) async fn run(client: &mut Client, cmd: ReportCommand, ctx: &Context) -> Result<Outcome, CliError> {
    match cmd {
        ReportCommand::List(list) => list_reports(client, list, ctx).await?,
        ReportCommand::Show { id } => {
            let report = client.get_report(&id).await?;
            if !report.is_object() {
                return Err(unexpected("the report", &report));
            }
            ctx.print(&report, output::report_sheet)?;
        }
        ReportCommand::Delete { id } => {
            let name = client.delete_report(&id).await?;
            output::emit(&deleted(ctx, "report", &name)?);
        }
    }
    Ok(Outcome::Success)
}

/// `report list`: the first page as the node answers it, or with --all
/// every page gathered into one answer of the same shape.
async fn list_reports(client: &mut Client, list: ReportList, ctx: &Context) -> Result<(), CliError> {
    let mut query = ReportQuery {
        app: list.app,
        since: list.since.map(|at| at.0),
        until: list.until.map(|at| at.0),
        limit: list.limit,
        cursor: list.cursor,
    };
    let mut pages = Pages::new(query.cursor.as_deref());
    let first = client.list_reports(&query).await?;
    let mut next = pages.add(&first)?;
    if !list.all {
        return ctx.print(&first, |_| output::report_table(&pages.reports, next.as_deref()));
    }
    while let Some(cursor) = next {
        query.cursor = Some(cursor);
        next = pages.add(&client.list_reports(&query).await?)?;
    }
    let all = json!({"reports": pages.reports, "next_cursor": null});
    ctx.print(&all, |_| output::report_table(&pages.reports, None))
}

/// The reports of the pages got so far, and the cursors already asked
/// for (a node answering one again would send --all round in circles).
#[derive(Debug, Default)]
struct Pages {
    reports: Vec<Value>,
    asked: HashSet<String>,
}

impl Pages {
    /// Nothing yet; `cursor`: where the first page starts, if not at the
    /// beginning.
    fn new(cursor: Option<&str>) -> Pages {
        Pages {
            reports: Vec::new(),
            asked: cursor.map(str::to_string).into_iter().collect(),
        }
    }

    /// Takes one page's reports; answers the cursor of the next page, if
    /// more follow.
    fn add(&mut self, page: &Value) -> Result<Option<String>, CliError> {
        let Some(reports) = page.get("reports").and_then(Value::as_array) else {
            return Err(unexpected("a page of reports", page));
        };
        self.reports.extend(reports.iter().cloned());
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

    #[test]
    fn pages_gather_reports_until_no_cursor_follows() {
        let mut pages = Pages::new(None);
        let first = json!({"reports": [{"id": "r1"}, {"id": "r2"}], "next_cursor": "c-2"});
        assert_eq!(pages.add(&first).unwrap().as_deref(), Some("c-2"));
        let last = json!({"reports": [{"id": "r3"}], "next_cursor": null});
        assert_eq!(pages.add(&last).unwrap(), None);
        assert_eq!(
            pages.reports,
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
        let mut pages = Pages::new(Some("c-1"));
        let err = pages
            .add(&json!({"reports": [], "next_cursor": "c-1"}))
            .unwrap_err();
        assert!(
            err.render()
                .contains("\"c-1\" where the cursor of a page not listed yet was expected"),
            "{}",
            err.render()
        );
        let mut pages = Pages::new(None);
        assert!(pages.add(&json!({"reports": [], "next_cursor": "c-2"})).is_ok());
        assert!(pages.add(&json!({"reports": [], "next_cursor": "c-2"})).is_err());
        assert!(pages.add(&json!([{"id": "r1"}])).is_err());
        assert!(pages.add(&json!({"reports": [], "next_cursor": 2})).is_err());
    }
}
