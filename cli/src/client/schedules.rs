//! The RPCs of schedules and reports. Their answers are JSON documents
//! (entries, lists, pages); they come back as values for `output` to read
//! tolerantly, and unchanged for `--json`.

use is_proto::v1::{Empty, Json, ListReportsRequest, UpdateScheduleRequest};
use serde_json::Value;

use super::{deleted_name, document, id_req, Client, DeletedName};
use crate::error::CliError;

/// Which page of reports to ask for; `None` leaves a filter out (the
/// node's default page size is 50).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ReportQuery {
    pub(crate) app: Option<String>,
    pub(crate) since: Option<f64>,
    pub(crate) until: Option<f64>,
    pub(crate) limit: Option<u32>,
    pub(crate) cursor: Option<String>,
}

impl ReportQuery {
    fn request(&self) -> ListReportsRequest {
        ListReportsRequest {
            app: self.app.clone().unwrap_or_default(),
            since: self.since,
            until: self.until,
            limit: self.limit.unwrap_or(0),
            cursor: self.cursor.clone().unwrap_or_default(),
        }
    }
}

impl Client {
    // ---- schedules ----

    /// Stores a schedule document (creating it, or replacing the schedule
    /// with the same entry_id); answers the schedule's entry.
    pub(crate) async fn put_schedule(&mut self, json: String) -> Result<Value, CliError> {
        match self.rpc.put_schedule(Json { json }).await {
            Ok(r) => Ok(document(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Every schedule entry, as a JSON array.
    pub(crate) async fn list_schedules(&mut self) -> Result<Value, CliError> {
        match self.rpc.list_schedules(Empty {}).await {
            Ok(r) => Ok(document(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// One schedule entry, with its history.
    pub(crate) async fn get_schedule(&mut self, id: &str) -> Result<Value, CliError> {
        match self.rpc.get_schedule(id_req(id)).await {
            Ok(r) => Ok(document(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// Changes the fields `changes` (a JSON object) gives; answers the entry.
    pub(crate) async fn update_schedule(&mut self, id: &str, changes: &Value) -> Result<Value, CliError> {
        let req = UpdateScheduleRequest {
            id: id.to_string(),
            json: changes.to_string(),
        };
        match self.rpc.update_schedule(req).await {
            Ok(r) => Ok(document(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn delete_schedule(&mut self, id: &str) -> Result<DeletedName, CliError> {
        match self.rpc.delete_schedule(id_req(id)).await {
            Ok(r) => Ok(deleted_name(r.into_inner().name, id)),
            Err(s) => Err(self.fail(s)),
        }
    }

    // ---- reports ----

    /// One page of reports: `{"reports": [...], "next_cursor": ...}`.
    pub(crate) async fn list_reports(&mut self, query: &ReportQuery) -> Result<Value, CliError> {
        match self.rpc.list_reports(query.request()).await {
            Ok(r) => Ok(document(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    /// One report with its sections.
    pub(crate) async fn get_report(&mut self, id: &str) -> Result<Value, CliError> {
        match self.rpc.get_report(id_req(id)).await {
            Ok(r) => Ok(document(&r.into_inner().json)),
            Err(s) => Err(self.fail(s)),
        }
    }

    pub(crate) async fn delete_report(&mut self, id: &str) -> Result<DeletedName, CliError> {
        match self.rpc.delete_report(id_req(id)).await {
            Ok(r) => Ok(deleted_name(r.into_inner().name, id)),
            Err(s) => Err(self.fail(s)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_left_out_are_the_nodes_defaults() {
        assert_eq!(ReportQuery::default().request(), ListReportsRequest::default());
        let query = ReportQuery {
            app: Some("hello".into()),
            since: Some(1.5),
            until: None,
            limit: Some(10),
            cursor: Some("c-2".into()),
        };
        assert_eq!(
            query.request(),
            ListReportsRequest {
                app: "hello".into(),
                since: Some(1.5),
                until: None,
                limit: 10,
                cursor: "c-2".into(),
            }
        );
    }
}
