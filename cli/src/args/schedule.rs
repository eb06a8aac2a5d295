//! `iscli schedule ...`: adding a schedule (from flags or from a document
//! file), listing and showing schedules, enabling, disabling and deleting
//! one. `ScheduleAdd::source` checks what clap cannot (a key given twice, a
//! time zone without a cron) and builds the schedule document the node
//! stores.

use std::path::PathBuf;

use clap::builder::NonEmptyStringValueParser;
use clap::{ArgGroup, Args, Subcommand, ValueEnum};
use serde_json::{json, Map, Value};

use super::params::{param_map, parse_param};
use super::usage;
use crate::error::CliError;

/// What to do with schedules.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum ScheduleCommand {
    /// Add a schedule that runs an application every N seconds or on a
    /// cron, or replace the one with the same entry id
    ///
    /// Give exactly one of --every, --cron and --file. With --file, the
    /// document is sent as it is and no other flag is allowed. Prints the
    /// schedule's id and its next fire time (UTC).
    #[command(after_help = SCHEDULE_ADD_HELP)]
    Add(ScheduleAdd),

    /// List every schedule: id, entry, application, when it fires, whether
    /// it is enabled, its next and last fire times (UTC)
    List,

    /// Show one schedule: its fields and its history (each slot fired,
    /// skipped or missed, oldest first)
    Show {
        /// Schedule id (sched-..., see 'iscli schedule list')
        id: String,
    },

    /// Enable a schedule: it fires again from its next slot
    Enable {
        /// Schedule id (sched-...)
        id: String,
    },

    /// Disable a schedule: it stays stored but does not fire
    Disable {
        /// Schedule id (sched-...)
        id: String,
    },

    /// Delete a schedule
    Delete {
        /// Schedule id (sched-...)
        id: String,
    },
}

const SCHEDULE_ADD_HELP: &str = "\
Examples:
  iscli schedule add --app hello --every 60
  iscli schedule add --app hello --entry-id hello-nightly --cron '0 2 * * *' --timezone Europe/Paris
  iscli schedule add --app hello --cron '*/15 * * * mon-fri' --param who=world --overlap allow
  iscli schedule add --app hello --every 3600 --disabled     stored, but not firing yet
  iscli schedule add --file schedule.json

A schedule document (--file) looks like:
  {\"application_id\": \"hello\", \"entry_id\": \"hello\", \"params\": {}, \"enabled\": true,
   \"overlap\": \"skip\",
   \"schedule\": {\"schedule_type\": \"frequency\", \"schedule_info\": {\"run_every\": 60}}}
or with \"schedule\": {\"schedule_type\": \"crontab\", \"schedule_info\": {\"minute\": \"0\",
  \"hour\": \"*/2\", \"day_of_month\": \"*\", \"month_of_year\": \"*\", \"day_of_week\": \"*\",
  \"timezone\": \"Europe/Paris\"}}";

/// `iscli schedule add`: the schedule, from flags or from a document file.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
#[command(group(ArgGroup::new("when").required(true).args(["every", "cron", "file"])))]
pub(crate) struct ScheduleAdd {
    /// Application to run
    #[arg(long, value_name = "APP", required_unless_present = "file",
          value_parser = NonEmptyStringValueParser::new())]
    pub(crate) app: Option<String>,

    /// The schedule's entry id; adding one with an entry id already used
    /// replaces that schedule [default: the application's name]
    #[arg(long, value_name = "ID", value_parser = NonEmptyStringValueParser::new())]
    pub(crate) entry_id: Option<String>,

    /// Run the application every SECONDS seconds (a whole number above 0)
    #[arg(long, value_name = "SECONDS", value_parser = parse_every)]
    pub(crate) every: Option<u64>,

    /// Run the application on a cron: five fields MINUTE HOUR DAY-OF-MONTH
    /// MONTH DAY-OF-WEEK in one argument (quote it), e.g. "0 */2 * * *"
    #[arg(long, value_name = "CRON", value_parser = parse_cron)]
    pub(crate) cron: Option<Cron>,

    /// The time zone the --cron fields are read in (an IANA name such as
    /// Europe/Paris) [default: UTC]
    #[arg(long, value_name = "TZ", value_parser = NonEmptyStringValueParser::new())]
    pub(crate) timezone: Option<String>,

    /// An app variable for the runs, KEY=VALUE; repeat for more. The value
    /// is read as JSON when it is valid JSON (42, true, [1,2], {"a":1}),
    /// else taken as a plain string
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub(crate) params: Vec<(String, Value)>,

    /// What to do when a slot comes while the previous run is still going:
    /// skip the slot, or allow a second run [default: skip]
    #[arg(long, value_name = "POLICY", value_enum)]
    pub(crate) overlap: Option<Overlap>,

    /// Store the schedule disabled (enable it with 'iscli schedule enable')
    #[arg(long)]
    pub(crate) disabled: bool,

    /// Send this schedule document (JSON) instead of building one from the
    /// flags; "-" reads it from stdin
    #[arg(long, value_name = "FILE",
          conflicts_with_all = ["app", "entry_id", "timezone", "params", "overlap", "disabled"])]
    pub(crate) file: Option<PathBuf>,
}

/// What happens to a slot that comes while the previous run still goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Overlap {
    /// Skip the slot (it shows as skipped in the history)
    Skip,
    /// Start another run alongside
    Allow,
}

impl Overlap {
    fn name(self) -> &'static str {
        match self {
            Overlap::Skip => "skip",
            Overlap::Allow => "allow",
        }
    }
}

/// The five fields of a cron line, as given (boxed: a schedule command
/// stays small).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cron(Box<[String; 5]>);

/// The names of the cron fields, in the order of the line, as the
/// schedule document names them and as messages name them.
const CRON_FIELDS: [(&str, &str); 5] = [
    ("minute", "MINUTE"),
    ("hour", "HOUR"),
    ("day_of_month", "DAY-OF-MONTH"),
    ("month_of_year", "MONTH"),
    ("day_of_week", "DAY-OF-WEEK"),
];

impl Cron {
    /// The `schedule_info` of a crontab schedule.
    fn info(&self, timezone: Option<&str>) -> Value {
        let mut info = Map::new();
        for ((key, _), value) in CRON_FIELDS.iter().zip(self.0.iter()) {
            info.insert(key.to_string(), Value::from(value.as_str()));
        }
        if let Some(tz) = timezone {
            info.insert("timezone".to_string(), Value::from(tz));
        }
        Value::Object(info)
    }
}

/// Reads `--every`: whole seconds, above 0.
fn parse_every(arg: &str) -> Result<u64, String> {
    match arg.trim().parse::<u64>() {
        Ok(0) => Err("the interval must be above 0 seconds".to_string()),
        Ok(secs) => Ok(secs),
        Err(_) => Err(format!("expected a whole number of seconds, got {arg:?}")),
    }
}

/// Reads `--cron`: five fields separated by spaces, each made of digits,
/// names (mon, jan) and `* / , -`; the node checks their values.
fn parse_cron(arg: &str) -> Result<Cron, String> {
    let fields: Vec<&str> = arg.split_whitespace().collect();
    let Ok(fields) = <[&str; 5]>::try_from(fields.as_slice()) else {
        return Err(format!(
            "expected 5 fields, MINUTE HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK (e.g. \"0 */2 * * *\"), \
             got {} in {arg:?}",
            fields.len()
        ));
    };
    for ((_, label), field) in CRON_FIELDS.iter().zip(fields) {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "*/,-".contains(c);
        if !field.chars().all(allowed) {
            return Err(format!(
                "the {label} field {field:?} may only hold numbers, names and * / , -"
            ));
        }
    }
    Ok(Cron(Box::new(fields.map(str::to_string))))
}

/// Where the schedule to send comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ScheduleSource {
    /// A document file (`-`: stdin), sent as it is.
    File(PathBuf),
    /// The document built from the flags.
    Document(Value),
}

impl ScheduleAdd {
    /// The schedule to send: the --file, or the document the flags
    /// describe. A key given twice with --param, or --timezone without
    /// --cron, is a usage error.
    pub(crate) fn source(&self) -> Result<ScheduleSource, CliError> {
        if let Some(path) = &self.file {
            return Ok(ScheduleSource::File(path.clone()));
        }
        let Some(app) = &self.app else {
            return Err(usage(
                "--app is required (or give the whole document with --file)",
            ));
        };
        if self.timezone.is_some() && self.cron.is_none() {
            return Err(usage(
                "--timezone goes with --cron: a schedule --every N seconds has no time zone",
            ));
        }
        let schedule = match (self.every, &self.cron) {
            (Some(secs), None) => json!({
                "schedule_type": "frequency",
                "schedule_info": {"run_every": secs},
            }),
            (None, Some(cron)) => json!({
                "schedule_type": "crontab",
                "schedule_info": cron.info(self.timezone.as_deref()),
            }),
            _ => return Err(usage("give exactly one of --every, --cron and --file")),
        };
        let overlap = self.overlap.unwrap_or(Overlap::Skip);
        Ok(ScheduleSource::Document(json!({
            "application_id": app,
            "entry_id": self.entry_id.as_deref().unwrap_or(app),
            "params": param_map(&self.params)?,
            "enabled": !self.disabled,
            "overlap": overlap.name(),
            "schedule": schedule,
        })))
    }
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
