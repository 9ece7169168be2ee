//! Real-time video over WebRTC, around str0m's sans-IO sessions.
//!
//! ```text
//!  WHIP POST (HTTP) ─▶ RtcServer::publish ─ key check, go-live rules (Broadcaster) ─┐
//!  WHEP POST (HTTP) ─▶ RtcServer::play ───────────────────────────────────────────┤ commands
//!                                                                                  ▼
//!  UDP port ◀──────▶ Switch (one task, every session) ── publisher's frames ─▶ Ingest (CMAF, LL-HLS,
//!                        │                                                      recording, feed)
//!                        └─ the same frames, unchanged ─▶ each WHEP subscriber of the channel
//! ```
//!
//! What is pure sits apart: `session` (the codecs, answering an offer, the track clocks) and
//! `sdpfrag` (the PATCH bodies); `switch` owns the socket and the sessions; `server` is the
//! API the HTTP layer calls.

pub mod cohost;
mod sdpfrag;
mod server;
mod session;
mod switch;
mod tcp;

pub use sdpfrag::{FragError, SdpFrag};
pub use server::{Created, IceServer, Patched, RtcFailure, RtcServer, RtcSettings};
pub use session::{Advertised, SessionError, Side};
pub use switch::MediaWitness;
