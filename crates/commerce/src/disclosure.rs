//! Honesty of what is shown: paid promotion labelled on the product card and repeated in the
//! room, the host's statement of having used a product (or its absence), virtual hosts.
//!
//! A product in a show's showcase is paid promotion when any of these holds: a paid slot of
//! that show books it, the showcase entry is marked sponsored, or the product itself is. The
//! label's wording and how often the room repeats it come from the law profile: `eu`/`us`
//! "Ad · paid partnership", repeated every 5 minutes while pinned; `cn` "广告", kept on the
//! card for as long as it is shown (no repeat needed).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DisclosureRules {
    /// The paid-promotion label, as shown on the card and announced in the room.
    pub paid_label: String,
    /// While a paid product is pinned the room repeats the label this often (seconds);
    /// 0: the label stays on the card and is not repeated.
    pub paid_label_repeat_s: u32,
}

impl Default for DisclosureRules {
    fn default() -> Self {
        DisclosureRules::eu()
    }
}

/// The label's default text under `eu` and `us`.
pub const AD_LABEL_EN: &str = "Ad · paid partnership";
/// The label's default text under `cn`.
pub const AD_LABEL_CN: &str = "广告";
/// The card's line when the host has stated having used the product.
pub const HOST_USED: &str = "The host states having used this product";
/// The card's line when the host has not.
pub const HOST_NOT_STATED: &str = "The host has not stated having used this product";
/// The card's line while a co-host who has stated having used the product is on air.
pub const CO_HOST_USED: &str = "The co-host states having used this product";
/// The card's line while a co-host who has not is on air.
pub const CO_HOST_NOT_STATED: &str = "The co-host has not stated having used this product";
/// Shown beside a virtual or AI host's name.
pub const VIRTUAL_HOST_LABEL: &str = "Virtual host (AI)";

impl DisclosureRules {
    pub fn eu() -> Self {
        DisclosureRules {
            paid_label: AD_LABEL_EN.into(),
            paid_label_repeat_s: 300,
        }
    }
    pub fn us() -> Self {
        DisclosureRules::eu()
    }
    pub fn cn() -> Self {
        DisclosureRules {
            paid_label: AD_LABEL_CN.into(),
            paid_label_repeat_s: 0,
        }
    }

    /// Whether the room repeats the label at all.
    pub fn repeats(&self) -> bool {
        self.paid_label_repeat_s > 0
    }

    pub fn repeat_ms(&self) -> i64 {
        self.paid_label_repeat_s as i64 * 1_000
    }

    /// Is the label due again for a paid product pinned now, last announced at `last_ms`?
    /// Never when the profile does not repeat; at once when never announced.
    pub fn repeat_due(&self, last_ms: Option<i64>, now_ms: i64) -> bool {
        self.repeats() && last_ms.is_none_or(|t| now_ms.saturating_sub(t) >= self.repeat_ms())
    }

    /// What the card says about `facts`.
    pub fn card(&self, facts: &ShowcaseFacts) -> CardDisclosure {
        let paid = facts.is_paid();
        CardDisclosure {
            paid_promotion: paid,
            label: paid.then(|| self.paid_label.clone()),
            label_repeats: paid && self.repeats(),
            host_used: facts.host_used,
            attestation: if facts.host_used {
                HOST_USED
            } else {
                HOST_NOT_STATED
            }
            .to_string(),
            co_host_used: facts.co_host_used,
            co_host_attestation: facts.co_host_used.map(|used| {
                if used {
                    CO_HOST_USED
                } else {
                    CO_HOST_NOT_STATED
                }
                .to_string()
            }),
        }
    }

    /// The room announcement repeating the label for a pinned paid product.
    pub fn announcement(&self, title: &str, seller: &str) -> String {
        format!("{}: {title} (sold by {seller})", self.paid_label)
    }
}

/// What is known about one showcase entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShowcaseFacts {
    /// A paid slot of this show books the product (any state but cancelled).
    pub paid_slot: bool,
    /// The host or merchant marked the showcase entry sponsored.
    pub sponsored_entry: bool,
    /// The product is marked sponsored wherever it is shown.
    pub sponsored_product: bool,
    /// The host stated having used the product.
    pub host_used: bool,
    /// While a co-host is on air: whether they, in their own words, stated having used it.
    pub co_host_used: Option<bool>,
}

impl ShowcaseFacts {
    pub fn is_paid(&self) -> bool {
        self.paid_slot || self.sponsored_entry || self.sponsored_product
    }
}

/// What the product card and the showcase JSON carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardDisclosure {
    pub paid_promotion: bool,
    /// The law profile's label, only for paid promotion.
    pub label: Option<String>,
    /// The room repeats the label while the product is pinned (`eu`/`us`); otherwise it stays
    /// on the card only.
    pub label_repeats: bool,
    pub host_used: bool,
    /// The host's statement, or the line saying there is none.
    pub attestation: String,
    /// While a co-host is on air: their own statement (never the host's on their behalf).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub co_host_used: Option<bool>,
    /// The co-host's statement, or the line saying there is none; only while one is on air.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub co_host_attestation: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn labels_per_profile() {
        let paid = ShowcaseFacts {
            paid_slot: true,
            ..Default::default()
        };
        let eu = DisclosureRules::eu().card(&paid);
        assert!(eu.paid_promotion && eu.label_repeats);
        assert_eq!(eu.label.as_deref(), Some("Ad · paid partnership"));
        assert_eq!(eu.attestation, HOST_NOT_STATED);
        let cn = DisclosureRules::cn().card(&paid);
        assert_eq!(cn.label.as_deref(), Some("广告"));
        assert!(!cn.label_repeats, "cn keeps the label on the card instead");
        let honest = DisclosureRules::eu().card(&ShowcaseFacts {
            host_used: true,
            ..Default::default()
        });
        assert!(!honest.paid_promotion && honest.label.is_none());
        assert_eq!(honest.attestation, HOST_USED);
        assert!(
            honest.co_host_attestation.is_none(),
            "no co-host on air, no line"
        );
        let guest = DisclosureRules::eu().card(&ShowcaseFacts {
            host_used: true,
            co_host_used: Some(false),
            ..Default::default()
        });
        assert_eq!(guest.attestation, HOST_USED);
        assert_eq!(
            guest.co_host_attestation.as_deref(),
            Some(CO_HOST_NOT_STATED)
        );
    }

    #[test]
    fn repeat_schedule() {
        let eu = DisclosureRules::eu();
        assert!(eu.repeat_due(None, 0));
        assert!(!eu.repeat_due(Some(1_000), 1_000 + 299_999));
        assert!(eu.repeat_due(Some(1_000), 1_000 + 300_000));
        assert!(!DisclosureRules::cn().repeat_due(None, 0));
    }

    proptest! {
        /// Any one reason to call it paid makes it paid and labelled; none leaves it unlabelled.
        #[test]
        fn paid_iff_any_reason(slot: bool, entry: bool, product: bool, used: bool, guest: Option<bool>) {
            let facts = ShowcaseFacts { paid_slot: slot, sponsored_entry: entry, sponsored_product: product, host_used: used, co_host_used: guest };
            for rules in [DisclosureRules::eu(), DisclosureRules::us(), DisclosureRules::cn()] {
                let c = rules.card(&facts);
                prop_assert_eq!(c.paid_promotion, slot || entry || product);
                prop_assert_eq!(c.label.is_some(), c.paid_promotion);
                prop_assert_eq!(c.attestation == HOST_USED, used);
                // Each speaks for themselves: the guest's line follows the guest alone.
                prop_assert_eq!(c.co_host_attestation.as_deref() == Some(CO_HOST_USED), guest == Some(true));
                prop_assert_eq!(c.co_host_attestation.is_some(), guest.is_some());
            }
        }

        /// Announcements are at least the interval apart, and never late by a tick.
        #[test]
        fn repeats_never_closer_than_the_interval(secs in 1u32..600, ticks in proptest::collection::vec(1i64..120_000, 1..50)) {
            let rules = DisclosureRules { paid_label: "Ad".into(), paid_label_repeat_s: secs };
            let mut last = None;
            let mut now = 0i64;
            for step in ticks {
                now += step;
                if rules.repeat_due(last, now) {
                    if let Some(l) = last {
                        prop_assert!(now - l >= rules.repeat_ms());
                        prop_assert!(now - l < rules.repeat_ms() + step);
                    }
                    last = Some(now);
                }
            }
        }
    }
}
