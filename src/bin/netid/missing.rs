//! Commands this build of `netid` leaves out. They stay in `netid --help`, marked with the
//! feature that adds them, and running one says which feature to build with (exit 2) rather
//! than clap's bare "unrecognized subcommand".

use crate::Failure;

/// Whatever was given to a command that is not built: not read.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        hide = true,
        value_name = "ARGS"
    )]
    _rest: Vec<String>,
}

/// The refusal of `netid <command>` (or of one option of it) in a build without `feature`.
pub(crate) fn needs(command: &str, feature: &str) -> Failure {
    Failure::other(
        "usage",
        format!(
            "`netid {command}` is not in this build: it needs the `{feature}` feature \
             (cargo install netid --features cli,{feature}; from a checkout: \
             cargo install --path . --features cli,{feature})"
        ),
    )
}

/// Runs a command that is not built: says which feature adds it.
pub(crate) fn run(command: &str, feature: &str, _args: Args) -> Result<(), Failure> {
    Err(needs(command, feature))
}
