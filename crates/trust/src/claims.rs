//! The banned-claims check. The matching is the live room's keyword matching (Unicode
//! normalised: full-width forms, diacritics, look-alike digits, spelled-out letters; whole words
//! in Latin script, anywhere in scripts written without spaces), so "N0. 1", "ｂｅｓｔ" and
//! "最 佳" are caught as "No. 1", "best" and "最佳".

use hawker_domain::text::KeywordFilter;
use serde::Serialize;

/// Claims no product text may make: absolute claims (advertising laws: cn Advertising Law
/// art. 9, eu UCPD annex I) and medical claims for goods that are not medicines.
pub const DEFAULT_BANNED: &[&str] = &[
    "best",
    "no. 1",
    "number one",
    "#1",
    "cures",
    "cure",
    "cured",
    "heals",
    "100% effective",
    "guaranteed results",
    "miracle",
    "no side effects",
    "最佳",
    "最好",
    "最高级",
    "最低价",
    "第一",
    "国家级",
    "世界级",
    "顶级",
    "极品",
    "治愈",
    "根治",
    "包治",
    "百分百有效",
    "100%有效",
    "无副作用",
    "特效药",
];

/// One banned claim found, in which field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimHit {
    pub field: String,
    pub claim: String,
}

/// The compiled list.
#[derive(Debug, Clone)]
pub struct ClaimsCheck {
    filter: KeywordFilter,
}

impl Default for ClaimsCheck {
    fn default() -> Self {
        let list: Vec<String> = DEFAULT_BANNED.iter().map(|s| s.to_string()).collect();
        ClaimsCheck::new(&list)
    }
}

impl ClaimsCheck {
    pub fn new(banned: &[String]) -> Self {
        ClaimsCheck {
            filter: KeywordFilter::new(banned, &[]),
        }
    }

    /// The first banned claim in each field that has one.
    pub fn check(&self, fields: &[(&str, &str)]) -> Vec<ClaimHit> {
        fields
            .iter()
            .filter_map(|(field, text)| {
                self.filter.check(text).map(|h| ClaimHit {
                    field: field.to_string(),
                    claim: h.keyword,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn absolute_and_medical_claims_in_english_and_chinese() {
        let c = ClaimsCheck::default();
        let hits = |t: &str| c.check(&[("title", t)]);
        assert_eq!(hits("The BEST peaches in Fenghua")[0].claim, "best");
        assert_eq!(hits("N0. 1 seller")[0].claim, "no. 1");
        assert_eq!(hits("This cream cures acne")[0].claim, "cures");
        assert_eq!(hits("100% effective")[0].claim, "100% effective");
        assert_eq!(hits("全网最佳面霜")[0].claim, "最佳");
        assert_eq!(hits("销量第 一")[0].claim, "第一");
        assert_eq!(hits("可以根治脱发")[0].claim, "根治");
        // Not inside innocent words, not for ordinary descriptions.
        assert!(hits("Bestow a gift; a secure box").is_empty());
        assert!(hits("Juicy peaches, 5 kg, picked this morning").is_empty());
        assert!(hits("新鲜水蜜桃 五斤装").is_empty());
        let two = c.check(&[("title", "Peaches"), ("description", "They cure boredom")]);
        assert_eq!(
            two,
            vec![ClaimHit {
                field: "description".into(),
                claim: "cure".into()
            }]
        );
    }

    proptest! {
        /// Whatever surrounds it, an inserted claim is found; no input panics.
        #[test]
        fn an_inserted_claim_is_found(prefix in "[a-z ]{0,30}", suffix in "[a-z ]{0,30}", junk in "\\PC{0,200}") {
            let c = ClaimsCheck::default();
            let _ = c.check(&[("x", junk.as_str())]);
            let text = format!("{prefix} 100% effective {suffix}");
            prop_assert!(!c.check(&[("x", text.as_str())]).is_empty());
        }
    }
}
