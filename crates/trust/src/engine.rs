//! The risk engine: one show's orders, the attributes its buyers and insiders share, its chat,
//! its refunds and its viewer sessions in, an explainable assessment out — each signal with its
//! score and the evidence, the orders to hold individually, and whether the whole show's
//! earnings are held.

pub use crate::risk::Popularity;
pub use crate::risk::SessionTraits;
pub use crate::risk::ViewerSession;
use crate::risk::{
    bot_signals, chat_homogeneity, concentration, join_leave_bursts, linked_groups,
    near_zero_dwell, rarity, sessions_without_playback, LinkKind, Signal,
};

/// A link to an insider this strong flags the buyer's orders: a device, a card or an address
/// of their own; a shared network (0.3) never does.
const FLAG_LINK: f64 = 0.5;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowOrder {
    pub order: i64,
    pub buyer: i64,
    pub amount_minor: i64,
    /// Cancelled, refunded or returned (ms), if it was.
    pub undone_at: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ShowEvidence {
    pub orders: Vec<ShowOrder>,
    /// Device, instrument, address and network of buyers and insiders (hashed values).
    pub attrs: Vec<(i64, LinkKind, String)>,
    /// The host, the seller's staff and the host's agency: buyers linked to them are suspect.
    pub insiders: BTreeSet<i64>,
    pub chat: Vec<(i64, String)>,
    pub ended_at: Option<i64>,
    /// Undone this soon after the end counts as "refund after the show".
    pub refund_window_ms: i64,
    /// A paid slot's return cap, if the show has one.
    pub return_cap_bps: Option<u32>,
    /// The audience: every connection's stay while the show was live.
    pub sessions: Vec<ViewerSession>,
    /// How many accounts on the platform share each attribute value (`risk::rarity`).
    pub popularity: Popularity,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlaggedOrder {
    pub order: i64,
    pub buyer: i64,
    pub why: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// Noisy-OR of the weighted signal scores, in [0, 1]; the audience signals together count
    /// for at most `AUDIENCE_CAP`.
    pub score: f64,
    pub signals: Vec<Signal>,
    pub flagged: Vec<FlaggedOrder>,
    pub hold: bool,
}

/// How much each signal alone says about fake sales.
fn weight(name: &str) -> f64 {
    match name {
        "linked_to_insiders" => 1.0,
        "dense_buyer_ring" => 0.9,
        "refunds_after_show" => 0.7,
        "return_rate_over_cap" => 0.6,
        "chat_homogeneity" => 0.6,
        // Faked audiences, not faked sales.
        "sessions_without_playback" => 0.5,
        "join_leave_bursts" => 0.5,
        "near_zero_dwell" => 0.4,
        "heartbeats_without_media" => 0.5,
        "watch_time_without_media" => 0.5,
        "identical_heartbeat_cadence" => 0.5,
        "sessions_per_network" => 0.3,
        // An audience mostly of bots is evidence about the show, as a ring of buyers is.
        "bot_audience" => 1.0,
        _ => 0.5, // order_concentration: big buyers exist
    }
}

/// The signals about the audience rather than the sales.
const AUDIENCE: [&str; 7] = [
    "sessions_without_playback",
    "join_leave_bursts",
    "near_zero_dwell",
    "heartbeats_without_media",
    "watch_time_without_media",
    "identical_heartbeat_cadence",
    "sessions_per_network",
];

/// The most the audience signals together add to the score. Sockets cost nothing, and anyone
/// can open them to a rival's room (an audience that is *mostly* sessions which claimed to
/// watch and fetched nothing is the exception, `bot_audience`: held for review, as a ring is): they may tip evidence about the sales over the hold line,
/// never hold a show's earnings alone (the default hold score is 0.6).
pub const AUDIENCE_CAP: f64 = 0.5;

pub fn assess(e: &ShowEvidence, hold_score: f64) -> Assessment {
    let mut signals = Vec::new();
    let mut flagged: BTreeMap<i64, FlaggedOrder> = BTreeMap::new();
    let buyers: BTreeSet<i64> = e.orders.iter().map(|o| o.buyer).collect();
    let total = e.orders.len();
    let total_amount: i64 = e.orders.iter().map(|o| o.amount_minor).sum();
    let share_of = |set: &BTreeSet<i64>| -> f64 {
        let a: i64 = e
            .orders
            .iter()
            .filter(|o| set.contains(&o.buyer))
            .map(|o| o.amount_minor)
            .sum();
        if total_amount == 0 {
            0.0
        } else {
            a as f64 / total_amount as f64
        }
    };

    // Few buyers, many orders. A show with few orders says little: scaled by volume.
    let mut per_buyer: BTreeMap<i64, u32> = BTreeMap::new();
    for o in &e.orders {
        *per_buyer.entry(o.buyer).or_default() += 1;
    }
    let mut c = concentration(&per_buyer.into_iter().collect::<Vec<_>>(), 3);
    c.score *= (total as f64 / 10.0).min(1.0);
    signals.push(c);

    // Linked groups over buyers and insiders.
    let relevant: Vec<(i64, LinkKind, String)> = e
        .attrs
        .iter()
        .filter(|(a, _, _)| buyers.contains(a) || e.insiders.contains(a))
        .cloned()
        .collect();
    let mut ring = BTreeSet::new();
    let mut ring_ev = Vec::new();
    // Insiders: each buyer's strongest direct link to an insider, weighted by what is shared
    // and how rare it is on the platform. A network alone (a village, an office, a carrier's
    // NAT) weighs 0.3 at most: it can tip other evidence, never hold a show or flag an order.
    let mut insider_values: BTreeMap<(LinkKind, &str), BTreeSet<i64>> = BTreeMap::new();
    for (a, k, v) in relevant.iter().filter(|(a, _, _)| e.insiders.contains(a)) {
        insider_values
            .entry((*k, v.as_str()))
            .or_default()
            .insert(*a);
    }
    let mut insider_link: BTreeMap<i64, (f64, LinkKind, BTreeSet<i64>)> = BTreeMap::new();
    for (a, k, v) in relevant
        .iter()
        .filter(|(a, _, _)| buyers.contains(a) && !e.insiders.contains(a))
    {
        let Some(ins) = insider_values.get(&(*k, v.as_str())) else {
            continue;
        };
        let w = k.weight() * rarity(&e.popularity, *k, v);
        if w <= 0.0 {
            continue;
        }
        let entry = insider_link.entry(*a).or_insert((0.0, *k, BTreeSet::new()));
        entry.2.extend(ins.iter().copied());
        if w > entry.0 {
            (entry.0, entry.1) = (w, *k);
        }
    }
    let insider_linked: BTreeSet<i64> = insider_link
        .iter()
        .filter(|(_, (w, _, _))| *w >= FLAG_LINK)
        .map(|(b, _)| *b)
        .collect();
    let insider_ev: Vec<String> = insider_link
        .iter()
        .map(|(b, (w, k, ins))| {
            format!("buyer {b} shares a {k:?} with insiders {ins:?} (weight {w:.2})")
        })
        .collect();
    let insider_score = if total_amount == 0 {
        0.0
    } else {
        e.orders
            .iter()
            .map(|o| o.amount_minor as f64 * insider_link.get(&o.buyer).map_or(0.0, |l| l.0))
            .sum::<f64>()
            / total_amount as f64
    };
    // Rings only on what one person holds (a device, a card, a door): a village or a campus
    // shares a network.
    let strong: Vec<(i64, LinkKind, String)> = relevant
        .iter()
        .filter(|(_, k, _)| *k != LinkKind::Network)
        .cloned()
        .collect();
    let strong_groups = linked_groups(&strong, &e.popularity);
    for g in &strong_groups {
        let gb: BTreeSet<i64> = g
            .accounts
            .iter()
            .copied()
            .filter(|a| buyers.contains(a) && !e.insiders.contains(a))
            .collect();
        let shared = g
            .shared
            .iter()
            .map(|(k, n)| format!("{n} {k:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        // A dense core of three or more buyers who share instruments or devices.
        let core: BTreeSet<i64> = g
            .dense_core
            .iter()
            .copied()
            .filter(|a| gb.contains(a))
            .collect();
        if core.len() >= 3 && g.density >= 0.5 {
            ring_ev.push(format!(
                "{} buyers {core:?} densely linked (density {:.2}; {shared})",
                core.len(),
                g.density
            ));
            ring.extend(core);
        }
    }
    signals.push(Signal {
        name: "linked_to_insiders",
        score: insider_score,
        evidence: if insider_ev.is_empty() {
            "no buyer shares a device, instrument, address or network with the host, the seller's staff or an agency".into()
        } else {
            insider_ev.join("; ")
        },
    });
    signals.push(Signal {
        name: "dense_buyer_ring",
        score: share_of(&ring),
        evidence: if ring_ev.is_empty() {
            "no dense group of linked buyers".into()
        } else {
            ring_ev.join("; ")
        },
    });
    for o in &e.orders {
        if insider_linked.contains(&o.buyer) {
            flagged.insert(
                o.order,
                FlaggedOrder {
                    order: o.order,
                    buyer: o.buyer,
                    why: "buyer linked to an insider".into(),
                },
            );
        } else if ring.contains(&o.buyer) {
            flagged.insert(
                o.order,
                FlaggedOrder {
                    order: o.order,
                    buyer: o.buyer,
                    why: "buyer in a dense ring of linked accounts".into(),
                },
            );
        }
    }

    // Undone soon after the show: orders placed for the figures, then taken back.
    let undone: Vec<&ShowOrder> = e.orders.iter().filter(|o| o.undone_at.is_some()).collect();
    let soon = e.ended_at.map_or(0, |end| {
        undone
            .iter()
            .filter(|o| {
                o.undone_at
                    .is_some_and(|t| t >= end && t - end <= e.refund_window_ms)
            })
            .count()
    });
    signals.push(Signal {
        name: "refunds_after_show",
        score: if total == 0 {
            0.0
        } else {
            soon as f64 / total as f64 * (total as f64 / 10.0).min(1.0)
        },
        evidence: format!(
            "{soon} of {total} orders cancelled or returned within {} h after the show ended",
            e.refund_window_ms / 3_600_000
        ),
    });
    if let Some(cap) = e.return_cap_bps {
        let rate = if total == 0 {
            0.0
        } else {
            undone.len() as f64 / total as f64
        };
        let cap = cap as f64 / 10_000.0;
        signals.push(Signal {
            name: "return_rate_over_cap",
            score: if rate > cap {
                ((rate - cap) / (1.0 - cap).max(0.01)).min(1.0)
            } else {
                0.0
            },
            evidence: format!(
                "return rate {:.0}% against a contract cap of {:.0}%",
                rate * 100.0,
                cap * 100.0
            ),
        });
    }
    let chat: Vec<(i64, &str)> = e.chat.iter().map(|(a, t)| (*a, t.as_str())).collect();
    let mut h = chat_homogeneity(&chat, 3);
    h.score *= (chat.len() as f64 / 10.0).min(1.0);
    signals.push(h);

    // The audience: sockets that never play, swarms that come and go, stays of a moment.
    signals.push(sessions_without_playback(&e.sessions));
    signals.push(join_leave_bursts(&e.sessions));
    signals.push(near_zero_dwell(&e.sessions));
    // What the sessions showed about themselves: heartbeats and watch time without media,
    // a script's cadence, many sessions from one network, and the bots' share of it all.
    signals.extend(bot_signals(&e.sessions));

    let unexplained = |audience: bool| {
        signals
            .iter()
            .filter(|s| AUDIENCE.contains(&s.name) == audience)
            .map(|s| 1.0 - (s.score.clamp(0.0, 1.0) * weight(s.name)))
            .product::<f64>()
    };
    let score = 1.0 - unexplained(false) * unexplained(true).max(1.0 - AUDIENCE_CAP);
    Assessment {
        score,
        hold: score >= hold_score,
        signals,
        flagged: flagged.into_values().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn order(order: i64, buyer: i64) -> ShowOrder {
        ShowOrder {
            order,
            buyer,
            amount_minor: 1_000,
            undone_at: None,
        }
    }

    /// Four honest buyers, each with their own device, card and address, on the host's /24
    /// (a carrier's NAT, an office, a village): a shared network alone holds nothing and flags
    /// no order.
    #[test]
    fn buyers_on_the_hosts_network_alone_are_not_held() {
        let host = 900;
        let mut attrs: Vec<(i64, LinkKind, String)> = (1..=4)
            .flat_map(|b| {
                [
                    (b, LinkKind::Device, format!("dev-{b}")),
                    (b, LinkKind::PaymentInstrument, format!("card-{b}")),
                    (b, LinkKind::ShippingAddress, format!("door-{b}")),
                    (b, LinkKind::Network, "203.0.113.0/24".to_string()),
                ]
            })
            .collect();
        attrs.push((host, LinkKind::Network, "203.0.113.0/24".into()));
        attrs.push((host, LinkKind::Device, "dev-host".into()));
        let e = ShowEvidence {
            orders: (1..=4).map(|b| order(b, b)).collect(),
            attrs,
            insiders: [host].into(),
            ended_at: Some(0),
            refund_window_ms: 48 * 3_600_000,
            ..Default::default()
        };
        let a = assess(&e, 0.6);
        assert!(!a.hold, "{a:?}");
        assert!(a.flagged.is_empty(), "{a:?}");
        let insiders = signal(&a, "linked_to_insiders");
        assert!(insiders.score <= 0.3 + 1e-9, "{insiders:?}");
        assert!(insiders.evidence.contains("Network"), "{insiders:?}");
        // The same buyers holding the host's own device are another matter.
        let mut shared_phone = e.clone();
        shared_phone
            .attrs
            .extend((1..=4).map(|b| (b, LinkKind::Device, "dev-host".to_string())));
        let a = assess(&shared_phone, 0.6);
        assert!(a.hold && a.flagged.len() == 4, "{a:?}");
    }

    /// Four buyers paying with the payment sandbox's documented test card (or a wallet's
    /// pooled token): a value everyone shares links nobody; a card four accounts share that
    /// nobody else holds still rings.
    #[test]
    fn a_card_that_everyone_shares_makes_no_ring() {
        let card = "4242424242424242".to_string();
        let e = ShowEvidence {
            orders: (1..=4)
                .flat_map(|b| (0..3).map(move |k| order(b * 10 + k, b)))
                .collect(),
            attrs: (1..=4)
                .flat_map(|b| {
                    [
                        (b, LinkKind::Device, format!("dev-{b}")),
                        (b, LinkKind::PaymentInstrument, card.clone()),
                    ]
                })
                .collect(),
            insiders: [900].into(),
            ended_at: Some(0),
            refund_window_ms: 48 * 3_600_000,
            popularity: [((LinkKind::PaymentInstrument, card.clone()), u64::MAX)].into(),
            ..Default::default()
        };
        let a = assess(&e, 0.6);
        assert_eq!(signal(&a, "dense_buyer_ring").score, 0.0, "{a:?}");
        assert!(!a.hold && a.flagged.is_empty(), "{a:?}");
        // Seen with thousands of accounts on the platform: weak, no ring either.
        let common = ShowEvidence {
            popularity: [((LinkKind::PaymentInstrument, card.clone()), 5_000)].into(),
            ..e.clone()
        };
        assert_eq!(signal(&assess(&common, 0.6), "dense_buyer_ring").score, 0.0);
        // A card only these four hold: a ring.
        let rare = ShowEvidence {
            popularity: Popularity::new(),
            ..e
        };
        assert!(signal(&assess(&rare, 0.6), "dense_buyer_ring").score > 0.9);
    }

    /// The demo's two shows in miniature: twenty strangers buying once, and a ring of six
    /// accounts on two phones and one card buying over and over, praising in chorus and
    /// returning after the show.
    #[test]
    fn honest_and_brushed_shows_are_told_apart() {
        let honest = ShowEvidence {
            orders: (1..=20).map(|b| order(b, b)).collect(),
            attrs: (1..=20)
                .map(|b| (b, LinkKind::Device, format!("dev-{b}")))
                .chain((1..=20).map(|b| (b, LinkKind::Network, "village-net".into())))
                .collect(),
            insiders: [900].into(),
            chat: (1..=20)
                .map(|b| (b, format!("question {b} about size")))
                .collect(),
            ended_at: Some(0),
            refund_window_ms: 48 * 3_600_000,
            return_cap_bps: Some(2_000),
            sessions: Vec::new(),
            popularity: Popularity::new(),
        };
        let a = assess(&honest, 0.6);
        assert!(!a.hold && a.score < 0.3, "{a:?}");
        assert!(a.flagged.is_empty());

        let mut ring = honest.clone();
        let mut id = 100;
        for b in 100..106 {
            for _ in 0..6 {
                let mut o = order(id, b);
                o.undone_at = Some(3_600_000);
                ring.orders.push(o);
                id += 1;
            }
            ring.attrs
                .push((b, LinkKind::PaymentInstrument, "card-1".into()));
            ring.attrs
                .push((b, LinkKind::Device, format!("phone-{}", b % 2)));
            ring.chat.push((b, "Best host ever!!".into()));
        }
        // One ring member shipped to the host's address.
        ring.attrs
            .push((100, LinkKind::ShippingAddress, "addr-host".into()));
        ring.attrs
            .push((900, LinkKind::ShippingAddress, "addr-host".into()));
        let b = assess(&ring, 0.6);
        assert!(b.hold && b.score > 0.8, "{b:?}");
        assert_eq!(b.flagged.len(), 36);
        assert!(b.flagged.iter().all(|f| f.buyer >= 100));
        let ins = b
            .signals
            .iter()
            .find(|s| s.name == "linked_to_insiders")
            .unwrap();
        assert!(ins.evidence.contains("900"), "{ins:?}");
    }

    fn signal<'a>(a: &'a Assessment, name: &str) -> &'a Signal {
        a.signals.iter().find(|s| s.name == name).unwrap()
    }

    /// Viewbots as a seller runs them: sockets that send heartbeats with advancing positions,
    /// on a script's timer, and never fetch a playlist or a part.
    #[test]
    fn an_audience_mostly_of_bots_holds_the_show_and_names_them() {
        let real = |i: i64| ViewerSession {
            account: Some(i),
            joined_at: i * 1_000,
            left_at: i * 1_000 + 600_000,
            played_ms: 590_000,
            counted: true,
            traits: SessionTraits {
                network: format!("10.{i}.0.0/24"),
                media_deliveries: 590,
                heartbeats: 120,
                cadence_jitter_ms: Some(38),
            },
        };
        let bot = |i: i64| ViewerSession {
            account: None,
            joined_at: 5_000 + i * 10,
            left_at: 5_000 + i * 10 + 600_000,
            played_ms: 600_000,
            counted: false,
            traits: SessionTraits {
                network: "203.0.113.0/24".into(),
                media_deliveries: 0,
                heartbeats: 120,
                cadence_jitter_ms: Some(0),
            },
        };
        let mostly_bots = ShowEvidence {
            sessions: (0..20).map(real).chain((0..60).map(bot)).collect(),
            ..Default::default()
        };
        let a = assess(&mostly_bots, 0.6);
        assert!(a.hold, "{a:?}");
        let b = signal(&a, "bot_audience");
        assert!(b.score >= 0.74, "{b:?}");
        assert!(
            b.evidence
                .starts_with("60 of 80 viewer sessions (75%) are bots")
                && b.evidence.contains("a guest at 5000"),
            "{b:?}"
        );
        assert!(signal(&a, "heartbeats_without_media")
            .evidence
            .starts_with("60 of 80"));
        assert!(signal(&a, "identical_heartbeat_cadence")
            .evidence
            .starts_with("60 of 80"));
        assert!(signal(&a, "sessions_per_network")
            .evidence
            .contains("60 from 203.0.113.0/24"));
        assert!(signal(&a, "watch_time_without_media")
            .evidence
            .starts_with("60 sessions claimed 36000 s"));
        // A few bots among many real viewers say something, and hold nothing.
        let few = ShowEvidence {
            sessions: (0..70).map(real).chain((0..10).map(bot)).collect(),
            ..Default::default()
        };
        let a = assess(&few, 0.6);
        assert!(!a.hold && a.score < 0.6, "{a:?}");
        // Sessions recorded before the room reported deliveries (all zeros) are no bots.
        let old = ShowEvidence {
            sessions: (0..80)
                .map(|i| ViewerSession {
                    traits: SessionTraits::default(),
                    ..real(i)
                })
                .collect(),
            ..Default::default()
        };
        assert_eq!(signal(&assess(&old, 0.6), "bot_audience").score, 0.0);
    }

    /// An honest audience — viewers who play and stay, a few whose autoplay was blocked, a few
    /// who leave at once — against the same audience joined by a swarm of sockets that come in
    /// waves, never play and leave within seconds.
    #[test]
    fn an_honest_audience_and_a_bot_swarm_are_told_apart() {
        let mut audience: Vec<ViewerSession> = (0..80)
            .map(|i| ViewerSession {
                account: Some(i),
                joined_at: i * 30_000,
                left_at: i * 30_000 + 900_000,
                played_ms: 850_000,
                counted: true,
                traits: SessionTraits::default(),
            })
            .collect();
        for v in &mut audience[..12] {
            (v.played_ms, v.counted) = (0, false);
        }
        for v in &mut audience[70..76] {
            v.left_at = v.joined_at + 3_000;
        }
        let honest = ShowEvidence {
            sessions: audience,
            ..Default::default()
        };
        let a = assess(&honest, 0.6);
        for name in AUDIENCE {
            assert_eq!(signal(&a, name).score, 0.0, "{a:?}");
        }
        assert!(a.score < 1e-9 && !a.hold, "{a:?}");
        assert!(
            signal(&a, "sessions_without_playback")
                .evidence
                .starts_with("12 of 80 viewer sessions (15%) never played"),
            "{a:?}"
        );

        // Ten waves of thirty guest sockets, each wave within 3 s, staying 1-9.7 s.
        let mut swarm = honest.clone();
        for wave in 0..10 {
            for i in 0..30 {
                let joined_at = 100_000 + wave * 240_000 + i * 100;
                swarm.sessions.push(ViewerSession {
                    account: None,
                    joined_at,
                    left_at: joined_at + 1_000 + (i * 300) % 9_000,
                    played_ms: 0,
                    counted: false,
                    traits: SessionTraits::default(),
                });
            }
        }
        let b = assess(&swarm, 0.6);
        let p = signal(&b, "sessions_without_playback");
        assert!(p.score > 0.7, "{p:?}");
        assert!(p.evidence.starts_with("312 of 380"), "{p:?}");
        let j = signal(&b, "join_leave_bursts");
        assert!((j.score - 300.0 / 380.0).abs() < 1e-9, "{j:?}");
        assert!(j.evidence.contains("10 burst(s)"), "{j:?}");
        let z = signal(&b, "near_zero_dwell");
        assert!(z.score > 0.2, "{z:?}");
        assert!(z.evidence.starts_with("146 of 380"), "{z:?}");
        // Sockets alone never hold a show's earnings, and flag no order.
        assert!((b.score - AUDIENCE_CAP).abs() < 1e-9 && !b.hold, "{b:?}");
        assert!(b.flagged.is_empty());

        // With doubtful sales — 8 of 20 orders taken back the morning after — they tip it.
        let mut sales = ShowEvidence {
            orders: (1..=20).map(|b| order(b, b)).collect(),
            ended_at: Some(0),
            refund_window_ms: 48 * 3_600_000,
            ..Default::default()
        };
        for o in &mut sales.orders[..8] {
            o.undone_at = Some(8 * 3_600_000);
        }
        let c = assess(&sales, 0.6);
        assert!(!c.hold && c.score < 0.4, "{c:?}");
        sales.sessions = swarm.sessions.clone();
        let d = assess(&sales, 0.6);
        assert!(d.hold && d.score > 0.6, "{d:?}");
    }

    proptest! {
        /// Scores stay in [0, 1] and only buyers of the show are ever flagged; the audience
        /// flags no order, only adds to the score, and alone stays under its cap.
        #[test]
        fn scores_are_bounded(
            orders in prop::collection::vec((0i64..30, 0i64..5_000, prop::option::of(0i64..200_000_000)), 0..60),
            attrs in prop::collection::vec((0i64..40, 0u8..4, 0u8..6), 0..80),
            chat in prop::collection::vec((0i64..40, "[a-c ]{0,6}"), 0..40),
            sessions in prop::collection::vec((-1_000i64..60_000, -1_000i64..60_000, -10i64..30_000, any::<bool>(), prop::option::of(0i64..40)), 0..150),
        ) {
            let mut e = ShowEvidence {
                orders: orders.iter().enumerate().map(|(i, (b, a, u))| ShowOrder { order: i as i64, buyer: *b, amount_minor: *a, undone_at: *u }).collect(),
                attrs: attrs.iter().map(|(a, k, v)| (*a, [LinkKind::Device, LinkKind::PaymentInstrument, LinkKind::ShippingAddress, LinkKind::Network][*k as usize], v.to_string())).collect(),
                insiders: [35, 36].into(),
                chat: chat.clone(),
                ended_at: Some(0),
                refund_window_ms: 48 * 3_600_000,
                return_cap_bps: Some(1_000),
                sessions: Vec::new(),
                popularity: Popularity::new(),
            };
            let without = assess(&e, 0.6);
            e.sessions = sessions.iter().map(|(j, l, p, c, a)| ViewerSession { account: *a, joined_at: *j, left_at: *l, played_ms: *p, counted: *c, traits: SessionTraits::default() }).collect();
            let a = assess(&e, 0.6);
            prop_assert!((0.0..=1.0).contains(&a.score));
            prop_assert!(a.signals.iter().all(|s| (0.0..=1.0 + 1e-9).contains(&s.score)));
            let buyers: BTreeSet<i64> = e.orders.iter().map(|o| o.buyer).collect();
            prop_assert!(a.flagged.iter().all(|f| buyers.contains(&f.buyer) && !e.insiders.contains(&f.buyer)));
            prop_assert_eq!(&a.flagged, &without.flagged);
            prop_assert!(a.score + 1e-12 >= without.score);
            let audience_only = assess(&ShowEvidence { sessions: e.sessions.clone(), ..Default::default() }, 0.6);
            prop_assert!(audience_only.score <= AUDIENCE_CAP + 1e-9 && !audience_only.hold);
        }
    }
}
