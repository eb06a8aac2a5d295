//! `iscli`: the command-line client of the Integration Service.
//!
//! Module map: `args` (flags, subcommands, which action a command line
//! means), `settings` (host/port/user/password precedence and the config
//! file), `client` (gRPC connection, auth, error mapping), `commands`
//! (carrying out actions), `upload` (`-u`), `output` (rendering for
//! people), `live` (the live view of a run: its graph, redrawn in place),
//! `error` (`CliError`, messages and exit codes), `password` (where a new
//! password comes from: flag, stdin or a prompt), `wheel` (building a
//! syncpack's wheel from its sources for `-ukf DIR`); `scratch` holds the
//! tests' scratch directories.

mod args;
mod client;
mod commands;
mod error;
mod live;
mod output;
mod password;
#[cfg(test)]
mod scratch;
mod settings;
mod upload;
mod wheel;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;
use crate::commands::{Context, Outcome};
use crate::error::{CliError, EXIT_FAILURE};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // clap prints its own usage errors and exits with code 2.
    let cli = Cli::parse();
    match run(cli).await {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(EXIT_FAILURE),
        Err(err) => match err.downcast_ref::<CliError>() {
            Some(cli_err) => {
                output::report_error(&cli_err.render());
                ExitCode::from(cli_err.exit_code())
            }
            None => {
                output::report_error(&format!("error: {err:#}"));
                ExitCode::from(EXIT_FAILURE)
            }
        },
    }
}

async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let action = cli.action()?;
    let ctx = Context {
        connection: cli.connection.flags(),
        json: cli.json,
    };
    Ok(commands::run(action, &ctx).await?)
}
