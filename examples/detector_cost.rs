//! A small harness for counting the detector's instructions with callgrind (benches/README.md):
//! builds the same kind of JSON body as `benches/detector.rs` (orders with names, order ids,
//! phone numbers, amounts, free text), of a given size and with identity data in one order of
//! `every` (0: none), and scans it `reps` times.
//!
//! ```text
//! cargo build --release --example detector_cost
//! valgrind --tool=callgrind --toggle-collect='*Detector::scan_json*' \
//!     target/release/examples/detector_cost 1024 20 4
//! ```
//!
//! Arguments: body size in KiB, `every`, repetitions. Prints the body's length and the number
//! of findings of one scan.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use netid::detect::Detector;
// The bodies of benches/detector.rs; `Identity::NONE` is the bench's (here, EVERY 0).
#[allow(dead_code)]
#[path = "../benches/common/orders.rs"]
mod orders;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers: KiB every reps"))
        .collect();
    let (kib, every, reps) = match args[..] {
        [k, e, r] => (k, e, r),
        _ => panic!("usage: detector_cost KIB EVERY REPS"),
    };
    let b = orders::body(
        kib << 10,
        orders::Identity {
            buyer_every: every,
            remark_every: every,
        },
    );
    let d = Detector::new();
    let mut findings = 0;
    for _ in 0..reps {
        findings = d.scan_json(black_box(&b)).unwrap().findings.len();
    }
    println!("body {} bytes, {findings} findings", b.len());
}
