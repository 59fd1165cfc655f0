//! `netid sandbox`: the embedded sandbox platform as a standalone server, with a page that plays
//! the national identity app.

use std::path::{Path, PathBuf};

use netid::sandbox::{Sandbox, SandboxApp, SandboxOptions};

use crate::{Failure, print_stderr, print_stdout};

/// Where the apps' keys go unless `--out` says otherwise: under the current directory's
/// `target/`, which git ignores in every cargo project (and this one's `.gitignore` names it).
pub(crate) const DEFAULT_OUT: &str = "target/netid-sandbox";

/// The long help of `netid sandbox`.
pub(crate) const LONG_ABOUT: &str = "\
Run the netid sandbox platform (protocol v1) on 127.0.0.1 until interrupted (Ctrl-C or SIGTERM).

It registers each --app, makes a request-signing key and a field-encryption key for it, and \
writes them to OUT/APP_ID/ (request-signing.private.pem, encryption.private.pem, app.json with \
the key ids and URLs), so a relying party in another process can use them. OUT defaults to \
./target/netid-sandbox (ignored by git in a cargo project); new keys are made at every start.

The page at the base URL plays the identity app: it says how to point a client at the sandbox \
(issuer, app id, key ids, key files), starts a test login for each app, shows what each pending \
authorization asks for and why, approves or declines it as a sandbox persona, and reloads itself. \
A client must be built with .allow_sandbox(): without it, discovery refuses a platform that \
says it is a sandbox.

The first line on standard output is the base URL (also the issuer). Each authorization and \
decision is logged to standard error (RUST_LOG, default info; never names or documents). Never \
expose the sandbox beyond loopback: it signs results for made-up people.";

/// The examples shown after `netid sandbox --help`.
pub(crate) const EXAMPLES: &str = "\
Examples:
  # A sandbox on port 8600 for one app; keys in ./target/netid-sandbox/app_demo/
  netid sandbox --port 8600

  # Two apps, keys elsewhere, and the HTTP requests logged too
  RUST_LOG=debug netid sandbox --app app_shop --app app_bank --out /tmp/sbx";

/// Arguments of `netid sandbox`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8600)]
    port: u16,
    /// An app id to register (repeatable).
    #[arg(long = "app", value_name = "APP_ID", default_value = "app_demo")]
    apps: Vec<String>,
    /// Where to write each app's keys.
    #[arg(long, value_name = "DIR", default_value = DEFAULT_OUT)]
    out: PathBuf,
}

/// Starts the sandbox and serves until Ctrl-C or SIGTERM.
pub(crate) fn run(args: Args) -> Result<(), Failure> {
    init_logging();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::other("io", format!("starting the runtime: {e}")))?;
    rt.block_on(serve(args))
}

/// Logs to standard error, filtered by `RUST_LOG` (default: info). Does nothing if a subscriber
/// is already set.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

async fn serve(args: Args) -> Result<(), Failure> {
    let options = SandboxOptions {
        port: args.port,
        ..SandboxOptions::default()
    };
    let sandbox = Sandbox::start_with(options)
        .await
        .map_err(|e| Failure::setup(&e))?;
    print_stdout(&format!("{}\n", sandbox.url()))?;
    for app_id in &args.apps {
        let app = sandbox.register_app(app_id);
        let dir = args.out.join(app_id);
        write_app(&dir, &app, sandbox.url())?;
        // Absolute, so the page's snippet works from any directory.
        let shown = std::path::absolute(&dir).unwrap_or(dir);
        sandbox.set_key_location(app_id, shown.display().to_string());
        print_stderr(&format!(
            "registered {app_id}: keys in {} (signing key id {})",
            shown.display(),
            app.signing_kid
        ));
    }
    print_stderr(&format!(
        "netid sandbox at {0} — open {0}/ to start a test login and play the identity app; \
         Ctrl-C stops it",
        sandbox.url()
    ));
    shutdown_signal().await?;
    print_stderr("netid sandbox stopped");
    Ok(())
}

/// Waits for Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() -> Result<(), Failure> {
    let failed = |e: std::io::Error| Failure::other("io", format!("waiting for a signal: {e}"));
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(failed)?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map_err(failed),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map_err(failed)
    }
}

fn write_app(dir: &Path, app: &SandboxApp, url: &str) -> Result<(), Failure> {
    std::fs::create_dir_all(dir).map_err(|e| Failure::io("creating", dir, &e))?;
    write_private(
        &dir.join("request-signing.private.pem"),
        app.signing_key.private_key().to_pkcs8_pem().as_bytes(),
    )?;
    let enc = app.decryption_key.private_key();
    write_private(
        &dir.join("encryption.private.pem"),
        enc.to_pkcs8_pem().as_bytes(),
    )?;
    let config = serde_json::json!({
        "issuer": url,
        "app_id": app.app_id,
        "signing_kid": app.signing_kid,
        "encryption_kid": app.encryption_kid,
        "jwks_uri": format!("{url}/v1/keys"),
        "configuration": format!("{url}/.well-known/netid-configuration"),
    });
    let path = dir.join("app.json");
    std::fs::write(&path, format!("{config:#}\n")).map_err(|e| Failure::io("writing", &path, &e))
}

fn write_private(path: &Path, pem: &[u8]) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    use std::io::Write;
    options
        .open(path)
        .and_then(|mut f| f.write_all(pem))
        .map_err(|e| Failure::io("writing", path, &e))
}
