//! Writes a generated NDJSON corpus for `benches/scan.sh`: log-like records (timestamps, order
//! numbers, phone numbers, amounts, free text), one in `EVERY` carrying a resident ID number
//! with a valid check character under `idNo`, one in `EVERY` carrying one in free text.
//!
//! `cargo run --release --example scan_corpus -- OUT.ndjson MIB [clean]` — `clean`: no identity
//! numbers at all (ID-shaped look-alikes with a wrong check character instead).

use std::io::{BufWriter, Write};

/// One record in this many carries an identity number (per place).
const EVERY: u64 = 1000;

fn mod11(d17: &[u8]) -> u8 {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = d17
        .iter()
        .zip(W)
        .map(|(&c, w)| u32::from(c - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize]
}

/// A deterministic generator (xorshift): the corpus is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// An 18-character resident ID; `valid`: with its right check character, else a wrong one.
fn resident_id(rng: &mut Rng, valid: bool) -> String {
    let r = rng.next();
    let d17 = format!(
        "{:02}0105{:04}{:02}{:02}{:03}",
        11 + r % 50,
        1950 + (r >> 8) % 60,
        1 + (r >> 16) % 12,
        1 + (r >> 24) % 28,
        (r >> 32) % 1000
    );
    let check = mod11(d17.as_bytes());
    let check = if valid {
        check
    } else if check == b'1' {
        b'2'
    } else {
        b'1'
    };
    format!("{d17}{}", check as char)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .ok_or("usage: scan_corpus OUT.ndjson MIB [clean]")?;
    let mib: u64 = args
        .next()
        .ok_or("usage: scan_corpus OUT.ndjson MIB [clean]")?
        .parse()?;
    let clean = args.next().as_deref() == Some("clean");
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut written, mut n) = (0u64, 0u64);
    while written < mib << 20 {
        n += 1;
        let r = rng.next();
        let id_field = if !clean && n % EVERY == 0 {
            format!(",\"idNo\":\"{}\"", resident_id(&mut rng, true))
        } else {
            String::new()
        };
        let note = if !clean && n % EVERY == 500 {
            format!(
                "customer gave 身份证 {} at the desk",
                resident_id(&mut rng, true)
            )
        } else if n % 7 == 0 {
            format!("ref {} checked", resident_id(&mut rng, false))
        } else {
            "delivered to the front desk, signed by recipient".to_owned()
        };
        let line = format!(
            "{{\"ts\":\"2026-01-{:02}T{:02}:{:02}:{:02}.{:03}Z\",\"level\":\"INFO\",\"order\":\"{}\",\
             \"user\":{{\"uid\":{},\"phone\":\"13{:09}\"{id_field}}},\"amount\":{}.{:02},\
             \"note\":\"{note}\"}}\n",
            1 + r % 28,
            (r >> 5) % 24,
            (r >> 10) % 60,
            (r >> 16) % 60,
            (r >> 22) % 1000,
            20_240_000_000_000 + (r >> 20) % 10_000_000_000,
            (r >> 12) % 100_000_000,
            (r >> 30) % 1_000_000_000,
            (r >> 40) % 10_000,
            (r >> 50) % 100,
        );
        w.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    w.flush()?;
    eprintln!("{n} records, {written} bytes");
    Ok(())
}
