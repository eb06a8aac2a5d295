//! The command line: every flag and subcommand with its help text (clap
//! derive), and `Cli::action`, which checks the combinations clap cannot
//! express and turns the parsed line into one `Action` for `commands`.
//!
//! Two styles live side by side: the original product's flags
//! (`iscli -usf step.py`, `iscli -AIkn pack -V 1.0`, in `legacy`) and
//! subcommands (`iscli step list`), one file per noun: `step`, `app`,
//! `task`, `config`, `pack`, `cluster`, `cache`, `schedule`, `report`,
//! `users` (`user`, `role`, `key`), `audit`, `completions` (shell
//! completion scripts); `params` reads
//! `--param KEY=VALUE`. To add a subcommand, add a variant to `Command`
//! (or to one of the per-noun enums) and its handler in `commands`.

use clap::{Parser, Subcommand};

mod app;
mod audit;
mod cache;
mod cluster;
mod completions;
mod config;
mod legacy;
mod pack;
mod params;
mod report;
mod schedule;
mod step;
mod task;
#[cfg(test)]
mod tests;
mod users;
#[cfg(test)]
mod users_tests;

pub(crate) use app::{AppCommand, AppRun};
pub(crate) use audit::AuditList;
pub(crate) use cache::CacheCommand;
pub(crate) use cluster::ClusterCommand;
pub(crate) use completions::{script as completion_script, CompletionShell};
pub(crate) use config::ConfigCommand;
pub(crate) use legacy::{ContentKind, LegacyArgs, SyncPackOps, UploadRequest};
pub(crate) use pack::PackCommand;
pub(crate) use report::{ReportCommand, ReportList};
pub(crate) use schedule::{ScheduleAdd, ScheduleCommand, ScheduleSource};
pub(crate) use step::{StepCommand, StepRun};
pub(crate) use task::TaskCommand;
pub(crate) use users::{KeyCommand, RoleCommand, UserCommand};
#[cfg(test)]
pub(crate) use users::{KeyCreate, RoleName, UserAdd, UserPasswd};

use crate::error::CliError;
use crate::settings::ConnectionFlags;

const EXAMPLES: &str = "\
Examples:
  iscli -usf steps/CountRecords.py          upload one step
  iscli -usf steps/                         upload every step in a directory
  iscli -uaf apps/integration_template.json upload an application
  iscli -ucf configs/demo-settings.json     upload a configuration
  iscli -ukf ./test_syncpack-0.0.1-py3-none-any.whl -O
  iscli -ukf ./test_syncpack/               build the wheel from a syncpack's
                                            sources (setup.py, test_syncpack/meta.json),
                                            then upload it
  iscli -AIkn test_syncpack -V 0.0.1        activate, then install a syncpack and
                                            wait until every node installed it
  iscli -Ikn test_syncpack -V 0.0.1 --timeout 1800
  iscli pack list --activated               uploaded syncpacks, activated ones only
  iscli pack show test_syncpack             versions, install state per node, content
  iscli pack delete test_syncpack -V 0.0.1
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
  iscli cluster rotate-key                  a new cluster key; encrypted values sealed again
  iscli schedule add --app integration_template --every 3600
                                            run an application every hour
  iscli schedule add --app integration_template --cron '0 2 * * *' --timezone Europe/Paris
  iscli schedule list                       schedules, next and last fire times
  iscli schedule show sched-...             a schedule and its history
  iscli schedule disable sched-...          keep it, stop firing
  iscli report list --app integration_template
  iscli report show report-...              a run's report, section by section
  iscli whoami                              your user, role and permissions
  iscli user add olga --role operator       a new user (the password is asked for)
  iscli user passwd                         change your own password
  iscli role assign olga viewer             change a user's role
  iscli key create --label ci               an API key acting as you, shown once
  iscli --api-key isk_... task list         call with an API key instead of -U/-p
  iscli audit                               who changed what, and what was refused
  iscli completions bash                    a completion script for bash (or zsh, fish)

Connection settings come from the flags, else IS_HOST, IS_PORT, IS_USER,
IS_PASSWORD, IS_API_KEY, else ~/.config/iscli/config.toml (keys host, port,
username, password, api_key; $XDG_CONFIG_HOME is honoured), else
127.0.0.1:8080 as user isadmin. Credentials come from the first of these
places that names any: an API key there, or a user and password there.

The same operations over REST are described by the node's OpenAPI document,
GET http://HOST:PORT/api/v1/openapi.json (no credentials needed).";

/// Command-line client of the Integration Service (talks gRPC to isnode).
#[derive(Debug, Parser)]
#[command(
    name = "iscli",
    disable_version_flag = true,
    arg_required_else_help = true,
    after_help = EXAMPLES
)]
pub(crate) struct Cli {
    /// Print iscli's version and exit. With a value, as the original iscli
    /// read it: the syncpack version of -A/-I (the same as -V VERSION)
    #[arg(long = "version", value_name = "VERSION", num_args = 0..=1)]
    pub(crate) version_flag: Option<Option<String>>,

    /// Print iscli's version and exit (the older spelling of --version)
    #[arg(long = "cli-version", hide = true)]
    pub(crate) cli_version: bool,

    /// Print the server's JSON answer, pretty-printed, instead of a summary
    #[arg(long, global = true, help_heading = "Output")]
    pub(crate) json: bool,

    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,

    #[command(flatten)]
    pub(crate) legacy: LegacyArgs,

    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// Where the server is and who we are; usable before or after a subcommand.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Connection")]
pub(crate) struct ConnectionArgs {
    /// Server host name or IP address [env: IS_HOST] [default: 127.0.0.1];
    /// or several nodes of one cluster, `a,b:PORT,c`, tried in order when
    /// one does not answer
    #[arg(short = 'H', long, global = true, value_name = "HOST")]
    pub(crate) host: Option<String>,

    /// Server port (gRPC and REST share it) [env: IS_PORT] [default: 8080]
    #[arg(short = 'P', long, global = true, value_name = "PORT",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub(crate) port: Option<u16>,

    /// User name [env: IS_USER] [default: isadmin]
    #[arg(short = 'U', long, global = true, value_name = "USER")]
    pub(crate) username: Option<String>,

    /// Password [env: IS_PASSWORD]; required from some source unless an
    /// API key is given
    #[arg(short = 'p', long, global = true, value_name = "PASSWORD")]
    pub(crate) password: Option<String>,

    /// Call with this API key (isk_...) instead of a user and password; the
    /// key acts as the user who created it [env: IS_API_KEY]
    #[arg(long, global = true, value_name = "KEY")]
    pub(crate) api_key: Option<String>,

    /// Plain connection without TLS [env: IS_INSECURE]. Without it, a host
    /// given by -H, IS_HOST or the config file is reached over TLS (https);
    /// with no host at all, 127.0.0.1:8080 is plain
    #[arg(short = 'i', long, global = true)]
    pub(crate) insecure: bool,

    /// PEM certificate to trust besides the system's roots: the CA of the
    /// node's certificate, or the certificate itself (a self-signed node's
    /// DATA/tls-cert.pem) [env: IS_CA]
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) ca: Option<std::path::PathBuf>,
}

impl ConnectionArgs {
    /// The values given as flags, for `settings::resolve`.
    pub(crate) fn flags(&self) -> ConnectionFlags {
        ConnectionFlags {
            host: self.host.clone(),
            port: self.port,
            username: self.username.clone(),
            password: self.password.clone(),
            api_key: self.api_key.clone(),
            insecure: self.insecure,
            ca: self.ca.clone(),
        }
    }
}

/// Subcommands (beyond the original product's flags).
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum Command {
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

    /// SyncPacks: uploaded packs of steps, applications and configurations
    /// (upload, activate and install them with -ukf and -AIkn)
    #[command(subcommand, visible_alias = "syncpack")]
    Pack(PackCommand),

    /// The cluster: its nodes (status, adding, removing) and its key
    #[command(subcommand)]
    Cluster(ClusterCommand),

    /// The shared cache (what Cache Save steps and IpaasContentManager store)
    #[command(subcommand)]
    Cache(CacheCommand),

    /// Tasks: runs of a step or of an application (state, logs, result;
    /// listing, replay, revocation)
    #[command(subcommand)]
    Task(TaskCommand),

    /// Schedules: applications run every N seconds or on a cron (adding,
    /// listing, history, enabling, disabling, deleting)
    #[command(subcommand)]
    Schedule(ScheduleCommand),

    /// Reports: what runs of applications with generate_report on found,
    /// as tables (listing, showing, deleting)
    #[command(subcommand)]
    Report(ReportCommand),

    /// Show who you are calling as: user, role, permissions (and the API
    /// key's id when you call with one)
    #[command(name = "whoami")]
    WhoAmI,

    /// Users: listing, adding, deleting, changing passwords
    #[command(subcommand)]
    User(UserCommand),

    /// Roles: what each may do, and which user holds which
    #[command(subcommand)]
    Role(RoleCommand),

    /// API keys: credentials for scripts that act as you (creating,
    /// listing, revoking)
    #[command(subcommand, visible_alias = "apikey")]
    Key(KeyCommand),

    /// The audit trail, newest first: every change, every call refused for
    /// want of a permission and every failed login (administrators only)
    ///
    /// One page of at most --limit records; when more follow, the last line
    /// says the --cursor that gets the next page. --all gets every page.
    /// With --json: the node's answer, {"records": [...], "next_cursor": ...}
    /// (with --all, every record and a null cursor).
    #[command(after_help = audit::AUDIT_HELP)]
    Audit(AuditList),

    /// Print the completion script of a shell (bash, zsh or fish) for every
    /// flag and subcommand of iscli; needs no node
    #[command(after_help = completions::COMPLETIONS_HELP)]
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: CompletionShell,
    },
}

/// The one thing this invocation does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
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
    pub(crate) fn action(&self) -> Result<Action, CliError> {
        let asks_version = self.cli_version || self.version_flag == Some(None);
        if asks_version && (self.legacy.any() || self.command.is_some()) {
            return Err(usage(
                "--version without a value prints iscli's version and takes nothing else; \
                 give a syncpack version as -V VERSION",
            ));
        }
        if asks_version {
            return Ok(Action::CliVersion);
        }
        let legacy = self.legacy_args()?;
        let Some(command) = &self.command else {
            return legacy.action();
        };
        if legacy.any() {
            return Err(usage(
                "the upload/syncpack flags (-u -s -a -c -k -f -A -I -n -V -F -O --timeout) \
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
            Command::Schedule(ScheduleCommand::Add(add)) => {
                add.source()?;
            }
            Command::Report(ReportCommand::List(list)) => list.check()?,
            _ => {}
        }
        Ok(Action::Command(command.clone()))
    }
}

impl Cli {
    /// The original flags, with the value of `--version VERSION` (the
    /// original iscli's long name of `-V`) as the syncpack version.
    fn legacy_args(&self) -> Result<LegacyArgs, CliError> {
        let mut legacy = self.legacy.clone();
        if let Some(Some(version)) = &self.version_flag {
            if legacy.version.is_some() {
                return Err(usage(
                    "the syncpack version is given twice: use one of -V, --pack-version or --version",
                ));
            }
            legacy.version = Some(version.clone());
        }
        Ok(legacy)
    }
}

/// A usage error (exit code 2) with this message.
fn usage(msg: &str) -> CliError {
    CliError::Usage(msg.to_string())
}
