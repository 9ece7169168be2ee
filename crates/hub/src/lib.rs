//! Live rooms at the edge. One task per room and node runs the sans-IO [`hawker_room`]
//! state machine; connections get an [`outbox::Outbox`] with lanes; rooms on different nodes
//! meet on the [`bus::Bus`] (in-process by default, NATS with `[bus] nats = "..."`).

pub mod bus;
pub mod hub;
pub mod outbox;

pub use bus::{Bus, InProcessBus, NatsBus};
pub use hub::{Connection, HubConfig, HubError, NotificationSocket, RoomHub, Visitor};
