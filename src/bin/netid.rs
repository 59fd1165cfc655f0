//! The `netid` command line (placeholder being replaced by the CLI work).
fn main() {}
