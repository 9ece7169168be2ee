//! The HTTP, CLI and browser tests of the `hawker` binary, in one test binary so that the
//! workspace links the server's test harness once instead of once per file (sixteen links of the
//! whole server was most of a cold CI build, and once ran the CI machine's disk out).
//!
//! Each module is one concern; `common` starts servers and publishers for all of them.

mod common;

mod backup;
mod browser;
mod cli;
mod co_host_api;
mod consult;
mod crash;
mod defects;
mod disclosure_api;
mod layers;
mod live_http;
mod money_api;
mod pages;
mod readme;
mod replay;
mod retention;
mod room_ws;
mod shop_api;
mod show_export;
mod trust_api;
mod webhooks;
mod webrtc;
