//! The tamper-evident audit log (being written).
