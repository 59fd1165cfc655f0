//! Detector throughput on a realistic 1 MiB JSON body (orders with names, order ids, phone
//! numbers, amounts, timestamps, free text), without and with identity data, against the
//! reference measured in the same run: `serde_json::from_slice::<serde_json::Value>` of the same
//! body (and, as a floor, `serde_json::from_slice::<IgnoredAny>`, which builds nothing). Run: `cargo bench --bench detector -- --warm-up-time 2 --measurement-time 5`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use netid::detect::Detector;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

/// Deterministic PRNG (splitmix64), so both bodies are the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

fn mod11(d17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = d17
        .chars()
        .zip(W)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    "10X98765432".as_bytes()[(sum % 11) as usize] as char
}

const NICKS: &[&str] = &[
    "小明",
    "lucky_cat",
    "旅行者",
    "Mia",
    "阿杰",
    "sunny-day",
    "老王",
];
const PRODUCTS: &[&str] = &[
    "无线蓝牙耳机 Pro",
    "有机绿茶 250g",
    "儿童保温杯 500ml",
    "USB-C 数据线 2m",
    "羊毛围巾（灰色）",
    "Mechanical keyboard 87 keys",
];
const REMARKS: &[&str] = &[
    "请尽快发货，谢谢！",
    "周末不在家，请放快递柜",
    "Please deliver after 6pm, call before arrival.",
    "发票抬头：个人",
    "礼物包装，附贺卡：生日快乐",
    "",
    "上次的订单 20240517 已收到，质量很好",
];
const CITIES: &[&str] = &["北京", "上海", "广州", "深圳", "杭州", "成都"];

/// One order; with `identity`, some orders carry identity data in fields and free text.
fn order(rng: &mut Rng, i: usize, identity: bool) -> Value {
    let mut o = json!({
        "orderId": format!("17{:017}", rng.below(100_000_000_000_000_000)),
        "userName": rng.pick(NICKS),
        "phone": format!("1{}{:09}", 3 + rng.below(7), rng.below(1_000_000_000)),
        "amount": (rng.below(10_000_000) as f64) / 100.0,
        "createdAt": 1_700_000_000_000u64 + rng.below(100_000_000_000),
        "remark": rng.pick(REMARKS),
        "items": (0..1 + rng.below(3)).map(|_| json!({
            "name": rng.pick(PRODUCTS),
            "sku": format!("SKU-{:06}", rng.below(1_000_000)),
            "qty": 1 + rng.below(5),
            "price": (rng.below(100_000) as f64) / 100.0,
        })).collect::<Vec<_>>(),
        "address": {
            "city": rng.pick(CITIES),
            "detail": format!("某区某路{}号{}栋{}室", rng.below(300), rng.below(30), rng.below(2000)),
            "zip": format!("{:06}", rng.below(1_000_000)),
        },
        "paid": rng.below(2) == 0,
        "coupon": null,
    });
    if identity && i.is_multiple_of(20) {
        let d17 = format!(
            "{}{:04}{}{:02}{:02}{:03}",
            11 + rng.below(50),
            rng.below(10_000),
            1950 + rng.below(60),
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(1000)
        );
        let id = format!("{d17}{}", mod11(&d17));
        o["buyer"] = json!({ "name": "张三", "idNo": id });
    }
    if identity && i % 50 == 25 {
        o["remark"] = json!("请核对身份证 11010519491231002X，谢谢");
    }
    o
}

/// Orders until the body is just under 1 MiB (the detector's default limit).
fn body(identity: bool) -> Vec<u8> {
    let mut rng = Rng(0x6465_7465_6374_6f72);
    let limit = 1 << 20;
    let mut out = b"{\"page\":1,\"orders\":[".to_vec();
    for i in 0.. {
        let o = serde_json::to_vec(&order(&mut rng, i, identity)).unwrap();
        if out.len() + o.len() + 3 > limit {
            break;
        }
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&o);
    }
    out.extend_from_slice(b"]}");
    out
}

fn detector(c: &mut Criterion) {
    let clean = body(false);
    let with_ids = body(true);
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
