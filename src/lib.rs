//! ratecheck: finds naive rate limiters in Python and JavaScript/TypeScript.
//!
//! Pipeline and module map: see README.md ("Architecture").

pub mod baseline;
pub mod cli;
pub mod config;
pub mod discover;
pub mod engine;
pub mod facts;
pub mod finding;
pub mod ir;
pub mod knowledge;
pub mod lang;
pub mod lower;
pub mod model;
pub mod output;
pub mod progress;
pub mod project;
pub mod rules;
pub mod scope;
pub mod source;
pub mod suppress;
pub mod vfs;
