//! PostgreSQL's `COPY … TO STDOUT` text format, parsed strictly and in bounded memory.
//!
//! Rows end with a newline, columns are separated by tabs, `\N` alone is NULL, and a backslash
//! starts an escape: `\\`, `\t`, `\n`, `\r`, `\b`, `\f`, `\v`, octal `\o`…`\ooo` (up to
//! `\377`) and hex `\xh` or `\xhh`. The server writes nothing else in this format, so anything
//! else (another escape, `\N` inside a longer value, a raw carriage return, a lone backslash at
//! the end of a value, a row with a different number of columns, a value that is not UTF-8, a
//! stream that stops inside a row) is an error, never a guess. Chunks may split a row anywhere:
//! the unfinished row is kept until its newline arrives, and only that row (at most
//! [`MAX_ROW`] bytes, the server's own limit) is ever held besides the chunk being read.
//! Errors name the row and column by number, never a value.

use memchr::{memchr, memchr3};

/// The longest row accepted: PostgreSQL builds a row of COPY output in one buffer of at most
/// 1 GiB, so a longer one is not COPY output.
pub(crate) const MAX_ROW: usize = 1 << 30;

/// Why COPY text could not be read. Never holds data from the rows.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum CopyError {
    /// A row with another number of columns than the statement selects.
    #[error("COPY row {row} has {found} column(s), expected {expected}")]
    Columns {
        /// The row's number, from 1.
        row: u64,
        /// Columns found.
        found: usize,
        /// Columns expected.
        expected: usize,
    },
    /// A backslash sequence the format does not have, or a raw carriage return.
    #[error("COPY row {row}, column {column}: {what}")]
    Malformed {
        /// The row's number, from 1.
        row: u64,
        /// The column's number, from 1.
        column: usize,
        /// What is wrong, without the value.
        what: &'static str,
    },
    /// A value that is not UTF-8 once unescaped (the old row decoder refused it too).
    #[error("COPY row {row}, column {column}: not valid UTF-8")]
    Utf8 {
        /// The row's number, from 1.
        row: u64,
        /// The column's number, from 1.
        column: usize,
    },
    /// A row longer than [`MAX_ROW`].
    #[error("COPY row {row} is longer than {MAX_ROW} bytes")]
    TooLong {
        /// The row's number, from 1.
        row: u64,
    },
    /// The data ended inside a row (no final newline).
    #[error("COPY data ends inside row {row}")]
    Truncated {
        /// The row's number, from 1.
        row: u64,
    },
}

/// A COPY text parser for rows of a known number of columns.
pub(crate) struct CopyText {
    columns: usize,
    /// The start of a row that the last chunk did not finish.
    pending: Vec<u8>,
    /// The current row's values, unescaped, end to end.
    row: Vec<u8>,
    /// Where each value ends in `row`; `None`: NULL.
    ends: Vec<Option<usize>>,
    /// Complete rows read so far.
    rows: u64,
}

impl CopyText {
    /// A parser for rows of `columns` columns.
    pub(crate) fn new(columns: usize) -> Self {
        Self {
            columns,
            pending: Vec::new(),
            row: Vec::new(),
            ends: Vec::with_capacity(columns),
            rows: 0,
        }
    }

    /// Complete rows read so far.
    #[cfg(test)]
    pub(crate) fn rows(&self) -> u64 {
        self.rows
    }

    /// Reads the next chunk of the stream, calling `each` with every row it completes (values
    /// in column order, `None` for NULL).
    pub(crate) fn feed<F>(&mut self, mut chunk: &[u8], mut each: F) -> Result<(), CopyError>
    where
        F: FnMut(&[Option<&str>]),
    {
        if !self.pending.is_empty() {
            let Some(i) = memchr(b'\n', chunk) else {
                return self.keep(chunk);
            };
            self.keep(&chunk[..i])?;
            let line = std::mem::take(&mut self.pending);
            let done = self.line(&line, &mut each);
            self.pending = line;
            self.pending.clear();
            done?;
            chunk = &chunk[i + 1..];
        }
        while let Some(i) = memchr(b'\n', chunk) {
            self.line(&chunk[..i], &mut each)?;
            chunk = &chunk[i + 1..];
        }
        self.keep(chunk)
    }

    /// Ends the stream: an unfinished row is an error. Returns the number of rows read.
    pub(crate) fn finish(&self) -> Result<u64, CopyError> {
        if self.pending.is_empty() {
            Ok(self.rows)
        } else {
            Err(CopyError::Truncated { row: self.rows + 1 })
        }
    }

    /// Keeps the start of an unfinished row.
    fn keep(&mut self, part: &[u8]) -> Result<(), CopyError> {
        if self.pending.len() + part.len() > MAX_ROW {
            return Err(CopyError::TooLong { row: self.rows + 1 });
        }
        self.pending.extend_from_slice(part);
        Ok(())
    }

    /// Parses one row (without its newline) and hands it to `each`.
    fn line<F>(&mut self, line: &[u8], each: &mut F) -> Result<(), CopyError>
    where
        F: FnMut(&[Option<&str>]),
    {
        let row = self.rows + 1;
        if line.len() > MAX_ROW {
            return Err(CopyError::TooLong { row });
        }
        self.row.clear();
        self.ends.clear();
        let malformed =
            |column: usize, what: &'static str| CopyError::Malformed { row, column, what };
        let mut rest = line;
        'fields: loop {
            let column = self.ends.len() + 1;
            // `\N` alone is NULL; `\\N` is the text `\N`.
            if rest.starts_with(b"\\N") && rest.get(2).is_none_or(|&b| b == b'\t') {
                self.ends.push(None);
                if rest.len() == 2 {
                    break 'fields;
                }
                rest = &rest[3..];
                continue 'fields;
            }
            loop {
                let Some(i) = memchr3(b'\t', b'\\', b'\r', rest) else {
                    self.row.extend_from_slice(rest);
                    self.ends.push(Some(self.row.len()));
                    break 'fields;
                };
                self.row.extend_from_slice(&rest[..i]);
                match rest[i] {
                    b'\t' => {
                        self.ends.push(Some(self.row.len()));
                        rest = &rest[i + 1..];
                        continue 'fields;
                    }
                    b'\r' => return Err(malformed(column, "raw carriage return")),
                    _ => {}
                }
                // A backslash: the escape after it.
                let escape = &rest[i + 1..];
                let Some(&c) = escape.first() else {
                    return Err(malformed(column, "backslash at the end of a value"));
                };
                let (byte, used) = match c {
                    b'\\' => (b'\\', 1),
                    b't' => (b'\t', 1),
                    b'n' => (b'\n', 1),
                    b'r' => (b'\r', 1),
                    b'b' => (0x08, 1),
                    b'f' => (0x0c, 1),
                    b'v' => (0x0b, 1),
                    b'0'..=b'7' => {
                        let digits = escape
                            .iter()
                            .take(3)
                            .take_while(|b| (b'0'..=b'7').contains(*b))
                            .count();
                        let value = escape[..digits]
                            .iter()
                            .fold(0u32, |v, d| v * 8 + u32::from(d - b'0'));
                        let Ok(byte) = u8::try_from(value) else {
                            return Err(malformed(column, "octal escape above \\377"));
                        };
                        (byte, digits)
                    }
                    b'x' => {
                        let digits = escape[1..]
                            .iter()
                            .take(2)
                            .take_while(|b| b.is_ascii_hexdigit())
                            .count();
                        if digits == 0 {
                            return Err(malformed(column, "\\x without a hex digit"));
                        }
                        let value = escape[1..=digits].iter().fold(0u8, |v, d| {
                            // Both digits are checked hex digits: at most 0xff.
                            v * 16 + (*d as char).to_digit(16).map_or(0, |d| d as u8)
                        });
                        (value, digits + 1)
                    }
                    b'N' => return Err(malformed(column, "\\N inside a value")),
                    // A raw tab always ends a value: this backslash escapes nothing.
                    b'\t' => return Err(malformed(column, "backslash at the end of a value")),
                    _ => return Err(malformed(column, "unknown backslash escape")),
                };
                self.row.push(byte);
                rest = &escape[used..];
            }
        }
        if self.ends.len() != self.columns {
            return Err(CopyError::Columns {
                row,
                found: self.ends.len(),
                expected: self.columns,
            });
        }
        let mut values: Vec<Option<&str>> = Vec::with_capacity(self.columns);
        let mut start = 0;
        for (i, end) in self.ends.iter().enumerate() {
            let Some(end) = *end else {
                values.push(None);
                continue;
            };
            let text = std::str::from_utf8(&self.row[start..end])
                .map_err(|_| CopyError::Utf8 { row, column: i + 1 })?;
            values.push(Some(text));
            start = end;
        }
        self.rows = row;
        each(&values);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rows = Vec<Vec<Option<String>>>;

    /// Parses `chunks` in order; the rows, or the first error.
    fn parse<C: AsRef<[u8]>>(columns: usize, chunks: &[C]) -> Result<Rows, CopyError> {
        let mut parser = CopyText::new(columns);
        let mut rows = Vec::new();
        for chunk in chunks {
            parser.feed(chunk.as_ref(), |values| {
                rows.push(values.iter().map(|v| v.map(str::to_owned)).collect());
            })?;
        }
        let n = parser.finish()?;
        assert_eq!(n, rows.len() as u64);
        assert_eq!(parser.rows(), n);
        Ok(rows)
    }

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    /// Every escape, NULL against the empty string against the text `\N`, UTF-8 as is.
    #[test]
    fn every_escape_null_and_empty() {
        let data: &[u8] = b"1\ta\\\\b\\tc\\nd\\re\\bf\\fg\\vh\n\
            2\t\\N\n\
            3\t\n\
            4\t\\\\N\n\
            5\t\\101\\0\\7\\12x\\1234\n\
            6\t\\x41\\x4a\\x4\\x4g\\x7e\n\
            7\t\xe8\xba\xab\xe4\xbb\xbd 110105\\t\\\\x\n";
        let rows = parse(2, &[data]).expect("parse");
        assert_eq!(
            rows,
            vec![
                vec![some("1"), some("a\\b\tc\nd\re\u{8}f\u{c}g\u{b}h")],
                vec![some("2"), None],
                vec![some("3"), some("")],
                vec![some("4"), some("\\N")],
                vec![some("5"), some("A\0\u{7}\nxS4")],
                vec![some("6"), some("AJ\u{4}\u{4}g~")],
                vec![some("7"), some("身份 110105\t\\x")],
            ]
        );
        // NULL in every position, and a row of NULLs.
        let rows = parse(3, &[b"\\N\tx\t\\N\n\\N\t\\N\t\\N\n\t\t\n"]).expect("nulls");
        assert_eq!(
            rows,
            vec![
                vec![None, some("x"), None],
                vec![None, None, None],
                vec![some(""), some(""), some("")],
            ]
        );
        // No rows at all.
        assert_eq!(parse::<&[u8]>(2, &[]).expect("empty"), Rows::new());
        assert_eq!(parse(2, &[b""]).expect("empty chunk"), Rows::new());
    }

    /// A row split at every byte, in two chunks and in one-byte chunks, reads the same.
    #[test]
    fn rows_split_across_chunks_at_every_byte() {
        let data: &[u8] = b"42\tname \\\\ \\t tab\\n\\101\\x42\t\\N\n\
            43\t\xe8\xba\xab\xe4\xbb\xbd\xe8\xaf\x81 11010519491231002X\t\n";
        let whole = parse(3, &[data]).expect("whole");
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0][1], some("name \\ \t tab\nAB"));
        assert_eq!(whole[0][2], None);
        assert_eq!(whole[1][1], some("身份证 11010519491231002X"));
        assert_eq!(whole[1][2], some(""));
        for at in 0..=data.len() {
            let (a, b) = data.split_at(at);
            assert_eq!(parse(3, &[a, b]).as_ref(), Ok(&whole), "split at {at}");
            // Three chunks, the middle one empty.
            assert_eq!(parse(3, &[a, b"", b]).as_ref(), Ok(&whole), "split at {at}");
        }
        let bytes: Vec<&[u8]> = data.chunks(1).collect();
        assert_eq!(parse(3, &bytes[..]).as_ref(), Ok(&whole));
    }

    /// A value that is not UTF-8, raw or through an escape, fails the table as the old row
    /// decoder did: an error naming the row and column, not the value.
    #[test]
    fn non_utf8_is_an_error() {
        for data in [
            &b"1\tok\n2\tab\xffcd\n"[..],
            b"1\tok\n2\t\\xff\n",
            b"1\tok\n2\t\\377\n",
            b"1\tok\n2\t\xe8\xba\n",
        ] {
            let err = parse(2, &[data]).expect_err("not UTF-8");
            assert_eq!(err, CopyError::Utf8 { row: 2, column: 2 });
            assert_eq!(err.to_string(), "COPY row 2, column 2: not valid UTF-8");
        }
        // UTF-8 is checked per value: halves of a character in two values are no character.
        let err = parse(2, &[b"\xe8\xba\t\xab\n"]).expect_err("split character");
        assert_eq!(err, CopyError::Utf8 { row: 1, column: 1 });
        // A character split between chunks is fine.
        let rows = parse(1, &[b"\xe8\xba", b"\xab\n"]).expect("split chunk");
        assert_eq!(rows, vec![vec![some("身")]]);
    }

    /// Anything the server does not write is refused, with no value in the message.
    #[test]
    fn malformed_input_is_refused() {
        let malformed = |data: &[u8], what: &str| match parse(2, &[data]) {
            Err(CopyError::Malformed {
                row,
                column,
                what: w,
            }) => {
                assert_eq!((row, column, w), (1, 2, what), "{data:?}");
            }
            other => panic!("{data:?}: {other:?}"),
        };
        malformed(b"1\tsecret\\q\n", "unknown backslash escape");
        malformed(b"1\tsecret\\.\n", "unknown backslash escape");
        malformed(b"1\tsecret\\\n", "backslash at the end of a value");
        malformed(b"1\tsecret\\N\n", "\\N inside a value");
        malformed(b"1\t\\Nx\n", "\\N inside a value");
        malformed(b"1\tsecret\\xg\n", "\\x without a hex digit");
        malformed(b"1\tsecret\\x\n", "\\x without a hex digit");
        malformed(b"1\tsecret\\400\n", "octal escape above \\377");
        malformed(b"1\tsecret\r\n", "raw carriage return");
        // A backslash before a raw tab is no escape here: the tab ends the value.
        assert_eq!(
            parse(2, &[b"1\tsecret\\\tx\n"]),
            Err(CopyError::Malformed {
                row: 1,
                column: 2,
                what: "backslash at the end of a value"
            })
        );
        assert_eq!(
            parse(2, &[b"1\tok\n2\n"]),
            Err(CopyError::Columns {
                row: 2,
                found: 1,
                expected: 2
            })
        );
        assert_eq!(
            parse(2, &[b"1\ta\tb\n"]),
            Err(CopyError::Columns {
                row: 1,
                found: 3,
                expected: 2
            })
        );
        assert_eq!(
            parse(2, &[b"1\tok\n2\tno newline"]),
            Err(CopyError::Truncated { row: 2 })
        );
        for e in [
            parse(2, &[b"1\tsecret\\q\n"]).expect_err("escape"),
            parse(2, &[b"1\tsecret\n2\tsecret"]).expect_err("truncated"),
            parse(2, &[b"1\tsecret\xff\n"]).expect_err("utf-8"),
        ] {
            assert!(!e.to_string().contains("secret"), "{e}");
        }
    }

    /// The unfinished row is all that is kept between chunks: its buffer does not grow with
    /// the number of rows.
    #[test]
    fn memory_is_one_row() {
        let mut parser = CopyText::new(2);
        let mut count = 0u64;
        let row = b"123\tsome text of a row\n";
        for _ in 0..10_000 {
            // Each row split in two chunks.
            parser.feed(&row[..7], |_| count += 1).expect("first half");
            parser.feed(&row[7..], |_| count += 1).expect("second half");
        }
        assert_eq!(count, 10_000);
        assert_eq!(parser.finish(), Ok(10_000));
        assert!(
            parser.pending.capacity() < 64,
            "{}",
            parser.pending.capacity()
        );
        assert!(parser.row.capacity() < 64, "{}", parser.row.capacity());
    }
}
