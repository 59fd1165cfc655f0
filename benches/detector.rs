//! Detector throughput on a realistic 1 MiB JSON body (orders with names, order ids, phone
//! numbers, amounts, timestamps, free text), without and with identity data, against the
//! reference measured in the same run: `serde_json::from_slice::<serde_json::Value>` of the same
//! body (and, as a floor, `serde_json::from_slice::<IgnoredAny>`, which builds nothing). Run: `cargo bench --bench detector -- --warm-up-time 2 --measurement-time 5`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use netid::detect::Detector;
use serde::de::IgnoredAny;
use serde_json::Value;

#[path = "common/orders.rs"]
mod orders;

/// The bench's body with identity data: a buyer in one order of 20, a remark in one of 50.
const WITH_IDS: orders::Identity = orders::Identity {
    buyer_every: 20,
    remark_every: 50,
};

/// Just under 1 MiB: the detector's default limit.
const LIMIT: usize = 1 << 20;

fn detector(c: &mut Criterion) {
    let clean = orders::body(LIMIT, orders::Identity::NONE);
    let with_ids = orders::body(LIMIT, WITH_IDS);
    let d = Detector::new();
    assert!(
        d.scan_json(&clean).unwrap().is_clean(),
        "the clean body is clean"
    );
    let found = d.scan_json(&with_ids).unwrap();
    assert!(found.should_block());
    eprintln!(
        "bodies: clean {} bytes, with identity data {} bytes ({} findings)",
        clean.len(),
        with_ids.len(),
        found.findings.len()
    );

    let mut g = c.benchmark_group("detector_1mib");
    g.throughput(Throughput::Bytes(clean.len() as u64));
    g.bench_function("scan_json_clean", |b| {
        b.iter(|| d.scan_json(black_box(&clean)).unwrap())
    });
    g.bench_function("serde_json_value_clean", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&clean)).unwrap())
    });
    // A second reference: parse and validate only, building nothing (the floor for any parser
    // that reads every byte).
    g.bench_function("serde_json_ignored_any_clean", |b| {
        b.iter(|| serde_json::from_slice::<IgnoredAny>(black_box(&clean)).unwrap())
    });
    g.throughput(Throughput::Bytes(with_ids.len() as u64));
    g.bench_function("scan_json_with_ids", |b| {
        b.iter(|| d.scan_json(black_box(&with_ids)).unwrap())
    });
    g.bench_function("redact_json_with_ids", |b| {
        b.iter(|| d.redact_json(black_box(&with_ids)).unwrap())
    });
    g.bench_function("serde_json_value_with_ids", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&with_ids)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, detector);
criterion_main!(benches);
