//! The audit log as a local JSONL file: one entry per line, for a single process.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::{
    AuditEntry, AuditError, AuditEvent, AuditLog, AuditQuery, ChainError, ChainHead, ChainVerifier,
    Found, TokenVerifier,
};
use crate::error::StoreError;

/// The backend name in [`StoreError`]s.
const BACKEND: &str = "file";
/// Longest line accepted. A valid entry is under 1 KiB, or under 18 KiB with the token it keeps
/// (at most 16 KiB); anything this long is not one.
const MAX_LINE: u64 = 32 * 1024;
/// Every this many entries, the byte offset of an entry is remembered, so that reading from a
/// `seq` skips most of the file instead of parsing it from the start.
const MARK_EVERY: u64 = 1024;

/// An audit log in a local file of JSON lines, one [`AuditEntry`] per line, each exactly
/// `serde_json::to_string(&entry)` followed by `\n` (the format is in `docs/AUDIT.md`).
///
/// [`open`](Self::open) reads and verifies the whole file, streaming it, before anything is
/// appended: a new entry is only ever linked to an intact chain. An append is one `write_all`
/// of one line to a file opened with `O_APPEND`, then `fsync` (`sync_data`); if that fails, the
/// file is cut back to its previous length, so a failed append leaves no partial line.
/// File work runs on a short-lived thread, never on the async runtime's threads.
///
/// **One process per file.** Appends are serialised inside this value (one chain, no fork),
/// not between processes or between two values opened on the same file: several instances of
/// an application must share the PostgreSQL log instead. The file is created with mode 0600 on
/// Unix; an existing file's permissions are left as they are.
pub struct JsonlAuditLog {
    path: PathBuf,
    /// Held by an append from reading the head to the end of its write.
    turn: tokio::sync::Mutex<()>,
    /// The open file and what is known about it; locked only on the I/O threads.
    state: Arc<Mutex<State>>,
}

/// The file and its head.
struct State {
    /// Opened for append.
    file: File,
    /// `seq` and hash of the last entry (0 and GENESIS when empty).
    last_seq: u64,
    head: String,
    /// Length of the file: every byte up to here is whole lines.
    len: u64,
    /// Where every [`MARK_EVERY`]-th entry starts.
    marks: Vec<Mark>,
    /// A failed write could not be undone: the file may end in a partial line.
    broken: bool,
}

/// The position of one entry in the file.
#[derive(Debug, Clone, Copy)]
struct Mark {
    seq: u64,
    offset: u64,
    line: u64,
}

impl std::fmt::Debug for JsonlAuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonlAuditLog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl JsonlAuditLog {
    /// Opens the log at `path`, creating an empty one if there is none (mode 0600 on Unix).
    ///
    /// Reads the whole file line by line (any size; one line in memory at a time) and verifies
    /// its chain. Refuses with [`AuditError::Store`] ([`StoreError::Corrupt`], naming the line
    /// number, never its content) a line that is not a complete entry — a torn last line
    /// without `\n` included — and with [`AuditError::Chain`] a broken chain: an operator must
    /// look, keep the file as evidence, and start a new one. Blocks while it reads: call it at
    /// start-up, or from a blocking task.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, AuditError> {
        let path = path.as_ref().to_path_buf();
        let existed = path.exists();
        let mut options = OpenOptions::new();
        options.read(true).append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options
            .open(&path)
            .map_err(|e| io_at("opening", &path, &e))?;
        if !existed {
            sync_parent(&path);
        }

        let mut lines = Lines::new(
            File::open(&path).map_err(|e| io_at("opening", &path, &e))?,
            0,
            1,
        );
        let mut verifier = ChainVerifier::new();
        let mut marks = Vec::new();
        let mut count = 0u64;
        while let Some((mark, entry)) = lines.next_entry()? {
            verifier.push(&entry)?;
            if count.is_multiple_of(MARK_EVERY) {
                marks.push(mark);
            }
            count += 1;
        }
        let head = verifier.finish()?;
        let state = State {
            file,
            last_seq: head.last_seq,
            head: head.head,
            len: lines.offset,
            marks,
            broken: false,
        };
        Ok(Self {
            path,
            turn: tokio::sync::Mutex::new(()),
            state: Arc::new(Mutex::new(state)),
        })
    }

    /// The file this log writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Verifies the log file at `path` without opening it for writing (nothing is created),
    /// reading it line by line in file order; with `anchor`, like
    /// [`verify_chain_to`](super::verify_chain_to). What `netid audit verify` runs. Blocks.
    ///
    /// A missing or unreadable file is [`StoreError::Unavailable`]; a line that is not a
    /// complete entry is [`StoreError::Corrupt`] naming its number; a broken chain is
    /// [`AuditError::Chain`].
    pub fn verify_file(
        path: impl AsRef<Path>,
        anchor: Option<&ChainHead>,
    ) -> Result<ChainHead, AuditError> {
        Self::verify_file_inner(path.as_ref(), anchor, None, &mut |_| {})
    }

    /// [`verify_file`](Self::verify_file), and in the same pass the signature of every token
    /// the log keeps ([`TokenVerifier`]): what `netid audit verify FILE --keys KEYS` runs. The
    /// first failure is returned, a token that does not verify as [`AuditError::Token`].
    /// Blocks.
    pub fn verify_file_and_tokens(
        path: impl AsRef<Path>,
        anchor: Option<&ChainHead>,
        tokens: &mut TokenVerifier,
    ) -> Result<ChainHead, AuditError> {
        Self::verify_file_inner(path.as_ref(), anchor, Some(tokens), &mut |_| {})
    }

    /// The entries of the log file at `path` that `query` matches, in file order, found in
    /// one pass that also verifies the whole chain (to `anchor`, if given) and, with `tokens`,
    /// the signature of every token the log keeps — like
    /// [`verify_file_and_tokens`](Self::verify_file_and_tokens), whose errors it returns: a
    /// log that does not check yields no entries. What `netid audit find FILE` runs. Blocks.
    pub fn find_in_file(
        path: impl AsRef<Path>,
        anchor: Option<&ChainHead>,
        tokens: Option<&mut TokenVerifier>,
        query: &AuditQuery,
    ) -> Result<Found, AuditError> {
        let mut entries = Vec::new();
        let head = Self::verify_file_inner(path.as_ref(), anchor, tokens, &mut |entry| {
            if query.matches(&entry) {
                entries.push(entry);
            }
        })?;
        Ok(Found { entries, head })
    }

    fn verify_file_inner(
        path: &Path,
        anchor: Option<&ChainHead>,
        mut tokens: Option<&mut TokenVerifier>,
        visit: &mut dyn FnMut(AuditEntry),
    ) -> Result<ChainHead, AuditError> {
        let file = File::open(path).map_err(|e| io_at("opening", path, &e))?;
        let mut verifier = anchor.map_or_else(ChainVerifier::new, ChainVerifier::anchored);
        let mut lines = Lines::new(file, 0, 1);
        while let Some((_, entry)) = lines.next_entry()? {
            verifier.push(&entry)?;
            if let Some(tokens) = tokens.as_deref_mut() {
                tokens.push(&entry)?;
            }
            visit(entry);
        }
        Ok(verifier.finish()?)
    }
}

#[async_trait::async_trait]
impl AuditLog for JsonlAuditLog {
    async fn append(&self, event: AuditEvent) -> Result<AuditEntry, AuditError> {
        event.validate()?;
        let _turn = self.turn.lock().await;
        let state = Arc::clone(&self.state);
        // Head, link, write and the head's update all happen on the thread, under the state
        // lock: if this future is dropped meanwhile, the thread still finishes consistently.
        off_runtime(move || {
            let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
            state.append(event)
        })
        .await
    }

    async fn read(&self, from_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, AuditError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let state = Arc::clone(&self.state);
        let path = self.path.clone();
        off_runtime(move || {
            let (start, len) = {
                let state = state.lock().unwrap_or_else(|p| p.into_inner());
                let i = state.marks.partition_point(|m| m.seq <= from_seq);
                let start = i.checked_sub(1).and_then(|i| state.marks.get(i).copied());
                (start, state.len)
            };
            let start = start.unwrap_or(Mark {
                seq: 1,
                offset: 0,
                line: 1,
            });
            let mut file = File::open(&path).map_err(|e| io_at("opening", &path, &e))?;
            file.seek(SeekFrom::Start(start.offset))
                .map_err(|e| io("reading", &e))?;
            // Only whole lines written so far; an append in progress is not seen half-done.
            let file = file.take(len.saturating_sub(start.offset));
            let mut lines = Lines::new(file, start.offset, start.line);
            let mut out = Vec::new();
            while out.len() < limit {
                match lines.next_entry()? {
                    Some((_, entry)) if entry.seq >= from_seq => out.push(entry),
                    Some(_) => {}
                    None => break,
                }
            }
            Ok(out)
        })
        .await
    }
}

impl State {
    /// Links `event` after the head, writes it and moves the head. Runs under the state lock.
    fn append(&mut self, event: AuditEvent) -> Result<AuditEntry, AuditError> {
        if self.broken {
            return Err(StoreError::corrupt(
                BACKEND,
                "an earlier write failed part-way and could not be undone; reopen the log",
            )
            .into());
        }
        let seq = self
            .last_seq
            .checked_add(1)
            .ok_or_else(|| StoreError::corrupt(BACKEND, "the log is full"))?;
        let entry = AuditEntry::link(seq, &self.head, event);
        let line = entry.to_line();
        let written = self
            .file
            .write_all(&line)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            // Undo a partial line, so the file stays whole lines of one chain.
            let undone = self
                .file
                .set_len(self.len)
                .and_then(|()| self.file.sync_data());
            self.broken = undone.is_err();
            return Err(io("writing an entry to", &e));
        }
        if (seq - 1).is_multiple_of(MARK_EVERY) {
            self.marks.push(Mark {
                seq,
                offset: self.len,
                line: seq,
            });
        }
        self.len += line.len() as u64;
        self.last_seq = seq;
        self.head.clone_from(&entry.hash);
        Ok(entry)
    }
}

/// Reads entries line by line, one line in memory at a time, counting lines and bytes.
struct Lines<R> {
    reader: BufReader<R>,
    /// Byte offset of the next line.
    offset: u64,
    /// Number of the next line (the first is 1).
    line: u64,
    buf: Vec<u8>,
}

impl<R: Read> Lines<R> {
    fn new(reader: R, offset: u64, line: u64) -> Self {
        Self {
            reader: BufReader::new(reader),
            offset,
            line,
            buf: Vec::new(),
        }
    }

    /// The next entry and where it starts, or `None` at the end.
    fn next_entry(&mut self) -> Result<Option<(Mark, AuditEntry)>, AuditError> {
        self.buf.clear();
        let n = (&mut self.reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| io("reading", &e))?;
        if n == 0 {
            return Ok(None);
        }
        let line = self.line;
        let offset = self.offset;
        self.line += 1;
        self.offset += n as u64;
        let Some(text) = self.buf.strip_suffix(b"\n") else {
            return Err(corrupt(if n as u64 > MAX_LINE {
                format!("line {line} is longer than {MAX_LINE} bytes: not an audit entry")
            } else {
                format!(
                    "line {line} is incomplete (no final newline): a write was cut short or the \
                     file was truncated"
                )
            }));
        };
        let entry: AuditEntry = serde_json::from_slice(text)
            .map_err(|_| corrupt(format!("line {line} is not an audit entry")))?;
        // Anything a parser tolerates but the hash does not cover — extra keys, another key
        // order, spaces — is an edit of the entry.
        if entry.to_line() != self.buf {
            return Err(ChainError::Edited { seq: entry.seq }.into());
        }
        let mark = Mark {
            seq: entry.seq,
            offset,
            line,
        };
        Ok(Some((mark, entry)))
    }
}

/// Runs `work` on a thread of its own and waits for it without blocking the async runtime
/// (the library does not depend on tokio's `fs` or blocking pool).
async fn off_runtime<T, F>(work: F) -> Result<T, AuditError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, AuditError> + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("netid-audit-file".into())
        .spawn(move || {
            // The receiver is gone only if the caller stopped waiting; nothing to tell it.
            let _ = tx.send(work());
        })
        .map_err(|e| StoreError::unavailable(BACKEND, format!("starting an I/O thread: {e}")))?;
    rx.await
        .map_err(|_| StoreError::unavailable(BACKEND, "the I/O thread stopped"))?
}

/// After creating the file, makes its directory entry durable too (best effort; Unix only).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// The file could not be used: retryable.
fn io(what: &str, error: &std::io::Error) -> AuditError {
    StoreError::unavailable(BACKEND, format!("{what} the audit file: {error}")).into()
}

/// The file at `path` could not be used: retryable. The path is named (it is the operator's
/// own setting, never personal data), so a wrong one is seen at once.
fn io_at(what: &str, path: &Path, error: &std::io::Error) -> AuditError {
    StoreError::unavailable(
        BACKEND,
        format!("{what} the audit file {}: {error}", path.display()),
    )
    .into()
}

/// The file holds something that is not an audit log.
fn corrupt(detail: String) -> AuditError {
    StoreError::corrupt(BACKEND, detail).into()
}
