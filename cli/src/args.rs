//! The command line: every flag and subcommand with its help text (clap
//! derive), and `Cli::action`, which checks the combinations clap cannot
//! express and turns the parsed line into one `Action` for `commands.rs`.
//!
//! Two styles live side by side: the original product's flags
//! (`iscli -usf step.py`, `iscli -AIkn pack -V 1.0`) and subcommands
//! (`iscli step list`). To add a subcommand, add a variant to `Command` (or
//! to one of the per-noun enums) here and its handler in `commands.rs`.

use std::path::PathBuf;

use clap::builder::NonEmptyStringValueParser;
use clap::{ArgGroup, Args, Parser, Subcommand};
use serde_json::{Map, Value};

use crate::error::CliError;
use crate::settings::ConnectionFlags;

const EXAMPLES: &str = "\
Examples:
  iscli -usf steps/CountRecords.py          upload one step
  iscli -usf steps/                         upload every step in a directory
  iscli -uaf apps/integration_template.json upload an application
  iscli -ucf configs/demo-settings.json     upload a configuration
  iscli -ukf ./test_syncpack-0.0.1-py3-none-any.whl -O
  iscli -AIkn test_syncpack -V 0.0.1        activate, then install a syncpack
  iscli step list
  iscli step run Greet --param who=world    run one step, print its logs live
  iscli step run Slow --wait 0              start it, print the task id, return
  iscli task show 0b6e6c1a-...              state, result or error, logs
  iscli task logs 0b6e6c1a-... --follow     logs until the task ends
  iscli task revoke 0b6e6c1a-...            stop a pending or running task
  iscli app run integration_template --param exampleVariable=x
                                            run an application, follow its steps live
  iscli app run integration_template --wait 0   start it, print the run id, return
  iscli task show isapp-...                 a run: its steps, states, waiting reasons
  iscli task replay isapp-...               run it again with the same variables
  iscli task list --app integration_template
  iscli app logs integration_template       the last run and its log lines
  iscli app get integration_template --json
  iscli cluster status                      members, leader, health
  iscli cluster add 4 10.0.0.4:8080         a new voting member (same cluster_secret)

Connection settings come from the flags, else IS_HOST, IS_PORT, IS_USER,
IS_PASSWORD, else ~/.config/iscli/config.toml (keys host, port, username,
password; $XDG_CONFIG_HOME is honoured), else 127.0.0.1:8080 as user isadmin.";

/// Command-line client of the Integration Service (talks gRPC to isnode).
#[derive(Debug, Parser)]
#[command(
    name = "iscli",
    disable_version_flag = true,
    arg_required_else_help = true,
    after_help = EXAMPLES
)]
pub struct Cli {
    /// Print the version of iscli and exit (-V is a syncpack version)
    #[arg(long = "cli-version")]
    pub cli_version: bool,

    /// Print the server's JSON answer, pretty-printed, instead of a summary
    #[arg(long, global = true, help_heading = "Output")]
    pub json: bool,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub legacy: LegacyArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Where the server is and who we are; usable before or after a subcommand.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectionArgs {
    /// Server host name or IP address [env: IS_HOST] [default: 127.0.0.1]
    #[arg(short = 'H', long, global = true, value_name = "HOST")]
    pub host: Option<String>,

    /// Server port (gRPC and REST share it) [env: IS_PORT] [default: 8080]
    #[arg(short = 'P', long, global = true, value_name = "PORT",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub port: Option<u16>,

    /// User name [env: IS_USER] [default: isadmin]
    #[arg(short = 'U', long, global = true, value_name = "USER")]
    pub username: Option<String>,

    /// Password [env: IS_PASSWORD]; required from some source
    #[arg(short = 'p', long, global = true, value_name = "PASSWORD")]
    pub password: Option<String>,

    /// Plain connection without TLS (the default and, for now, the only mode)
    #[arg(short = 'i', long, global = true)]
    pub insecure: bool,
}

impl ConnectionArgs {
    /// The values given as flags, for `settings::resolve`.
    pub fn flags(&self) -> ConnectionFlags {
        ConnectionFlags {
            host: self.host.clone(),
            port: self.port,
            username: self.username.clone(),
            password: self.password.clone(),
        }
    }
}

/// The original product's flags: uploads and syncpack activation.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Upload and syncpack flags (original iscli)")]
#[command(group(
    ArgGroup::new("kind")
        .args(["step", "application", "configuration", "syncpack"])
        .multiple(false)
))]
pub struct LegacyArgs {
    /// Upload the file or directory given with -f (with one of -s/-a/-c/-k)
    #[arg(short = 'u', long)]
    pub upload: bool,

    /// The content is a step (a .py file, or a directory of them)
    #[arg(short = 's', long)]
    pub step: bool,

    /// The content is an application (a .json file, or a directory of them)
    #[arg(short = 'a', long)]
    pub application: bool,

    /// The content is a configuration (a .json file, or a directory of them)
    #[arg(short = 'c', long)]
    pub configuration: bool,

    /// The content is a syncpack (a .whl file, a source directory with
    /// setup.py, or a directory of those)
    #[arg(short = 'k', long)]
    pub syncpack: bool,

    /// File or directory to upload; a directory uploads every file of the
    /// chosen kind in it
    #[arg(
        short = 'f',
        long = "fileLocation",
        value_name = "FILE|DIR",
        visible_alias = "file-location"
    )]
    pub file_location: Option<PathBuf>,

    /// Activate the syncpack named with -n (register its content)
    #[arg(short = 'A', long)]
    pub activate: bool,

    /// Install the syncpack named with -n (build its environment on the
    /// nodes); after activating when both are given
    #[arg(short = 'I', long)]
    pub install: bool,

    /// Name of the syncpack to activate or install
    #[arg(short = 'n', long, value_name = "NAME")]
    pub name: Option<String>,

    /// Syncpack version to activate or install [default: the newest uploaded]
    #[arg(short = 'V', long, value_name = "VERSION")]
    pub version: Option<String>,

    /// Activate or install even if the server would refuse otherwise (e.g.
    /// the same version is already active)
    #[arg(short = 'F', long)]
    pub force: bool,

    /// Replace a syncpack wheel of the same name and version already
    /// uploaded (steps, applications and configurations are always replaced)
    #[arg(short = 'O', long)]
    pub overwrite: bool,
}

impl LegacyArgs {
    /// True when any of these flags was given.
    fn any(&self) -> bool {
        self.upload
            || self.kind().is_some()
            || self.file_location.is_some()
            || self.activate
            || self.install
            || self.name.is_some()
            || self.version.is_some()
            || self.force
            || self.overwrite
    }

    fn kind(&self) -> Option<ContentKind> {
        if self.step {
            Some(ContentKind::Step)
        } else if self.application {
            Some(ContentKind::Application)
        } else if self.configuration {
            Some(ContentKind::Configuration)
        } else if self.syncpack {
            Some(ContentKind::SyncPack)
        } else {
            None
        }
    }
}

/// Subcommands (beyond the original product's flags).
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Steps: Python step classes
    #[command(subcommand)]
    Step(StepCommand),

    /// Integration applications
    #[command(subcommand, visible_alias = "application")]
    App(AppCommand),

    /// Configurations (shared variables; encrypted values stay hidden)
    #[command(subcommand, visible_alias = "configuration")]
    Config(ConfigCommand),

    /// Show the server's version and build information
    About,

    /// The cluster of nodes
    #[command(subcommand)]
    Cluster(ClusterCommand),

    /// Tasks: runs of a step or of an application (state, logs, result;
    /// listing, replay, revocation)
    #[command(subcommand)]
    Task(TaskCommand),
}

/// What to do with steps.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum StepCommand {
    /// List every step: name, friendly name, version
    List,
    /// Show one step: its metadata, declared parameters and source
    Get {
        /// Step name (its class name)
        name: String,
    },
    /// Delete one step
    Delete {
        /// Step name (its class name)
        name: String,
    },
    /// Run one uploaded step alone and follow it: state changes, log lines, result
    ///
    /// Prints the step's state changes and log lines as they happen, then its
    /// result (or its error and traceback). Exits 1 when the step failed or
    /// was revoked. When --wait runs out first it prints the task id and
    /// exits 0 while the step goes on. With --json it prints only the final
    /// task status, or {id, href, state} if the step had not finished.
    #[command(after_help = STEP_RUN_HELP)]
    Run(StepRun),
}

const STEP_RUN_HELP: &str = "\
Examples:
  iscli step run Greet --param who=world
  iscli step run Import --param rows=100 --param 'filter={\"country\": \"NL\"}'
  iscli step run Slow --timeout 60 --wait 0     start it and return at once
  iscli step run Greet --param who=world --json

Log times are shown in UTC (HH:MM:SS).";

/// `iscli step run`: which step, with what, and how long to watch it.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct StepRun {
    /// Step name (its class name)
    pub name: String,

    /// A step parameter, KEY=VALUE; repeat for more. The value is read as
    /// JSON when it is valid JSON (42, 1.5, true, null, [1,2], {"a":1},
    /// "quoted"), else taken as a plain string (who=world -> "world")
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, Value)>,

    /// Seconds to follow the step before returning with its task id (it
    /// keeps running; see it with 'iscli task show ID'); 0 = return at once
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub wait: u64,

    /// Seconds after which the node kills the step (sets the step's
    /// "timeout" parameter) [default: no limit]
    #[arg(long, value_name = "SECONDS", value_parser = positive_seconds)]
    pub timeout: Option<Value>,
}

impl StepRun {
    /// The parameters to send: every --param, plus "timeout" from
    /// --timeout. A key given twice (or --timeout with --param timeout=...)
    /// is a usage error rather than a silent choice.
    pub fn params(&self) -> Result<Map<String, Value>, CliError> {
        let mut map = Map::new();
        for (key, value) in &self.params {
            if map.insert(key.clone(), value.clone()).is_some() {
                return Err(usage(&format!("--param {key}=... is given more than once")));
            }
        }
        if let Some(timeout) = &self.timeout {
            if map.contains_key("timeout") {
                return Err(usage(
                    "--timeout and --param timeout=... both set the step's timeout: use one",
                ));
            }
            map.insert("timeout".into(), timeout.clone());
        }
        Ok(map)
    }
}

/// Reads `KEY=VALUE`: the value is JSON when it parses as JSON, else text.
pub fn parse_param(arg: &str) -> Result<(String, Value), String> {
    let Some((key, raw)) = arg.split_once('=') else {
        return Err(format!("expected KEY=VALUE, got {arg:?}"));
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("the parameter name is empty in {arg:?}"));
    }
    let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
    Ok((key.to_string(), value))
}

/// Reads a positive, finite number of seconds (fractions allowed) as a
/// JSON number: whole numbers as integers (60, not 60.0).
fn positive_seconds(arg: &str) -> Result<Value, String> {
    match arg.trim().parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 => {
            if s.fract() == 0.0 && s <= u32::MAX as f64 {
                Ok(Value::from(s as u64))
            } else {
                Ok(Value::from(s))
            }
        }
        _ => Err(format!("expected a positive number of seconds, got {arg:?}")),
    }
}

/// What to do with tasks (runs of a step) and runs (of an application).
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum TaskCommand {
    /// Show one task or run: its state, details and log lines
    ///
    /// For a step task: step, state, attempt, worker, times (UTC), result or
    /// error and traceback, and its log lines. For a run (isapp-...): its
    /// application, state, queue, configuration, variables, times, every
    /// step with its state, attempt, task id and what it waits for (or the
    /// last line of its error), and the steps' log lines.
    Show {
        /// Task id (printed by 'iscli step run') or run id (isapp-...,
        /// printed by 'iscli app run')
        id: String,
    },
    /// Print a task's or a run's log lines (times in UTC)
    ///
    /// For a run (isapp-...): the log lines of all its steps in time order,
    /// each with its step's name.
    Logs {
        /// Task id (printed by 'iscli step run') or run id (isapp-...)
        id: String,
        /// Keep printing new lines as they are logged, until the task ends
        #[arg(short = 'f', long)]
        follow: bool,
    },
    /// Revoke a task or a run: a pending one never starts, a running one is
    /// killed; a finished one is left as it is
    ///
    /// Revoking a run (isapp-...) revokes its unfinished steps; revoking a
    /// step of a run revokes the run.
    Revoke {
        /// Task id (printed by 'iscli step run') or run id (isapp-...)
        id: String,
    },
    /// Replay a run: a new run with the same variables, configuration and
    /// queue, followed like 'iscli app run'
    ///
    /// Starts a new run of the same application with the same variables,
    /// configuration and queue as the given run. Prints the new run id, then follows the new run for up to --wait
    /// seconds exactly as 'iscli app run' does (live view, final status,
    /// exit 1 when it failed or was revoked). The application's current
    /// document is used, not the one the replayed run had.
    #[command(after_help = TASK_REPLAY_HELP)]
    Replay {
        /// Run id to replay (isapp-...; see 'iscli task list')
        id: String,
        /// Seconds to follow the new run before returning with its id (it
        /// keeps running; see it with 'iscli task show ID'); 0 = return at once
        #[arg(long, value_name = "SECONDS", default_value_t = 30)]
        wait: u64,
    },
    /// List recent application runs, newest first: run id, application,
    /// state, start time (UTC)
    #[command(after_help = TASK_LIST_HELP)]
    List {
        /// Only the runs of this application
        #[arg(long, value_name = "NAME", value_parser = NonEmptyStringValueParser::new())]
        app: Option<String>,
        /// Only the runs in this state: PENDING, STARTED, SUCCESS, FAILURE or
        /// REVOKED (any case)
        #[arg(long, value_name = "STATE", value_parser = parse_state)]
        state: Option<String>,
        /// At most this many runs (1 to 1000) [default: 50]
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: Option<u32>,
    },
}

const TASK_REPLAY_HELP: &str = "\
Examples:
  iscli task replay isapp-0b6e6c1a-...
  iscli task replay isapp-0b6e6c1a-... --wait 0    start it, print the new run id
  iscli task replay isapp-0b6e6c1a-... --json      only the new run's final status";

const TASK_LIST_HELP: &str = "\
Examples:
  iscli task list
  iscli task list --app integration_template --limit 5
  iscli task list --state FAILURE --json";

/// Reads a run state for 'task list --state': one of the task states, any case.
fn parse_state(arg: &str) -> Result<String, String> {
    let state = arg.trim().to_ascii_uppercase();
    if RUN_STATES.contains(&state.as_str()) {
        Ok(state)
    } else {
        Err(format!("expected one of {}, got {arg:?}", RUN_STATES.join(", ")))
    }
}

/// The states a run or a task can be in.
const RUN_STATES: [&str; 6] = ["PENDING", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED"];

/// What to do with applications.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum AppCommand {
    /// List every application: name, friendly name, version
    List,
    /// Show one application document
    Get {
        /// Application name
        name: String,
    },
    /// Delete one application
    Delete {
        /// Application name
        name: String,
    },
    /// Run an application and follow it live: each step's state, the log
    /// lines, then the outcome
    ///
    /// Starts a run, then shows its steps as they go: in a terminal, one line
    /// per step with its state (and attempt when retried), colored (PENDING
    /// grey, STARTED blue, RETRY yellow, SUCCESS green, FAILURE red, REVOKED
    /// magenta) and redrawn in place, with the steps' log lines scrolling
    /// above it; otherwise (a pipe, a file) one line per state change, e.g.
    /// "step Fetch: STARTED (attempt 1)", and one per log line,
    /// "HH:MM:SS LEVEL step-name: message" (UTC). Then it prints the final
    /// status: the run's state, each step's state, and the last line of each
    /// failed step's traceback. Exits 1 when the run failed or was revoked.
    /// When --wait runs out first it prints the run id and exits 0 while the
    /// run goes on. With --json it prints only the run status (final, or as
    /// it stands when --wait ran out).
    #[command(after_help = APP_RUN_HELP)]
    Run(AppRun),
    /// Show the last run of an application: its state, steps and log lines
    ///
    /// The same as 'iscli task show' of that run. With --json: the run
    /// status the server answers, with "last_run", the run's href.
    Logs {
        /// Application name
        name: String,
    },
}

const APP_RUN_HELP: &str = "\
Examples:
  iscli app run integration_template
  iscli app run integration_template --param exampleVariable=hello --param 'ids=[1, 2]'
  iscli app run integration_template --config demo-settings --queue critical_queue
  iscli app run integration_template --debug          a Debug Run (log level 10)
  iscli app run integration_template --wait 0         start it and return at once
  iscli app run integration_template --json

Colors are left out when NO_COLOR is set; the in-place view needs a terminal
that understands ANSI cursor movement (not TERM=dumb). Lines longer than
$COLUMNS (default 80) are cut in the live view. Log records logged before
iscli started following are printed with the final status.";

/// Log level of the original's "Debug Run".
pub const DEBUG_LOG_LEVEL: u32 = 10;

/// `iscli app run`: which application, with what, and how long to watch it.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct AppRun {
    /// Application name
    pub name: String,

    /// An app variable for this run, KEY=VALUE; repeat for more. It
    /// overrides the application's value. The value is read as JSON when it
    /// is valid JSON (42, true, [1,2], {"a":1}, "quoted"), else taken as a
    /// plain string (who=world -> "world")
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, Value)>,

    /// Seconds to follow the run before returning with its run id (it keeps
    /// running; see it with 'iscli task show ID'); 0 = return at once
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub wait: u64,

    /// Queue whose workers run the steps [default: the application's queue,
    /// else "default"]
    #[arg(long, value_name = "QUEUE", value_parser = NonEmptyStringValueParser::new())]
    pub queue: Option<String>,

    /// Configuration whose variables the steps see (${config.NAME})
    /// [default: the application's]
    #[arg(long = "config", value_name = "CONFIGURATION", value_parser = NonEmptyStringValueParser::new())]
    pub configuration: Option<String>,

    /// A Debug Run: keep log records from level 10 (DEBUG) up; same as
    /// --log-level 10
    #[arg(long, conflicts_with = "log_level")]
    pub debug: bool,

    /// Keep only the log records at this level or above: a number, or
    /// DEBUG (10), INFO (20), FLOW (25), WARNING (30), ERROR (40), CRITICAL
    /// (50) [default: 1, every record]
    #[arg(long, value_name = "LEVEL", value_parser = parse_log_level)]
    pub log_level: Option<u32>,
}

impl AppRun {
    /// The level to send: --log-level, 10 for --debug, or None (the
    /// server's default).
    pub fn log_level(&self) -> Option<u32> {
        if self.debug {
            Some(DEBUG_LOG_LEVEL)
        } else {
            self.log_level
        }
    }

    /// The params to send: every --param (app variable overrides), plus
    /// "queue" from --queue, "configuration" from --config and "log_level"
    /// from --debug or --log-level. A key given twice (or a flag together
    /// with --param of the same key) is a usage error rather than a silent
    /// choice.
    pub fn params(&self) -> Result<Map<String, Value>, CliError> {
        let mut map = Map::new();
        for (key, value) in &self.params {
            if map.insert(key.clone(), value.clone()).is_some() {
                return Err(usage(&format!("--param {key}=... is given more than once")));
            }
        }
        let level_flag = if self.debug { "--debug" } else { "--log-level" };
        let options = [
            ("queue", "--queue", self.queue.clone().map(Value::String)),
            (
                "configuration",
                "--config",
                self.configuration.clone().map(Value::String),
            ),
            ("log_level", level_flag, self.log_level().map(Value::from)),
        ];
        for (key, flag, value) in options {
            let Some(value) = value else {
                continue;
            };
            if map.contains_key(key) {
                return Err(usage(&format!(
                    "{flag} and --param {key}=... both set the run's {key}: use one"
                )));
            }
            map.insert(key.to_string(), value);
        }
        Ok(map)
    }
}

/// Reads a log level: a non-negative integer, or a level name (any case).
pub fn parse_log_level(arg: &str) -> Result<u32, String> {
    let arg = arg.trim();
    if let Ok(n) = arg.parse::<u32>() {
        return Ok(n);
    }
    match arg.to_ascii_uppercase().as_str() {
        "DEBUG" => Ok(10),
        "INFO" => Ok(20),
        "FLOW" => Ok(25),
        "WARNING" => Ok(30),
        "ERROR" => Ok(40),
        "CRITICAL" => Ok(50),
        _ => Err(format!(
            "expected a number or DEBUG, INFO, FLOW, WARNING, ERROR, CRITICAL; got {arg:?}"
        )),
    }
}

/// What to do with configurations.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum ConfigCommand {
    /// List every configuration: name, friendly name, version
    List,
    /// Show one configuration document (encrypted values as ciphertext)
    Get {
        /// Configuration name
        name: String,
    },
    /// Delete one configuration
    Delete {
        /// Configuration name
        name: String,
    },
}

/// What to do with the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum ClusterCommand {
    /// Show members, leader and health
    Status,
    /// Add a node (started with the same cluster_secret) as a voting member;
    /// it catches up first
    Add {
        /// The new node's id (its node_id setting)
        id: u64,
        /// The new node's listener, HOST:PORT
        address: String,
    },
    /// Remove a node from the cluster
    Remove {
        /// Node id
        id: u64,
    },
}

/// The kind of content an upload carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    Step,
    Application,
    Configuration,
    SyncPack,
}

impl ContentKind {
    /// The word used in messages ("step", "application" ...).
    pub fn noun(self) -> &'static str {
        match self {
            ContentKind::Step => "step",
            ContentKind::Application => "application",
            ContentKind::Configuration => "configuration",
            ContentKind::SyncPack => "syncpack",
        }
    }
}

/// Activate and/or install one syncpack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncPackOps {
    pub name: String,
    /// None = the newest uploaded version.
    pub version: Option<String>,
    pub activate: bool,
    pub install: bool,
    pub force: bool,
}

/// Upload a file or a directory of files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    pub kind: ContentKind,
    pub path: PathBuf,
    pub overwrite: bool,
    /// Syncpack activation/installation to do after a successful upload.
    pub then: Option<SyncPackOps>,
}

/// The one thing this invocation does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Print iscli's own version.
    CliVersion,
    /// `-u`: upload content.
    Upload(UploadRequest),
    /// `-A`/`-I` without `-u`.
    SyncPack(SyncPackOps),
    /// A subcommand.
    Command(Command),
}

impl Cli {
    /// Checks the flag combinations and picks the action.
    pub fn action(&self) -> Result<Action, CliError> {
        if self.cli_version {
            return Ok(Action::CliVersion);
        }
        let l = &self.legacy;
        if let Some(command) = &self.command {
            if l.any() {
                return Err(usage(
                    "the upload/syncpack flags (-u -s -a -c -k -f -A -I -n -V -F -O) \
                     cannot be combined with a subcommand",
                ));
            }
            // Checked here so a bad line fails before any network call.
            match command {
                Command::Step(StepCommand::Run(run)) => {
                    run.params()?;
                }
                Command::App(AppCommand::Run(run)) => {
                    run.params()?;
                }
                _ => {}
            }
            return Ok(Action::Command(command.clone()));
        }

        let ops = if l.activate || l.install {
            if matches!(l.kind(), Some(k) if k != ContentKind::SyncPack) {
                return Err(usage(
                    "-A/--activate and -I/--install work on syncpacks only: use -k",
                ));
            }
            let Some(name) = l.name.clone().filter(|n| !n.is_empty()) else {
                return Err(usage(
                    "-A/--activate and -I/--install need the syncpack's name: -n NAME",
                ));
            };
            Some(SyncPackOps {
                name,
                version: l.version.clone().filter(|v| !v.is_empty()),
                activate: l.activate,
                install: l.install,
                force: l.force,
            })
        } else {
            for (given, flag) in [
                (l.name.is_some(), "-n/--name"),
                (l.version.is_some(), "-V/--version"),
                (l.force, "-F/--force"),
            ] {
                if given {
                    return Err(usage(&format!(
                        "{flag} is only used with -A/--activate or -I/--install"
                    )));
                }
            }
            None
        };

        if l.upload {
            let Some(kind) = l.kind() else {
                return Err(usage(
                    "-u/--upload needs the kind of content: -s (step), -a (application), \
                     -c (configuration) or -k (syncpack)",
                ));
            };
            let Some(path) = l.file_location.clone() else {
                return Err(usage("-u/--upload needs the file or directory: -f FILE|DIR"));
            };
            return Ok(Action::Upload(UploadRequest {
                kind,
                path,
                overwrite: l.overwrite,
                then: ops,
            }));
        }
        if l.file_location.is_some() {
            return Err(usage("-f/--fileLocation is only used with -u/--upload"));
        }
        if l.overwrite {
            return Err(usage("-O/--overwrite is only used with -u/--upload"));
        }
        if let Some(ops) = ops {
            return Ok(Action::SyncPack(ops));
        }
        Err(usage(
            "nothing to do: use -u to upload, -A/-I to activate or install a syncpack, \
             or a subcommand such as 'iscli step list'",
        ))
    }
}

fn usage(msg: &str) -> CliError {
    CliError::Usage(msg.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(line: &[&str]) -> Cli {
        let mut argv = vec!["iscli"];
        argv.extend_from_slice(line);
        Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{line:?}: {e}"))
    }

    fn action(line: &[&str]) -> Result<Action, CliError> {
        parse(line).action()
    }

    fn upload(kind: ContentKind, path: &str) -> Action {
        Action::Upload(UploadRequest {
            kind,
            path: PathBuf::from(path),
            overwrite: false,
            then: None,
        })
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn combined_short_flags_upload() {
        assert_eq!(
            action(&["-usf", "step.py"]).unwrap(),
            upload(ContentKind::Step, "step.py")
        );
        assert_eq!(
            action(&["-uaf", "app.json"]).unwrap(),
            upload(ContentKind::Application, "app.json")
        );
        assert_eq!(
            action(&["-ucf", "cfg.json"]).unwrap(),
            upload(ContentKind::Configuration, "cfg.json")
        );
        assert_eq!(
            action(&["-ukf", "./pack.whl"]).unwrap(),
            upload(ContentKind::SyncPack, "./pack.whl")
        );
        assert_eq!(
            action(&["-u", "-s", "--fileLocation", "steps/"]).unwrap(),
            upload(ContentKind::Step, "steps/")
        );
        assert_eq!(
            action(&["-ukOf", "p.whl"]).unwrap(),
            Action::Upload(UploadRequest {
                kind: ContentKind::SyncPack,
                path: PathBuf::from("p.whl"),
                overwrite: true,
                then: None,
            })
        );
    }

    #[test]
    fn combined_short_flags_activate_install() {
        assert_eq!(
            action(&["-AIkn", "test_syncpack", "-V", "0.0.1"]).unwrap(),
            Action::SyncPack(SyncPackOps {
                name: "test_syncpack".into(),
                version: Some("0.0.1".into()),
                activate: true,
                install: true,
                force: false,
            })
        );
        assert_eq!(
            action(&["-AkFn", "p"]).unwrap(),
            Action::SyncPack(SyncPackOps {
                name: "p".into(),
                version: None,
                activate: true,
                install: false,
                force: true,
            })
        );
    }

    #[test]
    fn connection_flags_combine_and_work_after_subcommands() {
        let cli = parse(&[
            "-iH", "node1", "-P", "9090", "-U", "ops", "-p", "pw", "-usf", "x.py",
        ]);
        assert!(cli.connection.insecure);
        assert_eq!(
            cli.connection.flags(),
            ConnectionFlags {
                host: Some("node1".into()),
                port: Some(9090),
                username: Some("ops".into()),
                password: Some("pw".into()),
            }
        );
        let cli = parse(&["step", "get", "CountRecords", "-H", "n2", "-p", "pw", "--json"]);
        assert_eq!(cli.connection.host.as_deref(), Some("n2"));
        assert!(cli.json);
        assert_eq!(
            cli.action().unwrap(),
            Action::Command(Command::Step(StepCommand::Get {
                name: "CountRecords".into()
            }))
        );
    }

    #[test]
    fn subcommands_parse() {
        assert_eq!(
            action(&["app", "list"]).unwrap(),
            Action::Command(Command::App(AppCommand::List))
        );
        assert_eq!(
            action(&["configuration", "delete", "demo"]).unwrap(),
            Action::Command(Command::Config(ConfigCommand::Delete { name: "demo".into() }))
        );
        assert_eq!(
            action(&["cluster", "status"]).unwrap(),
            Action::Command(Command::Cluster(ClusterCommand::Status))
        );
        assert_eq!(
            action(&["cluster", "add", "4", "10.0.0.4:8080"]).unwrap(),
            Action::Command(Command::Cluster(ClusterCommand::Add {
                id: 4,
                address: "10.0.0.4:8080".into()
            }))
        );
        assert_eq!(
            action(&["cluster", "remove", "4"]).unwrap(),
            Action::Command(Command::Cluster(ClusterCommand::Remove { id: 4 }))
        );
        assert_eq!(action(&["about"]).unwrap(), Action::Command(Command::About));
        assert_eq!(action(&["--cli-version"]).unwrap(), Action::CliVersion);
    }

    #[test]
    fn version_flag_is_a_syncpack_version_not_clap_version() {
        // -V alone parses (it is a value-taking flag) but is a usage error.
        let err = action(&["-V", "1.0"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.render().contains("-V/--version"));
    }

    #[test]
    fn bad_combinations_are_usage_errors() {
        for line in [
            &["-u", "-f", "x.py"][..],
            &["-us"],
            &["-AI"],
            &["-Asn", "x"],
            &["-sf", "x.py"],
            &["-n", "x"],
            &["-i"],
            &["-O", "-k"],
            &["-usf", "x.py", "step", "list"],
        ] {
            let err = action(line).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{line:?}");
        }
        // Two kinds at once is refused by clap itself.
        assert!(Cli::try_parse_from(["iscli", "-usaf", "x"]).is_err());
        // Port must be a number in range.
        assert!(Cli::try_parse_from(["iscli", "-P", "0", "about"]).is_err());
        assert!(Cli::try_parse_from(["iscli", "-P", "x", "about"]).is_err());
    }

    #[test]
    fn upload_can_chain_activate_and_install() {
        assert_eq!(
            action(&["-uAIkf", "p.whl", "-n", "p"]).unwrap(),
            Action::Upload(UploadRequest {
                kind: ContentKind::SyncPack,
                path: PathBuf::from("p.whl"),
                overwrite: false,
                then: Some(SyncPackOps {
                    name: "p".into(),
                    version: None,
                    activate: true,
                    install: true,
                    force: false,
                }),
            })
        );
    }

    fn step_run(line: &[&str]) -> StepRun {
        match action(line).unwrap() {
            Action::Command(Command::Step(StepCommand::Run(run))) => run,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn param_values_are_json_when_they_parse_else_text() {
        use serde_json::json;
        for (arg, key, value) in [
            ("who=world", "who", json!("world")),
            ("n=42", "n", json!(42)),
            ("ratio=1.5", "ratio", json!(1.5)),
            ("on=true", "on", json!(true)),
            ("nothing=null", "nothing", Value::Null),
            ("ids=[1, 2]", "ids", json!([1, 2])),
            (r#"filter={"country": "NL"}"#, "filter", json!({"country": "NL"})),
            (r#"s="42""#, "s", json!("42")),
            ("empty=", "empty", json!("")),
            ("sql=a=b", "sql", json!("a=b")),
            ("text=hello world", "text", json!("hello world")),
            (" padded =x", "padded", json!("x")),
        ] {
            assert_eq!(parse_param(arg).unwrap(), (key.to_string(), value), "{arg}");
        }
        assert!(parse_param("novalue").is_err());
        assert!(parse_param("=x").is_err());
    }

    #[test]
    fn step_run_parses_params_wait_and_timeout() {
        use serde_json::json;
        let run = step_run(&["step", "run", "Greet", "--param", "who=world", "--param", "n=3"]);
        assert_eq!(run.name, "Greet");
        assert_eq!(run.wait, 10);
        assert_eq!(run.timeout, None);
        let params = run.params().unwrap();
        assert_eq!(Value::Object(params), json!({"who": "world", "n": 3}));

        let run = step_run(&["step", "run", "Slow", "--wait", "0", "--timeout", "60"]);
        assert_eq!(run.wait, 0);
        assert_eq!(Value::Object(run.params().unwrap()), json!({"timeout": 60}));
        let run = step_run(&["step", "run", "Slow", "--timeout", "0.5", "--json"]);
        assert_eq!(Value::Object(run.params().unwrap()), json!({"timeout": 0.5}));
        assert!(parse(&["step", "run", "Slow", "--json"]).json);
    }

    #[test]
    fn step_run_bad_lines() {
        // A key twice, or the timeout twice: usage errors (exit 2).
        for line in [
            &["step", "run", "S", "--param", "a=1", "--param", "a=2"][..],
            &["step", "run", "S", "--timeout", "5", "--param", "timeout=9"],
        ] {
            let err = action(line).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{line:?}");
        }
        // Refused by clap itself.
        for line in [
            &["iscli", "step", "run", "S", "--param", "novalue"][..],
            &["iscli", "step", "run", "S", "--timeout", "0"],
            &["iscli", "step", "run", "S", "--timeout", "-3"],
            &["iscli", "step", "run", "S", "--timeout", "soon"],
            &["iscli", "step", "run", "S", "--wait", "-1"],
            &["iscli", "step", "run"],
        ] {
            assert!(Cli::try_parse_from(line).is_err(), "{line:?}");
        }
    }

    #[test]
    fn task_subcommands_parse() {
        assert_eq!(
            action(&["task", "show", "t-1", "--json"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::Show { id: "t-1".into() }))
        );
        assert_eq!(
            action(&["task", "logs", "t-1"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::Logs {
                id: "t-1".into(),
                follow: false
            }))
        );
        assert_eq!(
            action(&["task", "logs", "-f", "t-1"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::Logs {
                id: "t-1".into(),
                follow: true
            }))
        );
        assert_eq!(
            action(&["task", "revoke", "t-1"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::Revoke { id: "t-1".into() }))
        );
    }

    fn app_run(line: &[&str]) -> AppRun {
        match action(line).unwrap() {
            Action::Command(Command::App(AppCommand::Run(run))) => run,
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    #[test]
    fn app_run_params_carry_the_run_options() {
        use serde_json::json;
        let run = app_run(&["app", "run", "hello", "--param", "who=x", "--param", "n=3"]);
        assert_eq!(run.name, "hello");
        assert_eq!(run.wait, 30);
        assert_eq!(Value::Object(run.params().unwrap()), json!({"who": "x", "n": 3}));

        let run = app_run(&[
            "app",
            "run",
            "hello",
            "--queue",
            "critical_queue",
            "--config",
            "site_a",
            "--wait",
            "0",
        ]);
        assert_eq!(run.wait, 0);
        assert_eq!(
            Value::Object(run.params().unwrap()),
            json!({"queue": "critical_queue", "configuration": "site_a"})
        );

        // --debug is the original's "Debug Run": log level 10.
        let run = app_run(&["app", "run", "hello", "--debug"]);
        assert_eq!(run.log_level(), Some(DEBUG_LOG_LEVEL));
        assert_eq!(Value::Object(run.params().unwrap()), json!({"log_level": 10}));
        let run = app_run(&["app", "run", "hello", "--log-level", "30"]);
        assert_eq!(Value::Object(run.params().unwrap()), json!({"log_level": 30}));
        let run = app_run(&["app", "run", "hello", "--log-level", "warning", "--json"]);
        assert_eq!(Value::Object(run.params().unwrap()), json!({"log_level": 30}));
        // Nothing given: the server's defaults (no keys at all).
        let run = app_run(&["application", "run", "hello"]);
        assert_eq!(run.log_level(), None);
        assert!(run.params().unwrap().is_empty());
    }

    #[test]
    fn log_levels_are_numbers_or_names() {
        for (arg, level) in [
            ("0", 0),
            ("1", 1),
            ("10", 10),
            ("debug", 10),
            ("INFO", 20),
            ("Flow", 25),
            ("WARNING", 30),
            ("error", 40),
            (" critical ", 50),
        ] {
            assert_eq!(parse_log_level(arg), Ok(level), "{arg}");
        }
        for arg in ["", "-1", "loud", "1.5"] {
            assert!(parse_log_level(arg).is_err(), "{arg}");
        }
    }

    #[test]
    fn app_run_bad_lines() {
        // A key twice, or a flag and --param of the same key: usage errors.
        for line in [
            &["app", "run", "a", "--param", "x=1", "--param", "x=2"][..],
            &["app", "run", "a", "--queue", "q", "--param", "queue=r"],
            &["app", "run", "a", "--config", "c", "--param", "configuration=d"],
            &["app", "run", "a", "--debug", "--param", "log_level=20"],
            &["app", "run", "a", "--log-level", "20", "--param", "log_level=20"],
        ] {
            let err = action(line).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{line:?}");
        }
        let err = action(&["app", "run", "a", "--debug", "--param", "log_level=20"]).unwrap_err();
        assert!(
            err.render().contains("--debug and --param log_level"),
            "{}",
            err.render()
        );
        // Refused by clap itself.
        for line in [
            &["iscli", "app", "run", "a", "--debug", "--log-level", "20"][..],
            &["iscli", "app", "run", "a", "--log-level", "loud"],
            &["iscli", "app", "run", "a", "--queue", ""],
            &["iscli", "app", "run", "a", "--config", ""],
            &["iscli", "app", "run", "a", "--param", "novalue"],
            &["iscli", "app", "run", "a", "--wait", "-1"],
            &["iscli", "app", "run"],
        ] {
            assert!(Cli::try_parse_from(line).is_err(), "{line:?}");
        }
    }

    #[test]
    fn run_subcommands_parse() {
        assert_eq!(
            action(&["app", "logs", "hello"]).unwrap(),
            Action::Command(Command::App(AppCommand::Logs { name: "hello".into() }))
        );
        assert_eq!(
            action(&["task", "replay", "isapp-1"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::Replay {
                id: "isapp-1".into(),
                wait: 30
            }))
        );
        assert_eq!(
            action(&["task", "replay", "isapp-1", "--wait", "0", "--json"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::Replay {
                id: "isapp-1".into(),
                wait: 0
            }))
        );
        assert_eq!(
            action(&["task", "list"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::List {
                app: None,
                state: None,
                limit: None
            }))
        );
        assert_eq!(
            action(&["task", "list", "--app", "hello", "--state", "failure", "--limit", "5"]).unwrap(),
            Action::Command(Command::Task(TaskCommand::List {
                app: Some("hello".into()),
                state: Some("FAILURE".into()),
                limit: Some(5)
            }))
        );
        for line in [
            &["iscli", "task", "list", "--state", "DONE"][..],
            &["iscli", "task", "list", "--limit", "0"],
            &["iscli", "task", "list", "--limit", "1001"],
            &["iscli", "task", "list", "--app", ""],
            &["iscli", "task", "replay"],
        ] {
            assert!(Cli::try_parse_from(line).is_err(), "{line:?}");
        }
    }
}
