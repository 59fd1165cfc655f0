//! The error of a scan.

use crate::error::{Actor, ErrorCode};

/// Why a body could not be scanned.
///
/// A body the detector cannot read is a body it cannot vouch for: middleware should refuse it
/// (`413` for [`BodyTooLarge`](Self::BodyTooLarge), `400` for the others) rather than pass it
/// through unscanned. Messages give sizes and byte offsets, never content.
///
/// Every variant's [`actor`](ErrorCode::actor) is [`Actor::Configuration`]: nothing here is for
/// the end user to fix in the identity app, and nothing came from the platform. Either the relying
/// party's own client sends bodies its own server cannot read, or the limits
/// ([`Detector::max_body`](super::Detector::max_body),
/// [`Detector::max_depth`](super::Detector::max_depth)) are too tight for a route, or the traffic
/// is junk; in each case the operator decides.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    /// The body is larger than [`Detector::max_body`](super::Detector::max_body).
    #[error("body is {len} bytes, over the detector's limit of {max}")]
    BodyTooLarge {
        /// The body's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// JSON objects and arrays nest deeper than [`Detector::max_depth`](super::Detector::max_depth).
    #[error("JSON nests deeper than {max} levels")]
    JsonTooDeep {
        /// The limit.
        max: usize,
    },
    /// The body (or a percent-decoded form field) is not UTF-8.
    #[error("body is not UTF-8 (at byte {offset})")]
    InvalidUtf8 {
        /// Where the first invalid byte is; for a form field whose percent-decoded bytes are not
        /// UTF-8, where that field's name or value starts.
        offset: usize,
    },
    /// The body is not one well-formed JSON value.
    #[error("body is not well-formed JSON (at byte {offset})")]
    InvalidJson {
        /// Where the parser stopped.
        offset: usize,
    },
    /// A `%` in a form body or query string is not followed by two hex digits.
    #[error("form body or query string has a malformed percent escape (at byte {offset})")]
    InvalidForm {
        /// Where the `%` is.
        offset: usize,
    },
    /// A `multipart/form-data` body is malformed: no delimiter line, a part without its blank
    /// line or its closing delimiter, a header line without a colon; or a part has a
    /// `Content-Transfer-Encoding` other than `7bit`, `8bit` or `binary` (RFC 7578 §4.7 forbids
    /// them, and a base64 part would hide its content from the scan); or parsers would read it
    /// differently (the boundary inside the preamble, two `Content-Disposition` headers or
    /// `name` parameters, a part name that multer reads otherwise), so the handler could see a
    /// field the scan did not.
    #[error("multipart body is malformed (at byte {offset})")]
    InvalidMultipart {
        /// Where the fault is: the part's header block, or where a delimiter was expected.
        offset: usize,
    },
}

impl ScanError {
    /// The same error with its offset moved by `by` bytes: for an error inside a multipart
    /// part, so the offset counts from the start of the whole body.
    pub(super) fn shifted(self, by: usize) -> Self {
        match self {
            ScanError::InvalidUtf8 { offset } => ScanError::InvalidUtf8 {
                offset: offset.saturating_add(by),
            },
            ScanError::InvalidJson { offset } => ScanError::InvalidJson {
                offset: offset.saturating_add(by),
            },
            ScanError::InvalidForm { offset } => ScanError::InvalidForm {
                offset: offset.saturating_add(by),
            },
            ScanError::InvalidMultipart { offset } => ScanError::InvalidMultipart {
                offset: offset.saturating_add(by),
            },
            other @ (ScanError::BodyTooLarge { .. } | ScanError::JsonTooDeep { .. }) => other,
        }
    }
}

impl ErrorCode for ScanError {
    fn code(&self) -> &'static str {
        match self {
            ScanError::BodyTooLarge { .. } => "detect.body_too_large",
            ScanError::JsonTooDeep { .. } => "detect.json_too_deep",
            ScanError::InvalidUtf8 { .. } => "detect.invalid_utf8",
            ScanError::InvalidJson { .. } => "detect.invalid_json",
            ScanError::InvalidForm { .. } => "detect.invalid_form",
            ScanError::InvalidMultipart { .. } => "detect.invalid_multipart",
        }
    }

    fn actor(&self) -> Actor {
        Actor::Configuration
    }
}

impl ScanError {
    /// The refusal a request with this body gets.
    pub fn problem_kind(&self) -> crate::problem::ProblemKind {
        use crate::problem::ProblemKind;
        match self {
            ScanError::BodyTooLarge { .. } => ProblemKind::PayloadTooLarge,
            ScanError::JsonTooDeep { .. } => ProblemKind::JsonTooDeep,
            ScanError::InvalidUtf8 { .. } => ProblemKind::InvalidUtf8,
            ScanError::InvalidJson { .. } => ProblemKind::InvalidJson,
            ScanError::InvalidForm { .. } => ProblemKind::InvalidForm,
            ScanError::InvalidMultipart { .. } => ProblemKind::InvalidMultipart,
        }
    }
}
