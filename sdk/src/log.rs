//! Structured logs, journaled by the host with the call that wrote them.
//!
//! The host masks secret values that appear in messages or fields. Logs are
//! for vendor engineers and administrators; keep personal data out of them.

pub use crate::bindings::guichet::connector::log::Level;

/// Writes a record with key/value fields.
pub fn write(level: Level, message: &str, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    imp::write(level, message, fields);
}

/// Writes a debug record.
pub fn debug(message: &str) {
    write(Level::Debug, message, &[]);
}

/// Writes an info record.
pub fn info(message: &str) {
    write(Level::Info, message, &[]);
}

/// Writes a warning.
pub fn warn(message: &str) {
    write(Level::Warn, message, &[]);
}

/// Writes an error record.
pub fn error(message: &str) {
    write(Level::Error, message, &[]);
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::Level;

    pub fn write(level: Level, message: &str, fields: Vec<(String, String)>) {
        crate::bindings::guichet::connector::log::write(level, message, &fields);
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::Level;

    pub fn write(level: Level, message: &str, fields: Vec<(String, String)>) {
        crate::testing::log(level, message, fields);
    }
}
