//! Who counts as a viewer, without I/O and with time passed in.
//!
//! A room connection counts only while the server is delivering it media: the connection is
//! given a playback token at join, the player sends it with its LL-HLS playlist and part
//! requests (or its WebSocket feed), and the origin reports each delivery to the room. What a
//! client says about itself (heartbeats with a position) never counts alone. Counted sessions
//! are capped per client address and per network, so one address or one rented subnet cannot
//! fill a room however many players it runs; the sessions over the cap are still served.

use std::collections::HashMap;
use std::net::IpAddr;

/// The counting rule's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudienceRules {
    /// A session counts while its last media delivery is at most this old.
    pub media_window_ms: u64,
    /// Counted sessions per client address at most (a household, a shop's counter).
    pub max_per_address: u64,
    /// Counted sessions per network (IPv4 /24, IPv6 /48) at most (an office, a campus).
    pub max_per_network: u64,
}

impl Default for AudienceRules {
    fn default() -> Self {
        AudienceRules {
            media_window_ms: 10_000,
            max_per_address: 4,
            max_per_network: 32,
        }
    }
}

impl AudienceRules {
    /// Whether a session whose last delivery was at `media_at` is playing at `now`.
    pub fn delivering(&self, media_at: Option<u64>, now: u64) -> bool {
        media_at.is_some_and(|t| now.saturating_sub(t) <= self.media_window_ms)
    }

    /// The viewers among sessions that are being delivered media, by their client address:
    /// at most `max_per_address` per address and `max_per_network` per network.
    pub fn count<'a>(&self, delivering: impl IntoIterator<Item = &'a str>) -> u64 {
        let mut per_address: HashMap<&str, u64> = HashMap::new();
        for ip in delivering {
            *per_address.entry(ip).or_default() += 1;
        }
        let mut per_network: HashMap<String, u64> = HashMap::new();
        for (ip, n) in per_address {
            *per_network.entry(network_of(ip)).or_default() += n.min(self.max_per_address);
        }
        per_network
            .values()
            .map(|n| (*n).min(self.max_per_network))
            .sum()
    }
}

/// The network an address belongs to: IPv4 /24, IPv6 /48; the text itself when it is not an
/// address (a test's or a proxy's label).
pub fn network_of(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => network_of(&v4.to_string()),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
            }
        },
        Err(_) => ip.to_string(),
    }
}

/// How regular a client's heartbeats are: the standard deviation of the intervals between
/// them, in ms. A browser's timers drift by tens of milliseconds; a script's loop does not.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cadence {
    last_at: Option<u64>,
    n: u64,
    sum: f64,
    sum_sq: f64,
}

impl Cadence {
    pub fn beat(&mut self, now: u64) {
        if let Some(last) = self.last_at {
            let d = now.saturating_sub(last) as f64;
            self.n += 1;
            self.sum += d;
            self.sum_sq += d * d;
        }
        self.last_at = Some(now);
    }

    /// Intervals seen.
    pub fn intervals(&self) -> u64 {
        self.n
    }

    /// The intervals' standard deviation, once there are at least three.
    pub fn jitter_ms(&self) -> Option<u64> {
        if self.n < 3 {
            return None;
        }
        let n = self.n as f64;
        let mean = self.sum / n;
        let var = (self.sum_sq / n - mean * mean).max(0.0);
        Some(var.sqrt().round() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_counts_for_the_window_only() {
        let r = AudienceRules::default();
        assert!(!r.delivering(None, 1_000), "no delivery, no viewer");
        assert!(r.delivering(Some(1_000), 1_000));
        assert!(r.delivering(Some(1_000), 11_000));
        assert!(!r.delivering(Some(1_000), 11_001), "stale after the window");
    }

    #[test]
    fn counted_sessions_are_capped_per_address_and_network() {
        let r = AudienceRules {
            media_window_ms: 10_000,
            max_per_address: 4,
            max_per_network: 10,
        };
        // 50 players behind one address count as 4.
        assert_eq!(r.count(std::iter::repeat_n("203.0.113.7", 50)), 4);
        // Three addresses of one /24 with 4 each count 12, capped at 10.
        let office: Vec<&str> = ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
            .iter()
            .flat_map(|a| std::iter::repeat_n(*a, 6))
            .collect();
        assert_eq!(r.count(office), 10);
        // Distinct networks add up.
        assert_eq!(r.count(["192.0.2.1", "198.51.100.1", "2001:db8::1"]), 3);
        assert_eq!(r.count(std::iter::empty()), 0);
    }

    #[test]
    fn networks() {
        assert_eq!(network_of("192.0.2.77"), "192.0.2.0/24");
        assert_eq!(network_of("::ffff:192.0.2.77"), "192.0.2.0/24");
        assert_eq!(network_of("2001:db8:1:2::9"), "2001:db8:1::/48");
        assert_eq!(network_of("not an address"), "not an address");
    }

    #[test]
    fn a_scripts_cadence_has_no_jitter() {
        let mut script = Cadence::default();
        for i in 0..10 {
            script.beat(1_000 + i * 5_000);
        }
        assert_eq!(script.intervals(), 9);
        assert_eq!(script.jitter_ms(), Some(0));
        let mut browser = Cadence::default();
        for (i, drift) in [0, 40, 7, 90, 13, 61].iter().enumerate() {
            browser.beat(i as u64 * 5_000 + drift);
        }
        assert!(browser.jitter_ms().unwrap() > 20);
        let mut few = Cadence::default();
        few.beat(0);
        few.beat(5_000);
        assert_eq!(few.jitter_ms(), None, "too few to say");
    }
}
