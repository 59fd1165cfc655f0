//! The JSON bodies the detector is measured on (orders with names, order ids, phone numbers,
//! amounts, timestamps, free text), shared by `benches/detector.rs` (criterion) and
//! `examples/detector_cost.rs` (callgrind), so both measure the same bodies.

use serde_json::{Value, json};

/// Deterministic PRNG (splitmix64), so the bodies are the same on every run.
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

/// How often identity data appears: a buyer with a name and an ID number in one order of
/// `buyer_every`, an ID number in the remark of one in `remark_every` (offset by half); 0: never.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Identity {
    pub(crate) buyer_every: usize,
    pub(crate) remark_every: usize,
}

impl Identity {
    /// No identity data at all.
    pub(crate) const NONE: Identity = Identity {
        buyer_every: 0,
        remark_every: 0,
    };
}

/// One order, with identity data as `identity` says.
fn order(rng: &mut Rng, i: usize, identity: Identity) -> Value {
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
    if identity.buyer_every > 0 && i.is_multiple_of(identity.buyer_every) {
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
    let remark = identity.remark_every;
    if remark > 0 && i % remark == remark / 2 {
        o["remark"] = json!("请核对身份证 11010519491231002X，谢谢");
    }
    o
}

/// Orders until the body is just under `limit` bytes.
pub(crate) fn body(limit: usize, identity: Identity) -> Vec<u8> {
    let mut rng = Rng(0x6465_7465_6374_6f72);
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
