//! Reports (DESIGN 4.10): one per run of an application with
//! `generate_report` on, holding the tables its steps built
//! (`ipaascommon.report_manager`), each step's as it ended.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A run's report as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub run_id: String,
    pub app_name: String,
    /// When its first section arrived.
    pub created_ms: u64,
    pub sections: Vec<ReportSection>,
    /// Kept when its run expires (else it goes with the run).
    pub kept: bool,
}

/// One top-level table a step built (its sub-reports inside).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSection {
    pub step: String,
    #[serde(with = "super::json_text")]
    pub doc: Value,
}

impl Report {
    /// The report's id, as the original product spelled it.
    pub fn id(&self) -> String {
        report_id(&self.app_name, &self.run_id)
    }
}

pub fn report_id(app_name: &str, run_id: &str) -> String {
    format!("report-{app_name}-{run_id}")
}

/// The run a report id names (run ids start with `isapp-`).
pub fn run_of_report_id(id: &str) -> Option<&str> {
    let at = id.strip_prefix("report-")?.rfind("-isapp-")?;
    Some(&id["report-".len() + at + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_id_names_its_run_even_when_the_application_name_has_dashes() {
        let id = report_id("device-sync", "isapp-0b1c-2d");
        assert_eq!(id, "report-device-sync-isapp-0b1c-2d");
        assert_eq!(run_of_report_id(&id), Some("isapp-0b1c-2d"));
        assert_eq!(run_of_report_id("report-x"), None);
        assert_eq!(run_of_report_id("isapp-1"), None);
    }
}
