//! Reports over the API (DESIGN 4.10): pages of reports, newest first, by
//! application and time; one report with its sections (each the table a
//! step built, with the step's name); keeping one past its run's expiry;
//! deleting one.

use serde_json::{json, Value};

use super::views::secs;
use super::{ApiError, Service};
use crate::model::report::{run_of_report_id, Report};
use crate::store::disk::ReportCursor;
use crate::store::Command;

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no report {id:?} (reports expire with their run; list them with GET /api/v1/reports)"
    ))
}

/// What a listing shows of a report.
fn summary(r: &Report) -> Value {
    json!({"id": r.id(), "app_name": r.app_name, "application_id": r.run_id, "created": secs(r.created_ms),
           "sections": r.sections.len(), "kept": r.kept})
}

fn full(r: &Report) -> Value {
    let sections: Vec<Value> = r
        .sections
        .iter()
        .map(|s| {
            let mut doc = s.doc.clone();
            if let Some(obj) = doc.as_object_mut() {
                obj.insert("step".into(), json!(s.step));
            }
            doc
        })
        .collect();
    json!({"id": r.id(), "app_name": r.app_name, "application_id": r.run_id, "created": secs(r.created_ms),
           "kept": r.kept, "sections": sections})
}

fn cursor_text(c: &ReportCursor) -> String {
    format!("{}.{}", c.0, c.1)
}

fn cursor_of(text: &str) -> Result<ReportCursor, ApiError> {
    text.split_once('.')
        .and_then(|(t, id)| Some((t.parse().ok()?, id.to_string())))
        .ok_or_else(|| ApiError::bad_request(format!("cursor {text:?} is not one this API gave out")))
}

/// What `GET /reports` asks for.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    pub app: Option<String>,
    /// Created at or after / before, in seconds since the epoch.
    pub since: Option<f64>,
    pub until: Option<f64>,
    pub cursor: Option<String>,
    pub limit: usize,
}

impl Service {
    /// A page of report summaries and the cursor of the next page.
    pub fn list_reports(&self, q: &ReportQuery) -> Result<(Vec<Value>, Option<String>), ApiError> {
        let after = q
            .cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(cursor_of)
            .transpose()?;
        let ms = |s: f64| (s.max(0.0) * 1000.0) as u64;
        let (page, next) = self.inner.content.reports(
            q.app.as_deref().filter(|a| !a.is_empty()),
            q.since.map(ms),
            q.until.map(ms),
            after.as_ref(),
            q.limit.clamp(1, 1000),
        )?;
        Ok((page.iter().map(summary).collect(), next.as_ref().map(cursor_text)))
    }

    fn report_of(&self, id: &str) -> Result<Report, ApiError> {
        let run_id = run_of_report_id(id).ok_or_else(|| not_found(id))?;
        let report = self.inner.content.report(run_id)?.ok_or_else(|| not_found(id))?;
        if report.id() != id {
            return Err(not_found(id));
        }
        Ok(report)
    }

    pub fn get_report(&self, id: &str) -> Result<Value, ApiError> {
        Ok(full(&self.report_of(id)?))
    }

    /// `PUT /reports/{id}` `{"keep": true}`: keeps the report when its run
    /// expires (`false`: it goes with the run again).
    pub async fn keep_report(&self, id: &str, doc: Value) -> Result<Value, ApiError> {
        let keep = doc
            .get("keep")
            .and_then(crate::model::lenient::bool_of)
            .ok_or_else(|| ApiError::bad_request("give {\"keep\": true} or {\"keep\": false}"))?;
        let report = self.report_of(id)?;
        self.write(Command::KeepReport {
            run_id: report.run_id,
            keep,
        })
        .await?;
        self.get_report(id)
    }

    pub async fn delete_report(&self, id: &str) -> Result<is_proto::v1::Deleted, ApiError> {
        let report = self.report_of(id)?;
        self.write(Command::DeleteReport {
            run_id: report.run_id,
        })
        .await?;
        Ok(is_proto::v1::Deleted {
            name: id.to_string(),
            deleted: true,
        })
    }
}
