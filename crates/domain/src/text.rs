//! Text matching with Unicode normalisation: what the room's keyword lists and the platform's
//! banned claims both need, so it lives here rather than in either.
//!
//! Matching normalises both the keyword and the text: compatibility decomposition (full-width
//! forms, ligatures), diacritics dropped, lower case, zero-width characters removed, common
//! look-alike digits and symbols mapped to letters, and letters spelled out one by one
//! (`b a d`) joined. Keywords in scripts without spaces (Chinese, Japanese) match anywhere in
//! the text with separators removed; words in Latin script match whole words, so a keyword
//! never matches inside an innocent longer word.

use aho_corasick::{AhoCorasick, MatchKind};
use serde::{Deserialize, Serialize};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

fn unleet(c: char) -> char {
    match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' => 't',
        _ => c,
    }
}

/// Lower-case, decomposed, unmarked, invisible-free text.
pub fn normalize(text: &str) -> String {
    text.nfkd()
        .filter(|c| !is_combining_mark(*c) && !is_invisible(*c))
        .collect::<String>()
        .nfkc()
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '@' | '$')
}

/// Words separated by single spaces, look-alikes mapped: `" you are bad "`.
fn words_form(norm: &str) -> String {
    let words: Vec<String> = words(norm);
    format!(" {} ", words.join(" "))
}

fn words(norm: &str) -> Vec<String> {
    norm.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().map(unleet).collect())
        .collect()
}

/// Runs of three or more one-letter words joined (`b a d` → `bad`): spelling a word out is a
/// way around filters, not a way of writing.
fn spelled_out_runs(norm: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut run = String::new();
    let mut len = 0;
    for w in words(norm) {
        if w.chars().count() == 1 {
            run.push_str(&w);
            len += 1;
        } else {
            if len >= 3 {
                runs.push(std::mem::take(&mut run));
            }
            run.clear();
            len = 0;
        }
    }
    if len >= 3 {
        runs.push(run);
    }
    runs
}

/// Everything but letters and digits removed: for scripts written without spaces.
fn squeezed_form(norm: &str) -> String {
    norm.chars().filter(|c| c.is_alphanumeric()).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListSource {
    Platform,
    Room,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub keyword: String,
    pub source: ListSource,
}

/// The platform-wide list and one room's list, compiled.
#[derive(Debug, Clone)]
pub struct KeywordFilter {
    words: Option<AhoCorasick>,
    /// The same keywords without spaces, for spelled-out runs.
    words_plain: Option<AhoCorasick>,
    word_meta: Vec<(String, ListSource)>,
    squeezed: Option<AhoCorasick>,
    squeezed_meta: Vec<(String, ListSource)>,
}

impl Default for KeywordFilter {
    fn default() -> Self {
        KeywordFilter::new(&[], &[])
    }
}

impl KeywordFilter {
    pub fn new(platform: &[String], room: &[String]) -> Self {
        let mut words = Vec::new();
        let mut word_meta = Vec::new();
        let mut squeezed = Vec::new();
        let mut squeezed_meta = Vec::new();
        let all = platform
            .iter()
            .map(|k| (k, ListSource::Platform))
            .chain(room.iter().map(|k| (k, ListSource::Room)));
        for (k, src) in all {
            let n = normalize(k);
            if n.trim().is_empty() {
                continue;
            }
            // Keywords with letters outside Latin/Cyrillic/Greek are matched without spaces.
            let spaceless_script = n.chars().any(|c| c.is_alphabetic() && (c as u32) >= 0x2E80);
            if spaceless_script {
                squeezed.push(squeezed_form(&n));
                squeezed_meta.push((k.clone(), src));
            } else {
                words.push(words_form(&n));
                word_meta.push((k.clone(), src));
            }
        }
        let build = |pats: &[String]| {
            (!pats.is_empty()).then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .build(pats)
                    .expect("keyword patterns are plain strings")
            })
        };
        let plain: Vec<String> = words.iter().map(|w| w.replace(' ', "")).collect();
        KeywordFilter {
            words: build(&words),
            words_plain: build(&plain),
            word_meta,
            squeezed: build(&squeezed),
            squeezed_meta,
        }
    }

    pub fn len(&self) -> usize {
        self.word_meta.len() + self.squeezed_meta.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first listed keyword the text contains, platform list first.
    pub fn check(&self, text: &str) -> Option<Hit> {
        let n = normalize(text);
        let mut hits: Vec<&(String, ListSource)> = Vec::new();
        if let Some(ac) = &self.words {
            // Patterns carry their own surrounding spaces: whole words only.
            for m in ac.find_overlapping_iter(&words_form(&n)) {
                hits.push(&self.word_meta[m.pattern().as_usize()]);
            }
            // Inside a spelled-out run, anywhere.
            if let Some(plain) = &self.words_plain {
                for run in spelled_out_runs(&n) {
                    for m in plain.find_overlapping_iter(&run) {
                        hits.push(&self.word_meta[m.pattern().as_usize()]);
                    }
                }
            }
        }
        if let Some(ac) = &self.squeezed {
            for m in ac.find_overlapping_iter(&squeezed_form(&n)) {
                hits.push(&self.squeezed_meta[m.pattern().as_usize()]);
            }
        }
        hits.sort_by_key(|(_, s)| *s != ListSource::Platform);
        hits.first().map(|(k, s)| Hit {
            keyword: k.clone(),
            source: *s,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(words: &[&str]) -> KeywordFilter {
        KeywordFilter::new(
            &["scamlink".to_string()],
            &words.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn normalised_matching_catches_disguises() {
        let f = filter(&["badword", "假货", "fake brand"]);
        for text in [
            "this is a BADWORD",
            "this is a b a d w o r d!",
            "ｂａｄｗｏｒｄ in full width",
            "b\u{200B}adword with a zero-width space",
            "bädwörd with marks",
            "b4dw0rd in leet",
            "这是假货吗",
            "这 是 假 货",
            "is this a Fake   Brand?",
        ] {
            assert!(f.check(text).is_some(), "{text}");
        }
        assert_eq!(
            f.check("visit scamlink now").unwrap().source,
            ListSource::Platform
        );
    }

    #[test]
    fn whole_words_only_for_latin_script() {
        let f = filter(&["ass", "ho"]);
        for text in [
            "first class product",
            "a shoe for everyone",
            "hello there",
            "假货",
        ] {
            assert_eq!(f.check(text), None, "{text}");
        }
        assert!(f.check("you ass").is_some());
    }

    #[test]
    fn two_hundred_keywords_compile_and_match() {
        let room: Vec<String> = (0..250).map(|i| format!("keyword{i}")).collect();
        let f = KeywordFilter::new(&[], &room);
        assert_eq!(f.len(), 250);
        assert!(f.check("say KEYWORD199 here").is_some());
        assert!(f.check("say keyword2500 here").is_none());
    }
}
