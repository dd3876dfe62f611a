//! Plugin log lines, written by the broker tagged with the plugin's name. Use the
//! [`log!`](crate::log!) macro for formatted lines, or these functions for plain text.

use crate::{abi, LogLevel};
use alloc::string::String;
use core::fmt::{self, Write};

/// Writes `message` at `level`. The broker cuts messages longer than 4096 bytes.
pub fn write(level: LogLevel, message: &str) {
    abi::log(level as i32, message)
}

/// Writes formatted arguments at `level` (what [`log!`](crate::log!) expands to). A literal
/// without arguments is written without allocating.
pub fn write_fmt(level: LogLevel, args: fmt::Arguments<'_>) {
    match args.as_str() {
        Some(text) => write(level, text),
        None => {
            let mut line = String::new();
            let _ = line.write_fmt(args);
            write(level, &line);
        }
    }
}

/// Writes `message` at [`LogLevel::Trace`].
pub fn trace(message: &str) {
    write(LogLevel::Trace, message)
}

/// Writes `message` at [`LogLevel::Debug`].
pub fn debug(message: &str) {
    write(LogLevel::Debug, message)
}

/// Writes `message` at [`LogLevel::Info`].
pub fn info(message: &str) {
    write(LogLevel::Info, message)
}

/// Writes `message` at [`LogLevel::Warn`].
pub fn warn(message: &str) {
    write(LogLevel::Warn, message)
}

/// Writes `message` at [`LogLevel::Error`].
pub fn error(message: &str) {
    write(LogLevel::Error, message)
}
