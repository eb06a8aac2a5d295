//! `iscli audit`: one page of the audit trail as the node answers it, or
//! with --all every page (following the node's cursors with `pages`)
//! gathered into one answer of the same shape.

use serde_json::json;

use super::pages::Pages;
use super::{Context, Outcome};
use crate::args::AuditList;
use crate::client::Client;
use crate::error::CliError;
use crate::output;

/// `iscli audit [--limit N] [--cursor C] [--all]`.
pub(crate) async fn list(client: &mut Client, list: AuditList, ctx: &Context) -> Result<Outcome, CliError> {
    let mut pages = Pages::new("records", list.cursor.as_deref());
    let first = client.list_audit(list.cursor.as_deref(), list.limit).await?;
    let mut next = pages.add(&first)?;
    if !list.all {
        ctx.print(&first, |_| output::audit_table(&pages.items, next.as_deref()))?;
        return Ok(Outcome::Success);
    }
    while let Some(cursor) = next {
        next = pages.add(&client.list_audit(Some(&cursor), list.limit).await?)?;
    }
    let all = json!({"records": pages.items, "next_cursor": null});
    ctx.print(&all, |_| output::audit_table(&pages.items, None))?;
    Ok(Outcome::Success)
}
