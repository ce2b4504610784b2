//! The nurse-station dashboard and REST API.

pub mod backend;
