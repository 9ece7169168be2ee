//! One WebRTC session's setup, without I/O: the str0m configuration both directions share
//! (H.264 and Opus only, in the order we prefer), answering an offer, and the checks that
//! the offer can carry a show.

use std::net::SocketAddr;
use std::time::Instant;
use str0m::change::SdpOffer;
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::TcpType;
use str0m::{Candidate, Rtc, RtcConfig};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the offer is not valid SDP: {0}")]
    BadOffer(String),
    #[error("the offer cannot be answered: {0}")]
    Unanswerable(String),
    #[error("the offer carries no {0} this server takes (H.264 video, Opus audio)")]
    NoCodec(&'static str),
    #[error("the offer must {0}")]
    WrongDirection(&'static str),
}

/// What a session does with media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// WHIP: the client sends, the server receives.
    Ingest,
    /// WHEP: the server sends, the client receives.
    Playback,
    /// A call (a co-host with the host, a buyer with a seller): each party sends and receives.
    Call,
}

/// The codecs, in the order answers list them (browsers send with the first): H.264 High,
/// Constrained High (Safari and hardware encoders; not in str0m's defaults), Main, Constrained
/// Baseline, Baseline; then Opus. No VP8/VP9/AV1: the live pipeline packages H.264 without
/// re-encoding, and a browser that offers VP8 first would otherwise send VP8.
fn config() -> RtcConfig {
    let mut cfg = RtcConfig::new()
        .set_ice_lite(true)
        .clear_codecs()
        .set_stats_interval(None);
    {
        let codecs = cfg.codec_config();
        for (pt, rtx, profile) in [
            (102u8, 103u8, 0x64001f_u32),
            (104, 105, 0x640c1f),
            (106, 107, 0x4d001f),
            (108, 109, 0x42e01f),
            (110, 111, 0x42001f),
        ] {
            codecs.add_h264(pt.into(), Some(rtx.into()), true, profile);
        }
    }
    cfg.enable_opus(true, false)
}

/// Where clients reach the server: host candidates over UDP, and passive ones over TCP
/// (RFC 6544; for networks that block UDP).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advertised {
    pub udp: Vec<SocketAddr>,
    pub tcp: Vec<SocketAddr>,
}

impl Advertised {
    fn candidates(&self) -> Vec<Candidate> {
        let udp = self.udp.iter().map(|a| Candidate::host(*a, "udp"));
        let tcp = self.tcp.iter().map(|a| {
            Candidate::builder()
                .tcp()
                .host(*a)
                .tcptype(TcpType::Passive)
                .build()
        });
        udp.chain(tcp)
            .filter_map(|c| {
                c.inspect_err(|e| tracing::warn!(error = %e, "not a usable ICE address"))
                    .ok()
            })
            .collect()
    }
}

/// Answers `offer_sdp` for `side`, with a host candidate per advertised address. Returns the
/// session, its answer, and the offer's video and audio sections.
pub fn answer(
    offer_sdp: &str,
    side: Side,
    advertised: &Advertised,
    now: Instant,
) -> Result<Answered, SessionError> {
    let offer =
        SdpOffer::from_sdp_string(offer_sdp).map_err(|e| SessionError::BadOffer(e.to_string()))?;
    let mids: Vec<Mid> = offer.media_lines.iter().map(|l| l.mid()).collect();
    let mut rtc = config().build(now);
    for c in advertised.candidates() {
        rtc.add_local_candidate(c);
    }
    let answer = rtc
        .sdp_api()
        .accept_offer(offer)
        .map_err(|e| SessionError::Unanswerable(e.to_string()))?;
    let (mut video, mut audio) = (None, None);
    for mid in mids {
        let Some(m) = rtc.media(mid) else { continue }; // a data channel
        if m.disabled() || m.remote_pts().is_empty() {
            continue;
        }
        let ok = match side {
            Side::Ingest => m.direction().is_receiving(),
            Side::Playback => m.direction().is_sending(),
            Side::Call => m.direction().is_sending() && m.direction().is_receiving(),
        };
        if !ok {
            continue;
        }
        match m.kind() {
            MediaKind::Video if video.is_none() => video = Some(mid),
            MediaKind::Audio if audio.is_none() => audio = Some(mid),
            _ => {}
        }
    }
    if video.is_none() && audio.is_none() {
        return Err(match side {
            Side::Ingest if has_direction(&rtc_directions(offer_sdp), Direction::RecvOnly) => {
                SessionError::WrongDirection("send media (sendonly or sendrecv) to publish")
            }
            Side::Playback if has_direction(&rtc_directions(offer_sdp), Direction::SendOnly) => {
                SessionError::WrongDirection("receive media (recvonly) to play")
            }
            Side::Call if !rtc_directions(offer_sdp).contains(&Direction::SendRecv) => {
                SessionError::WrongDirection("send and receive media (sendrecv) in a call")
            }
            _ => SessionError::NoCodec("media section"),
        });
    }
    if side == Side::Ingest && video.is_none() {
        return Err(SessionError::NoCodec("H.264 video"));
    }
    Ok(Answered {
        rtc,
        answer: answer.to_sdp_string(),
        video,
        audio,
    })
}

fn rtc_directions(sdp: &str) -> Vec<Direction> {
    sdp.lines()
        .filter_map(|l| match l.trim_end_matches('\r') {
            "a=sendonly" => Some(Direction::SendOnly),
            "a=recvonly" => Some(Direction::RecvOnly),
            "a=sendrecv" => Some(Direction::SendRecv),
            _ => None,
        })
        .collect()
}

fn has_direction(all: &[Direction], d: Direction) -> bool {
    !all.is_empty() && all.iter().all(|x| *x == d)
}

pub struct Answered {
    pub rtc: Rtc,
    pub answer: String,
    pub video: Option<Mid>,
    pub audio: Option<Mid>,
}

/// A track's RTP clock mapped onto the publisher's millisecond timeline. RTP clocks start at
/// random values per track; both are anchored on the first frame's arrival, so audio and video
/// line up to within the network's jitter at the start, and then follow the sender's clock.
#[derive(Debug, Default)]
pub struct TrackClock {
    offset_ms: Option<i64>,
}

impl TrackClock {
    /// `rtp` ticks at `rate` Hz (extended, never wrapping), arrived at `arrival_ms` on the
    /// session's clock → the frame's time on the timeline, as FLV's 32-bit wrapping clock.
    pub fn map(&mut self, rtp: u64, rate: u32, arrival_ms: i64) -> u32 {
        let ms = (rtp as i128 * 1000 / rate.max(1) as i128) as i64;
        let offset = *self.offset_ms.get_or_insert(arrival_ms - ms);
        (ms + offset) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_start_at_arrival_and_follow_the_sender() {
        let mut video = TrackClock::default();
        let mut audio = TrackClock::default();
        assert_eq!(video.map(3_000_000_000, 90_000, 100), 100);
        assert_eq!(audio.map(77_000, 48_000, 105), 105);
        // 1 s later on each sender clock, whatever the arrival jitter.
        assert_eq!(video.map(3_000_090_000, 90_000, 1_180), 1_100);
        assert_eq!(audio.map(125_000, 48_000, 1_090), 1_105);
    }

    /// An offer shaped as OBS 30's WHIP output makes one (libdatachannel): no candidates, ICE
    /// credentials at session level, `a=group:LS`, Opus PT 111 in mid 0, H.264 PT 96 in mid 1,
    /// the profile the encoder was set to.
    fn obs_offer(profile: &str) -> String {
        let fp = (0..32)
            .map(|i| format!("{:02X}", i * 7 % 256))
            .collect::<Vec<_>>()
            .join(":");
        format!(
            "v=0\r\no=rtc 3128862395 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
             a=group:BUNDLE 0 1\r\na=group:LS 0 1\r\na=msid-semantic:WMS *\r\na=setup:actpass\r\n\
             a=ice-ufrag:kH0z\r\na=ice-pwd:rSgRk9YlyZ8lHxwmLqBpo4\r\na=ice-options:ice2,trickle\r\n\
             a=fingerprint:sha-256 {fp}\r\n\
             m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\n\
             a=ssrc:1234 cname:obs\r\na=ssrc:1234 msid:obs obs-audio\r\na=rtcp-mux\r\n\
             a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;maxaveragebitrate=96000;stereo=1;sprop-stereo=1;useinbandfec=1\r\n\
             m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\n\
             a=ssrc:1235 cname:obs\r\na=ssrc:1235 msid:obs obs-video\r\na=rtcp-mux\r\n\
             a=rtpmap:96 H264/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 goog-remb\r\n\
             a=fmtp:96 profile-level-id={profile};packetization-mode=1;level-asymmetry-allowed=1\r\n"
        )
    }

    #[test]
    fn obs_whip_offers_are_answered_with_its_payload_types() {
        let here = Advertised {
            udp: vec!["127.0.0.1:8189".parse().unwrap()],
            tcp: vec!["127.0.0.1:8189".parse().unwrap()],
        };
        // Baseline, High and Constrained High (Apple and hardware encoders).
        for profile in ["42e01f", "64001f", "640c1f", "4d0029"] {
            let a = answer(&obs_offer(profile), Side::Ingest, &here, Instant::now())
                .unwrap_or_else(|e| panic!("{profile}: {e}"));
            assert!(a.video.is_some() && a.audio.is_some(), "{profile}");
            assert!(
                a.answer.contains("a=rtpmap:96 H264/90000"),
                "{profile}: {}",
                a.answer
            );
            assert!(
                a.answer.contains("a=rtpmap:111 opus/48000/2"),
                "{}",
                a.answer
            );
            assert!(
                a.answer.contains("a=ice-lite") && a.answer.contains("127.0.0.1 8189 typ host")
            );
            assert!(a.answer.contains("a=setup:passive"), "{}", a.answer);
        }
        // OBS with only AV1 or HEVC: refused with a reason, not answered with nothing.
        let av1 = obs_offer("42e01f").replace("H264/90000", "AV1/90000");
        assert!(matches!(
            answer(&av1, Side::Ingest, &here, Instant::now()),
            Err(SessionError::NoCodec(_))
        ));
    }

    #[test]
    fn garbage_offers_are_refused_not_panicked_on() {
        for offer in [
            "",
            "v=0",
            "hello\r\n",
            "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n",
        ] {
            assert!(answer(offer, Side::Ingest, &Advertised::default(), Instant::now()).is_err());
        }
    }
}
