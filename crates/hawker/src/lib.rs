//! The `hawker` binary's library half: configuration, wiring and the commands, so that tests
//! start the same server the binary does.

pub mod admin;
pub mod app;
pub mod backup;
pub mod client;
pub mod config;
pub mod demo;
pub mod jobs;
pub mod seed;
pub mod shows;
