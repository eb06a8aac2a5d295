//! `iscli user ...`, `iscli role ...` and `iscli key ...`: the users of a
//! cluster, the role each one holds, and API keys. `iscli whoami` has no
//! options and is a plain variant of `Command`.
//!
//! New passwords have their own flag, `--new-password`: `-p/--password` is
//! the caller's own password, global to every subcommand.

use clap::{Args, Subcommand, ValueEnum};

/// The roles of the node, in rising order of what they may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RoleName {
    /// Read everything; configuration values hidden
    Viewer,
    /// Read everything, run, replay and revoke applications and steps
    Operator,
    /// Everything, including users, roles and the cluster
    Administrator,
}

impl RoleName {
    /// The role's name as the node spells it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RoleName::Viewer => "viewer",
            RoleName::Operator => "operator",
            RoleName::Administrator => "administrator",
        }
    }
}

/// What to do with users (an administrator's commands, but for `passwd`).
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum UserCommand {
    /// List every user and the role it holds
    List,
    /// Create a user with a password and a role
    ///
    /// The password comes from --new-password, else from the first line of
    /// stdin when it is not a terminal, else it is asked for twice without
    /// echo.
    #[command(after_help = USER_ADD_HELP)]
    Add(UserAdd),
    /// Delete a user and its API keys
    Delete {
        /// User name
        name: String,
    },
    /// Change a password: your own, or (as an administrator) any user's
    ///
    /// The new password comes from --new-password, else from the first
    /// line of stdin when it is not a terminal, else it is asked for twice
    /// without echo. Your API keys keep working.
    #[command(after_help = USER_PASSWD_HELP)]
    Passwd(UserPasswd),
}

const USER_ADD_HELP: &str = "\
Examples:
  iscli user add olga --role operator          asks for the password twice
  printf '%s\\n' \"$PW\" | iscli user add ci-bot --role viewer
                                               reads it from stdin";

const USER_PASSWD_HELP: &str = "\
Examples:
  iscli -U olga user passwd                    change your own password: the current
                                               one from -p or IS_PASSWORD, the new one
                                               asked for twice
  iscli user passwd olga                       an administrator resets olga's";

/// `iscli user add`: who, with which role and password.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub(crate) struct UserAdd {
    /// The new user's name
    pub(crate) name: String,

    /// The role the user gets
    #[arg(long, value_enum, default_value_t = RoleName::Viewer)]
    pub(crate) role: RoleName,

    /// The new user's password (at least 8 characters). Other local users
    /// can read it in the process list: prefer stdin or the prompt
    #[arg(long, value_name = "PASSWORD")]
    pub(crate) new_password: Option<String>,
}

/// `iscli user passwd`: whose password and the new one.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub(crate) struct UserPasswd {
    /// Whose password [default: yours]; another user's needs the
    /// administrator role
    pub(crate) name: Option<String>,

    /// The new password (at least 8 characters). Other local users can read
    /// it in the process list: prefer stdin or the prompt
    #[arg(long, value_name = "PASSWORD")]
    pub(crate) new_password: Option<String>,
}

/// What to do with roles (the owners' commands need the administrator role).
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum RoleCommand {
    /// List the roles, what each may do and its permissions
    List,
    /// Show the role a user holds
    Show {
        /// User name
        owner: String,
    },
    /// Give a user a role (replacing the one it held)
    Assign {
        /// User name
        owner: String,
        /// The role to give
        #[arg(value_enum)]
        role: RoleName,
    },
    /// Take a user's role away: the user remains but may do nothing (its
    /// API keys neither) until it is given a role again
    Unassign {
        /// User name
        owner: String,
    },
}

/// What to do with API keys.
#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub(crate) enum KeyCommand {
    /// Make an API key that acts as you, and print it once
    ///
    /// The key is printed alone on stdout (a warning that it is not shown
    /// again goes to stderr), so `KEY=$(iscli key create)` keeps it. Use it
    /// with --api-key KEY or IS_API_KEY instead of a user and password.
    /// With --json the whole answer (id, owner, role, expiry, key) is
    /// printed.
    #[command(after_help = KEY_CREATE_HELP)]
    Create(KeyCreate),
    /// List your API keys (an administrator sees everyone's); never their
    /// secrets
    List,
    /// Revoke an API key at once: calls made with it fail from then on
    Revoke {
        /// The key's id, as `key list` shows it
        id: String,
    },
}

const KEY_CREATE_HELP: &str = "\
Examples:
  iscli key create --label ci --expires-days 90
  export IS_API_KEY=$(iscli key create --label laptop --role viewer)
  iscli --api-key isk_... app run integration_template";

/// `iscli key create`: what the key is for, its role and lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub(crate) struct KeyCreate {
    /// A note saying what the key is for (shown by `key list`)
    #[arg(long, value_name = "TEXT")]
    pub(crate) label: Option<String>,

    /// The key's role [default: yours]; never more than yours
    #[arg(long, value_enum)]
    pub(crate) role: Option<RoleName>,

    /// Days until the key expires, 1 to 3650 [default: 3650]
    #[arg(long, value_name = "DAYS",
          value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub(crate) expires_days: Option<u64>,
}
