//! Personal data types: a name, an ID number, a birth date.
//!
//! They are radioactive. Each one zeroizes its buffer on drop, prints as `[redacted]` in both
//! `Debug` and `Display`, has no `Serialize`, and gives its value up only through
//! [`ExposeSecret::expose_secret`] — a call that is easy to find in review.

use std::fmt;

pub use secrecy::ExposeSecret;
use zeroize::{Zeroize, ZeroizeOnDrop};

macro_rules! personal_string {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value. Prefer getting these from a verified result; this exists for the
            /// relying party's own lawful records and for tests.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }
        }

        impl ExposeSecret<str> for $name {
            fn expose_secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!("[redacted ", $what, "]"))
            }
        }
    };
}

personal_string!(
    /// A person's name as on their identity document.
    PersonalName,
    "name"
);
personal_string!(
    /// An identity document number (resident ID, passport, permit…).
    IdNumber,
    "ID number"
);
personal_string!(
    /// A birth date, `YYYY-MM-DD`. Age decisions should use an [`AgeTag`](crate::model::AgeTag)
    /// instead: an age band is what the law lets a platform ask for by default.
    BirthDate,
    "birth date"
);

/// `YYYY-MM-DD` with a real calendar date (proleptic Gregorian, years 1900–2199).
pub(crate) fn is_valid_date(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r.clone()]
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| text[r].parse().ok())
            .flatten()
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    (1900..2200).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)
}

pub(crate) fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_never_print() {
        let n = IdNumber::new("11010519491231002X");
        assert_eq!(format!("{n:?}"), "IdNumber([redacted])");
        assert_eq!(format!("{n}"), "[redacted ID number]");
        assert_eq!(
            format!("{:#?}", PersonalName::new("张三")),
            "PersonalName([redacted])"
        );
        assert_eq!(n.expose_secret(), "11010519491231002X");
    }

    #[test]
    fn dates() {
        assert!(is_valid_date("1949-12-31"));
        assert!(is_valid_date("2000-02-29"));
        assert!(!is_valid_date("1900-02-29"));
        assert!(!is_valid_date("2023-02-29"));
        assert!(!is_valid_date("2023-13-01"));
        assert!(!is_valid_date("2023-1-01"));
        assert!(!is_valid_date("+023-01-01"));
    }
}
