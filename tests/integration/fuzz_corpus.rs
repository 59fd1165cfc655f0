//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the fuzz targets' own
//! bodies (`fuzz/targets.rs`), so every `cargo test` runs what the fuzzers found, crashes that
//! were fixed included, without the fuzzing toolchain (issue 11, item 9). `fuzz/README.md` says
//! how to fuzz.

#[path = "../../fuzz/targets.rs"]
mod targets;

use std::path::PathBuf;

/// Every file of `fuzz/corpus/<target>/`, in name order. Fails if there are none: a corpus that
/// went missing must not pass silently.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() >= 10,
        "{}: only {} inputs",
        dir.display(),
        files.len()
    );
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

fn replay(target: &str, run: fn(&[u8])) {
    for (path, bytes) in corpus(target) {
        let outcome = std::panic::catch_unwind(|| run(&bytes));
        assert!(outcome.is_ok(), "fuzz/{target}: {} fails", path.display());
    }
}

#[test]
fn json_corpus_replays() {
    replay("json", targets::json);
}

#[test]
fn form_corpus_replays() {
    replay("form", targets::form);
}

#[test]
fn multipart_corpus_replays() {
    replay("multipart", targets::multipart);
}

#[test]
fn places_corpus_replays() {
    replay("places", targets::places);
}

#[test]
fn token_corpus_replays() {
    replay("token", targets::token);
}
