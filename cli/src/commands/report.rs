//! `iscli report ...`: listing reports (one page, or every page following
//! the node's cursors with `pages`), showing and deleting one.

use serde_json::json;

use super::pages::Pages;
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
    let mut pages = Pages::new("reports", query.cursor.as_deref());
    let first = client.list_reports(&query).await?;
    let mut next = pages.add(&first)?;
    if !list.all {
        return ctx.print(&first, |_| output::report_table(&pages.items, next.as_deref()));
    }
    while let Some(cursor) = next {
        query.cursor = Some(cursor);
        next = pages.add(&client.list_reports(&query).await?)?;
    }
    let all = json!({"reports": pages.items, "next_cursor": null});
    ctx.print(&all, |_| output::report_table(&pages.items, None))
}
