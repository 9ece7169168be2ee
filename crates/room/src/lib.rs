//! One live room, without I/O: what viewers send, what they receive, and the rules in
//! between. The hub (`hawker-hub`) runs one [`room::Room`] per room and node, feeds it
//! decoded client messages, bus events and the time, and delivers its outputs.

pub mod audience;
pub mod hll;
pub mod limiter;
pub mod moderation;
pub mod protocol;
pub mod room;
