//! Integrity signals, each with a score in [0, 1] and the evidence behind it: how concentrated a
//! show's orders are in a few buyers, which accounts are linked by what they share (device,
//! payment instrument, address, network) and how densely, how much of a chat is the same
//! lines from many accounts, and how much of an audience is sockets rather than viewers
//! (sessions that never play, join/leave bursts, near-zero dwell). `engine` combines them per
//! show.

use hawker_domain::text::normalize;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    pub name: &'static str,
    /// 0 = nothing suspicious, 1 = as suspicious as this signal gets.
    pub score: f64,
    pub evidence: String,
}

/// Share of the orders placed by the `k` buyers with the most orders. A show whose sales come
/// from a handful of accounts scores high.
pub fn concentration(orders_per_buyer: &[(i64, u32)], k: usize) -> Signal {
    let total: u64 = orders_per_buyer.iter().map(|(_, n)| *n as u64).sum();
    let mut counts: Vec<(u32, i64)> = orders_per_buyer.iter().map(|(b, n)| (*n, *b)).collect();
    counts.sort_by(|a, b| b.cmp(a));
    let top: Vec<(u32, i64)> = counts.into_iter().take(k).collect();
    let top_sum: u64 = top.iter().map(|(n, _)| *n as u64).sum();
    let score = if total == 0 {
        0.0
    } else {
        top_sum as f64 / total as f64
    };
    Signal {
        name: "order_concentration",
        score,
        evidence: format!(
            "{top_sum} of {total} orders from the top {} buyers ({})",
            top.len(),
            top.iter()
                .map(|(n, b)| format!("account {b}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// What two accounts can share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    Device,
    PaymentInstrument,
    ShippingAddress,
    Network,
}

names!(LinkKind {
    Device => "device",
    PaymentInstrument => "payment_instrument",
    ShippingAddress => "shipping_address",
    Network => "network",
});

impl LinkKind {
    /// How much sharing it says: a payment instrument more than a network.
    pub fn weight(self) -> f64 {
        match self {
            LinkKind::PaymentInstrument => 1.0,
            LinkKind::Device => 0.8,
            LinkKind::ShippingAddress => 0.6,
            LinkKind::Network => 0.3,
        }
    }
}

/// A group of linked accounts and how densely they are linked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkedGroup {
    pub accounts: Vec<i64>,
    /// Sum of link weights per account in the densest part (Fraudar-style peeling).
    pub density: f64,
    pub dense_core: Vec<i64>,
    pub shared: Vec<(LinkKind, usize)>,
}

/// How many accounts on the whole platform were seen with an attribute value; a value the
/// provider declares shared by everyone (a payment sandbox's documented test card, a wallet's
/// pooled token) is `u64::MAX`. Values not in the map count as rare.
pub type Popularity = BTreeMap<(LinkKind, String), u64>;

/// Accounts sharing a value beyond which the value says less about who they are.
pub const RARE_UP_TO: u64 = 20;

/// How much a shared value says, from how many accounts on the platform share it: 1 up to
/// `RARE_UP_TO`, falling as 1/n after, 0 for a value shared by everyone.
pub fn rarity(popularity: &Popularity, kind: LinkKind, value: &str) -> f64 {
    match popularity.get(&(kind, value.to_string())) {
        None => 1.0,
        Some(&u64::MAX) => 0.0,
        Some(&n) if n <= RARE_UP_TO => 1.0,
        Some(&n) => RARE_UP_TO as f64 / n as f64,
    }
}

/// Weighted links between accounts that share an attribute value. Values shared by very many
/// accounts weigh less, in the show (a campus network) and on the platform (`popularity`), as
/// Fraudar discounts popular columns; a value everyone shares links nobody.
pub fn links(
    attrs: &[(i64, LinkKind, String)],
    popularity: &Popularity,
) -> Vec<(i64, i64, LinkKind, f64)> {
    let mut by_value: BTreeMap<(LinkKind, &str), BTreeSet<i64>> = BTreeMap::new();
    for (a, k, v) in attrs {
        if rarity(popularity, *k, v) > 0.0 {
            by_value.entry((*k, v.as_str())).or_default().insert(*a);
        }
    }
    let mut out: BTreeMap<(i64, i64, LinkKind), f64> = BTreeMap::new();
    for ((k, value), accounts) in by_value {
        if accounts.len() < 2 {
            continue;
        }
        let discount = rarity(popularity, k, value) / (accounts.len() as f64 + 5.0).ln();
        let v: Vec<i64> = accounts.into_iter().collect();
        for i in 0..v.len() {
            for j in i + 1..v.len() {
                *out.entry((v[i], v[j], k)).or_insert(0.0) += k.weight() * discount;
            }
        }
    }
    out.into_iter().map(|((a, b, k), w)| (a, b, k, w)).collect()
}

/// The densest subset by greedy peeling: repeatedly remove the account with the least
/// remaining link weight; the best prefix seen is at least half as dense as the densest subset
/// (Charikar), and never less dense than the whole graph.
pub fn densest(edges: &[(i64, i64, f64)]) -> (Vec<i64>, f64) {
    let mut adj: HashMap<i64, Vec<(i64, f64)>> = HashMap::new();
    let mut total = 0.0;
    for (a, b, w) in edges {
        if a == b || !w.is_finite() || *w <= 0.0 {
            continue;
        }
        adj.entry(*a).or_default().push((*b, *w));
        adj.entry(*b).or_default().push((*a, *w));
        total += w;
    }
    if adj.is_empty() {
        return (Vec::new(), 0.0);
    }
    let mut degree: HashMap<i64, f64> = adj
        .iter()
        .map(|(v, n)| (*v, n.iter().map(|(_, w)| w).sum()))
        .collect();
    // Min-heap on degree (scaled to integers for ordering), lazily updated.
    let key = |d: f64| (d * 1e6) as i64;
    let mut heap: BinaryHeap<Reverse<(i64, i64)>> =
        degree.iter().map(|(v, d)| Reverse((key(*d), *v))).collect();
    let mut alive: BTreeSet<i64> = adj.keys().copied().collect();
    let mut removed_order = Vec::new();
    let (mut best_density, mut best_removed) = (total / alive.len() as f64, 0usize);
    while let Some(Reverse((k, v))) = heap.pop() {
        if !alive.contains(&v) || key(degree[&v]) != k {
            continue;
        }
        alive.remove(&v);
        removed_order.push(v);
        total -= degree[&v];
        for (u, w) in &adj[&v] {
            if alive.contains(u) {
                let d = degree.get_mut(u).expect("every endpoint has a degree");
                *d -= w;
                heap.push(Reverse((key(*d), *u)));
            }
        }
        if alive.is_empty() {
            break;
        }
        let density = total / alive.len() as f64;
        if density > best_density + 1e-12 {
            best_density = density;
            best_removed = removed_order.len();
        }
    }
    let removed: BTreeSet<i64> = removed_order[..best_removed].iter().copied().collect();
    let core: Vec<i64> = adj
        .keys()
        .copied()
        .filter(|v| !removed.contains(v))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    (core, best_density)
}

/// Groups of linked accounts (connected components), each with its densest core.
pub fn linked_groups(
    attrs: &[(i64, LinkKind, String)],
    popularity: &Popularity,
) -> Vec<LinkedGroup> {
    let l = links(attrs, popularity);
    // Union-find over the linked accounts.
    let mut parent: HashMap<i64, i64> = HashMap::new();
    fn find(p: &mut HashMap<i64, i64>, x: i64) -> i64 {
        let mut r = x;
        while let Some(&q) = p.get(&r) {
            if q == r {
                break;
            }
            r = q;
        }
        p.insert(x, r);
        r
    }
    for (a, b, _, _) in &l {
        parent.entry(*a).or_insert(*a);
        parent.entry(*b).or_insert(*b);
        let (ra, rb) = (find(&mut parent, *a), find(&mut parent, *b));
        if ra != rb {
            parent.insert(ra.max(rb), ra.min(rb));
        }
    }
    let mut groups: BTreeMap<i64, Vec<(i64, i64, LinkKind, f64)>> = BTreeMap::new();
    for e in &l {
        let r = find(&mut parent, e.0);
        groups.entry(r).or_default().push(*e);
    }
    let mut out: Vec<LinkedGroup> = groups
        .into_values()
        .map(|edges| {
            let accounts: BTreeSet<i64> = edges.iter().flat_map(|(a, b, _, _)| [*a, *b]).collect();
            let mut shared: BTreeMap<LinkKind, usize> = BTreeMap::new();
            for (_, _, k, _) in &edges {
                *shared.entry(*k).or_default() += 1;
            }
            let weighted: Vec<(i64, i64, f64)> =
                edges.iter().map(|(a, b, _, w)| (*a, *b, *w)).collect();
            let (dense_core, density) = densest(&weighted);
            LinkedGroup {
                accounts: accounts.into_iter().collect(),
                density,
                dense_core,
                shared: shared.into_iter().collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| b.density.total_cmp(&a.density));
    out
}

/// Share of messages whose text (normalised) was posted by at least `min_accounts` different
/// accounts: a chat of copied praise scores high.
pub fn chat_homogeneity(messages: &[(i64, &str)], min_accounts: usize) -> Signal {
    let mut by_text: HashMap<String, BTreeSet<i64>> = HashMap::new();
    for (a, t) in messages {
        let n = normalize(t);
        let n = n.split_whitespace().collect::<Vec<_>>().join(" ");
        if !n.is_empty() {
            by_text.entry(n).or_default().insert(*a);
        }
    }
    let repeated: Vec<(&String, usize)> = by_text
        .iter()
        .filter(|(_, a)| a.len() >= min_accounts.max(2))
        .map(|(t, a)| (t, a.len()))
        .collect();
    let copied = messages
        .iter()
        .filter(|(_, t)| {
            let n = normalize(t);
            let n = n.split_whitespace().collect::<Vec<_>>().join(" ");
            repeated.iter().any(|(r, _)| **r == n)
        })
        .count();
    let mut top = repeated.clone();
    top.sort_by_key(|t| Reverse(t.1));
    Signal {
        name: "chat_homogeneity",
        score: if messages.is_empty() {
            0.0
        } else {
            copied as f64 / messages.len() as f64
        },
        evidence: format!(
            "{copied} of {} messages repeat a line posted by {}+ accounts{}",
            messages.len(),
            min_accounts.max(2),
            top.first()
                .map(|(t, n)| format!(", e.g. {n} accounts: \"{t}\""))
                .unwrap_or_default()
        ),
    }
}

/// What a session showed about itself (recorded by the room since honest viewer counts;
/// older sessions have zeros here and are judged by the other signals only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SessionTraits {
    /// The client's network (IPv4 /24, IPv6 /48).
    pub network: String,
    /// Media deliveries the origin reported (LL-HLS playlists at the live edge, feed chunks).
    pub media_deliveries: i64,
    pub heartbeats: i64,
    /// Standard deviation of the heartbeat intervals: a script's loop has none.
    pub cadence_jitter_ms: Option<i64>,
}

/// One connection's stay in a live show, as the room recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ViewerSession {
    /// None for a guest.
    pub account: Option<i64>,
    pub joined_at: i64,
    pub left_at: i64,
    /// Time the player advanced while it reported playing.
    pub played_ms: i64,
    /// The room counted it as a viewer (the origin delivered it media at least once).
    pub counted: bool,
    pub traits: SessionTraits,
}

impl ViewerSession {
    pub fn dwell_ms(&self) -> i64 {
        self.left_at.saturating_sub(self.joined_at).max(0)
    }

    /// Played video: the room counted it or saw its player advance.
    pub fn played(&self) -> bool {
        self.counted || self.played_ms > 0
    }
}

/// Sessions at which the audience signals speak with their full weight; fewer say less.
pub const SESSIONS_FOR_FULL_WEIGHT: usize = 50;
/// Share of an honest audience that never plays: autoplay blocked, a tab in the background.
pub const ORDINARY_NO_PLAY: f64 = 0.25;
/// A stay shorter than this is near-zero dwell.
pub const NEAR_ZERO_DWELL_MS: i64 = 5_000;
/// Share of an honest audience that leaves at once: a wrong link, a reload.
pub const ORDINARY_NEAR_ZERO: f64 = 0.15;
/// A burst: at least `BURST_SESSIONS` sessions joining within `BURST_WINDOW_MS` of each
/// other, each staying less than `BURST_DWELL_MS`.
pub const BURST_SESSIONS: usize = 20;
pub const BURST_WINDOW_MS: i64 = 10_000;
pub const BURST_DWELL_MS: i64 = 30_000;

fn volume(n: usize) -> f64 {
    (n as f64 / SESSIONS_FOR_FULL_WEIGHT as f64).min(1.0)
}

/// How far `share` is above what is `ordinary`, from 0 (at or below) to 1 (everything).
fn excess(share: f64, ordinary: f64) -> f64 {
    ((share - ordinary) / (1.0 - ordinary)).clamp(0.0, 1.0)
}

/// `k` of `n` as a fraction; none of none is 0.
fn share(k: usize, n: usize) -> f64 {
    if n == 0 {
        0.0
    } else {
        k as f64 / n as f64
    }
}

fn percent(k: usize, n: usize) -> f64 {
    share(k, n) * 100.0
}

/// Sessions that never played video: a socket opened by a script is not a viewer. Scores the
/// share above the ordinary `ORDINARY_NO_PLAY`, scaled by volume (a handful says little).
pub fn sessions_without_playback(sessions: &[ViewerSession]) -> Signal {
    let n = sessions.len();
    let k = sessions.iter().filter(|s| !s.played()).count();
    Signal {
        name: "sessions_without_playback",
        score: excess(share(k, n), ORDINARY_NO_PLAY) * volume(n),
        evidence: format!(
            "{k} of {n} viewer sessions ({:.0}%) never played video; up to {:.0}% is ordinary (autoplay blocked, tabs in the background)",
            percent(k, n),
            ORDINARY_NO_PLAY * 100.0
        ),
    }
}

/// Many sessions joining together and leaving quickly: a swarm started by one script.
/// Scores the share of all sessions that belong to such a burst.
pub fn join_leave_bursts(sessions: &[ViewerSession]) -> Signal {
    let n = sessions.len();
    let mut joins: Vec<i64> = sessions
        .iter()
        .filter(|s| s.dwell_ms() < BURST_DWELL_MS)
        .map(|s| s.joined_at)
        .collect();
    joins.sort_unstable();
    // Slide a window over the short stays in join order; every window of 20+ is part of a
    // burst, and overlapping windows are one burst (index ranges into `joins`).
    let mut bursts: Vec<(usize, usize)> = Vec::new();
    let mut end = 0;
    for start in 0..joins.len() {
        end = end.max(start);
        while end + 1 < joins.len()
            && joins[end + 1].saturating_sub(joins[start]) <= BURST_WINDOW_MS
        {
            end += 1;
        }
        if end + 1 - start >= BURST_SESSIONS {
            match bursts.last_mut() {
                Some((_, last)) if start <= *last => *last = end,
                _ => bursts.push((start, end)),
            }
        }
    }
    let bursts: Vec<(usize, i64)> = bursts
        .into_iter()
        .map(|(first, last)| (last + 1 - first, joins[last].saturating_sub(joins[first])))
        .collect();
    let in_bursts: usize = bursts.iter().map(|(k, _)| k).sum();
    let largest = bursts.iter().max_by_key(|(k, _)| *k);
    Signal {
        name: "join_leave_bursts",
        score: share(in_bursts, n),
        evidence: match largest {
            None => format!(
                "no burst of {BURST_SESSIONS}+ sessions joining within {} s and leaving within {} s ({n} sessions)",
                BURST_WINDOW_MS / 1000,
                BURST_DWELL_MS / 1000
            ),
            Some((k, span)) => format!(
                "{in_bursts} of {n} viewer sessions ({:.0}%) in {} burst(s) of {BURST_SESSIONS}+ joining within {} s and leaving within {} s; the largest: {k} sessions joining within {:.1} s",
                percent(in_bursts, n),
                bursts.len(),
                BURST_WINDOW_MS / 1000,
                BURST_DWELL_MS / 1000,
                *span as f64 / 1000.0
            ),
        },
    }
}

/// Heartbeat intervals steadier than this are a script's (browsers' timers drift by tens of ms).
pub const SCRIPT_JITTER_MS: i64 = 2;
/// Sessions from one network beyond which it is "one address with many sessions".
pub const MANY_PER_NETWORK: usize = 20;

impl ViewerSession {
    /// Claims to watch with nothing delivered: heartbeats, or watch time, and not one media
    /// delivery.
    pub fn claims_without_media(&self) -> bool {
        self.traits.heartbeats >= 2 && self.traits.media_deliveries == 0
    }

    /// Heartbeats with a script's regularity.
    pub fn scripted_cadence(&self) -> bool {
        self.traits.heartbeats >= 4
            && self
                .traits
                .cadence_jitter_ms
                .is_some_and(|j| j <= SCRIPT_JITTER_MS)
    }

    /// A bot by what it showed: it claimed to watch and fetched nothing, or beat like a script.
    pub fn bot(&self) -> bool {
        self.claims_without_media() || self.scripted_cadence()
    }
}

/// The bot signals, each with its figures: sessions with heartbeats and no media, watch time
/// with no media, identical heartbeat cadence, one network with many sessions (audience
/// signals, capped like the others), and `bot_audience`: the share of the audience that is
/// such sessions. That one is evidence about the show itself, like a brushing ring: an
/// audience mostly of bots holds the show for review.
pub fn bot_signals(sessions: &[ViewerSession]) -> Vec<Signal> {
    let n = sessions.len();
    let no_media = sessions.iter().filter(|s| s.claims_without_media()).count();
    let watch_no_media: Vec<&ViewerSession> = sessions
        .iter()
        .filter(|s| s.claims_without_media() && s.played_ms > 0)
        .collect();
    let watched_ms: i64 = watch_no_media.iter().map(|s| s.played_ms).sum();
    let scripted = sessions.iter().filter(|s| s.scripted_cadence()).count();
    let mut per_network: BTreeMap<&str, usize> = BTreeMap::new();
    for s in sessions.iter().filter(|s| !s.traits.network.is_empty()) {
        *per_network.entry(s.traits.network.as_str()).or_default() += 1;
    }
    let crowded: Vec<(&str, usize)> = per_network
        .into_iter()
        .filter(|(_, k)| *k > MANY_PER_NETWORK)
        .collect();
    let in_crowded: usize = crowded.iter().map(|(_, k)| k).sum();
    let largest = crowded.iter().max_by_key(|(_, k)| *k);
    let bots: Vec<&ViewerSession> = sessions.iter().filter(|s| s.bot()).collect();
    let examples = bots
        .iter()
        .take(5)
        .map(|s| match s.account {
            Some(a) => format!("account {a} at {}", s.joined_at),
            None => format!("a guest at {}", s.joined_at),
        })
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        Signal {
            name: "heartbeats_without_media",
            score: share(no_media, n) * volume(n),
            evidence: format!(
                "{no_media} of {n} viewer sessions ({:.0}%) sent heartbeats but were never delivered media",
                percent(no_media, n)
            ),
        },
        Signal {
            name: "watch_time_without_media",
            score: share(watch_no_media.len(), n) * volume(n),
            evidence: format!(
                "{} sessions claimed {:.0} s of watching with no media fetched",
                watch_no_media.len(),
                watched_ms as f64 / 1000.0
            ),
        },
        Signal {
            name: "identical_heartbeat_cadence",
            score: share(scripted, n) * volume(n),
            evidence: format!(
                "{scripted} of {n} viewer sessions ({:.0}%) sent heartbeats at intervals varying by at most {SCRIPT_JITTER_MS} ms",
                percent(scripted, n)
            ),
        },
        Signal {
            name: "sessions_per_network",
            score: share(in_crowded, n) * volume(n),
            evidence: match largest {
                None => format!("no network with more than {MANY_PER_NETWORK} sessions"),
                Some((net, k)) => format!(
                    "{in_crowded} of {n} sessions from {} network(s) with more than {MANY_PER_NETWORK} each; the largest: {k} from {net}",
                    crowded.len()
                ),
            },
        },
        Signal {
            name: "bot_audience",
            score: share(bots.len(), n) * volume(n),
            evidence: if bots.is_empty() {
                format!("no bot sessions among {n}")
            } else {
                format!(
                    "{} of {n} viewer sessions ({:.0}%) are bots (heartbeats without media or a script's cadence), e.g. {examples}",
                    bots.len(),
                    percent(bots.len(), n)
                )
            },
        },
    ]
}

/// Sessions that left almost at once. Scores the share above the ordinary
/// `ORDINARY_NEAR_ZERO`, scaled by volume.
pub fn near_zero_dwell(sessions: &[ViewerSession]) -> Signal {
    let n = sessions.len();
    let k = sessions
        .iter()
        .filter(|s| s.dwell_ms() < NEAR_ZERO_DWELL_MS)
        .count();
    Signal {
        name: "near_zero_dwell",
        score: excess(share(k, n), ORDINARY_NEAR_ZERO) * volume(n),
        evidence: format!(
            "{k} of {n} viewer sessions ({:.0}%) stayed under {} s; up to {:.0}% is ordinary",
            percent(k, n),
            NEAR_ZERO_DWELL_MS / 1000,
            ORDINARY_NEAR_ZERO * 100.0
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn session(joined_at: i64, dwell: i64, played_ms: i64) -> ViewerSession {
        ViewerSession {
            traits: SessionTraits::default(),
            account: None,
            joined_at,
            left_at: joined_at + dwell,
            played_ms,
            counted: played_ms > 0,
        }
    }

    #[test]
    fn audience_signals_count_what_they_say() {
        // 30 viewers over an hour; 40 sockets in two swarms 5 minutes apart, joining 0.4 s
        // apart within a swarm and leaving after 3-11.6 s without playing.
        let mut v: Vec<ViewerSession> = (0..30)
            .map(|i| session(i * 120_000, 600_000, 500_000))
            .collect();
        for swarm in 0..2 {
            for i in 0..20 {
                v.push(session(
                    1_000_000 + swarm * 300_000 + i * 400,
                    3_000 + i * 450,
                    0,
                ));
            }
        }
        let p = sessions_without_playback(&v);
        assert!(
            (p.score - excess(40.0 / 70.0, ORDINARY_NO_PLAY)).abs() < 1e-9,
            "{p:?}"
        );
        assert!(
            p.evidence.starts_with("40 of 70 viewer sessions (57%)"),
            "{p:?}"
        );
        let b = join_leave_bursts(&v);
        assert!((b.score - 40.0 / 70.0).abs() < 1e-9, "{b:?}");
        assert!(
            b.evidence.contains("in 2 burst(s)")
                && b.evidence
                    .contains("the largest: 20 sessions joining within 7.6 s"),
            "{b:?}"
        );
        let z = near_zero_dwell(&v);
        // Dwell 3.0, 3.45, 3.9, 4.35, 4.8 s: five per swarm under 5 s.
        assert!(z.evidence.starts_with("10 of 70"), "{z:?}");
        assert_eq!(z.score, 0.0, "14% is ordinary");

        // Nineteen together is no burst, nor twenty spread over more than 10 s.
        let few: Vec<ViewerSession> = (0..19).map(|i| session(i * 100, 1_000, 0)).collect();
        assert_eq!(join_leave_bursts(&few).score, 0.0);
        let spread: Vec<ViewerSession> = (0..20).map(|i| session(i * 600, 1_000, 0)).collect();
        assert_eq!(join_leave_bursts(&spread).score, 0.0);
        // Twenty together who stay are an audience arriving for the start, not a burst.
        let arrive: Vec<ViewerSession> = (0..40).map(|i| session(i * 100, 60_000, 0)).collect();
        assert_eq!(join_leave_bursts(&arrive).score, 0.0);
        // A handful of sockets says little.
        let handful: Vec<ViewerSession> = (0..5).map(|i| session(i, 1_000, 0)).collect();
        assert!((sessions_without_playback(&handful).score - 0.1).abs() < 1e-9);
        assert_eq!(sessions_without_playback(&[]).score, 0.0);
    }

    #[test]
    fn a_brushing_ring_stands_out() {
        // Ten honest buyers with one order each; a ring of five accounts with eight each,
        // sharing two devices and one card.
        let mut orders: Vec<(i64, u32)> = (1..=10).map(|b| (b, 1)).collect();
        orders.extend((100..105).map(|b| (b, 8)));
        let c = concentration(&orders, 5);
        assert!(c.score > 0.79, "{c:?}");
        assert!(concentration(&(1..=50).map(|b| (b, 1)).collect::<Vec<_>>(), 5).score < 0.11);

        let mut attrs = Vec::new();
        for a in 100..105 {
            attrs.push((a, LinkKind::PaymentInstrument, "card-77".to_string()));
            attrs.push((a, LinkKind::Device, format!("device-{}", a % 2)));
        }
        // Two honest neighbours on the same campus network.
        attrs.push((1, LinkKind::Network, "10.0.0.0/24".into()));
        attrs.push((2, LinkKind::Network, "10.0.0.0/24".into()));
        let groups = linked_groups(&attrs, &Popularity::new());
        assert_eq!(groups[0].accounts, vec![100, 101, 102, 103, 104]);
        assert_eq!(groups[0].dense_core, vec![100, 101, 102, 103, 104]);
        assert!(groups[0].density > groups[1].density * 5.0, "{groups:?}");

        let chat: Vec<(i64, &str)> = (100..105)
            .map(|a| (a, "Best host ever!!"))
            .chain([(1, "is it ripe?"), (2, "how much shipping")])
            .collect();
        let h = chat_homogeneity(&chat, 3);
        assert!((h.score - 5.0 / 7.0).abs() < 1e-9, "{h:?}");
    }

    proptest! {
        /// The peeled core is never less dense than the whole graph, and a planted clique of
        /// heavy links in a sparse random graph is found.
        #[test]
        fn peeling_finds_the_planted_clique(
            noise in prop::collection::vec((0i64..200, 0i64..200), 0..300),
            clique in 4usize..9,
        ) {
            let mut edges: Vec<(i64, i64, f64)> = noise.iter().map(|(a, b)| (*a, *b, 0.3)).collect();
            let members: Vec<i64> = (1000..1000 + clique as i64).collect();
            for i in 0..members.len() {
                for j in i + 1..members.len() {
                    edges.push((members[i], members[j], 1.0));
                }
            }
            let (core, density) = densest(&edges);
            let all: BTreeSet<i64> = edges.iter().filter(|(a, b, _)| a != b).flat_map(|(a, b, _)| [*a, *b]).collect();
            let whole: f64 = edges.iter().filter(|(a, b, _)| a != b).map(|(_, _, w)| w).sum::<f64>() / all.len() as f64;
            prop_assert!(density + 1e-9 >= whole);
            let found = members.iter().filter(|m| core.contains(m)).count();
            prop_assert!(found * 2 >= members.len(), "core {core:?}");
        }
    }
}
