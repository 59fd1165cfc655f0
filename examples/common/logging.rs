//! Log output for the examples: netid's events (each refusal with its code and route, warnings
//! about configuration) on standard error, filtered by `RUST_LOG`.
//!
//! `RUST_LOG=netid=debug` shows more of netid, `RUST_LOG=warn` only warnings; the syntax is
//! tracing-subscriber's `EnvFilter` (`target=level,…`).

/// Installs the subscriber: `RUST_LOG` when set, else `default` (e.g. `warn,netid=info`:
/// netid's refusals and warnings, and only the warnings of the crates under it).
pub(crate) fn init(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // A second call (or a test harness's own subscriber) keeps the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours for a terminal only, not for a file or a pipe.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
