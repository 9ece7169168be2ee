//! A checker for the playlist rules of RFC 8216bis and its low-latency extensions that a
//! player relies on. The integration tests run every playlist Hawker serves through it; it is
//! also usable against any other server's playlists.

use std::collections::HashSet;

/// A part as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedPart {
    pub msn: u64,
    pub index: u32,
    pub uri: String,
    pub duration: f64,
    pub independent: bool,
}

/// A segment as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedSegment {
    pub msn: u64,
    pub uri: String,
    pub duration: f64,
    pub map_uri: Option<String>,
}

/// What a valid playlist says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Playlist {
    pub version: u32,
    pub target_duration: u64,
    pub part_target: Option<f64>,
    pub part_hold_back: Option<f64>,
    pub can_block_reload: bool,
    pub media_sequence: u64,
    pub skipped: u64,
    pub segments: Vec<ListedSegment>,
    pub parts: Vec<ListedPart>,
    pub preload_hint: Option<String>,
    pub ended: bool,
}

impl Playlist {
    /// Whether part `part` of segment `msn`, or anything after it, is listed (what a blocking
    /// reload for `_HLS_msn=msn&_HLS_part=part` must wait for).
    pub fn has_position(&self, msn: u64, part: Option<u32>) -> bool {
        match part {
            None => self.segments.iter().any(|s| s.msn >= msn),
            Some(p) => {
                self.parts
                    .iter()
                    .any(|x| x.msn > msn || (x.msn == msn && x.index >= p))
                    || self.segments.iter().any(|s| s.msn > msn)
            }
        }
    }

    /// The position a client at the live edge asks for next.
    pub fn next_position(&self) -> (u64, u32) {
        match self.parts.last() {
            Some(p) if !self.segments.iter().any(|s| s.msn == p.msn) => (p.msn, p.index + 1),
            _ => (
                self.segments
                    .last()
                    .map_or(self.media_sequence, |s| s.msn + 1),
                0,
            ),
        }
    }
}

fn attrs(list: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = list;
    while !rest.is_empty() {
        let Some((k, v)) = rest.split_once('=') else {
            break;
        };
        let (value, tail) = if let Some(q) = v.strip_prefix('"') {
            match q.split_once('"') {
                Some((val, t)) => (val.to_string(), t.trim_start_matches(',')),
                None => (q.to_string(), ""),
            }
        } else {
            match v.split_once(',') {
                Some((val, t)) => (val.to_string(), t),
                None => (v.to_string(), ""),
            }
        };
        out.push((k.trim().to_string(), value));
        rest = tail;
    }
    out
}

fn attr<'a>(a: &'a [(String, String)], k: &str) -> Option<&'a str> {
    a.iter().find(|(x, _)| x == k).map(|(_, v)| v.as_str())
}

/// Checks `text`; every broken rule is reported, not just the first.
pub fn validate(text: &str) -> Result<Playlist, Vec<String>> {
    let mut errs = Vec::new();
    let mut p = Playlist::default();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    if lines.next() != Some("#EXTM3U") {
        errs.push("first line must be #EXTM3U".into());
    }
    let mut saw_target = false;
    let mut msn: Option<u64> = None;
    let mut pending_parts: Vec<ListedPart> = Vec::new();
    let mut pending_extinf: Option<f64> = None;
    let mut map_uri: Option<String> = None;
    let mut hints = 0;
    let mut part_uris = HashSet::new();
    let mut last_pdt: Option<String> = None;
    for line in lines {
        if let Some(v) = line.strip_prefix("#EXT-X-VERSION:") {
            p.version = v.parse().unwrap_or(0);
        } else if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
            saw_target = true;
            match v.parse() {
                Ok(t) => p.target_duration = t,
                Err(_) => errs.push(format!("TARGETDURATION {v:?} is not an integer")),
            }
        } else if let Some(v) = line.strip_prefix("#EXT-X-PART-INF:") {
            p.part_target = attr(&attrs(v), "PART-TARGET").and_then(|x| x.parse().ok());
            if p.part_target.is_none() {
                errs.push("EXT-X-PART-INF without a PART-TARGET".into());
            }
        } else if let Some(v) = line.strip_prefix("#EXT-X-SERVER-CONTROL:") {
            let a = attrs(v);
            p.can_block_reload = attr(&a, "CAN-BLOCK-RELOAD") == Some("YES");
            p.part_hold_back = attr(&a, "PART-HOLD-BACK").and_then(|x| x.parse().ok());
        } else if let Some(v) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
            p.media_sequence = v.parse().unwrap_or_else(|_| {
                errs.push("MEDIA-SEQUENCE is not a number".into());
                0
            });
        } else if let Some(v) = line.strip_prefix("#EXT-X-SKIP:") {
            p.skipped = attr(&attrs(v), "SKIPPED-SEGMENTS")
                .and_then(|x| x.parse().ok())
                .unwrap_or_else(|| {
                    errs.push("EXT-X-SKIP without SKIPPED-SEGMENTS".into());
                    0
                });
            if p.version < 9 {
                errs.push("EXT-X-SKIP needs EXT-X-VERSION 9".into());
            }
        } else if let Some(v) = line.strip_prefix("#EXT-X-MAP:") {
            map_uri = attr(&attrs(v), "URI").map(str::to_string);
        } else if let Some(v) = line.strip_prefix("#EXT-X-PROGRAM-DATE-TIME:") {
            if let Some(prev) = &last_pdt {
                // RFC 3339 in UTC with a fixed format sorts as text.
                if v < prev.as_str() {
                    errs.push(format!("PROGRAM-DATE-TIME {v} goes back from {prev}"));
                }
            }
            last_pdt = Some(v.to_string());
        } else if let Some(v) = line.strip_prefix("#EXT-X-PART:") {
            let a = attrs(v);
            let cur = msn.unwrap_or(p.media_sequence + p.skipped);
            let duration = attr(&a, "DURATION").and_then(|x| x.parse::<f64>().ok());
            let uri = attr(&a, "URI").map(str::to_string);
            match (duration, uri) {
                (Some(d), Some(uri)) => {
                    if let Some(t) = p.part_target {
                        if d > t + 1e-6 {
                            errs.push(format!("part {uri} lasts {d}, over PART-TARGET {t}"));
                        }
                    } else {
                        errs.push("EXT-X-PART before EXT-X-PART-INF".into());
                    }
                    if !part_uris.insert(uri.clone()) {
                        errs.push(format!("part {uri} listed twice"));
                    }
                    pending_parts.push(ListedPart {
                        msn: cur,
                        index: pending_parts.len() as u32,
                        uri,
                        duration: d,
                        independent: attr(&a, "INDEPENDENT") == Some("YES"),
                    });
                }
                _ => errs.push(format!("EXT-X-PART without DURATION or URI: {line}")),
            }
        } else if let Some(v) = line.strip_prefix("#EXT-X-PRELOAD-HINT:") {
            let a = attrs(v);
            if attr(&a, "TYPE") == Some("PART") {
                hints += 1;
                p.preload_hint = attr(&a, "URI").map(str::to_string);
            }
        } else if let Some(v) = line.strip_prefix("#EXTINF:") {
            let d = v.split(',').next().and_then(|x| x.parse::<f64>().ok());
            match d {
                Some(d) => pending_extinf = Some(d),
                None => errs.push(format!("bad EXTINF {line}")),
            }
        } else if line == "#EXT-X-ENDLIST" {
            p.ended = true;
        } else if !line.starts_with('#') {
            let Some(d) = pending_extinf.take() else {
                errs.push(format!("URI {line} without EXTINF"));
                continue;
            };
            let cur = msn.unwrap_or(p.media_sequence + p.skipped);
            if map_uri.is_none() {
                errs.push(format!("segment {line} has no EXT-X-MAP before it"));
            }
            if (d.round() as u64) > p.target_duration {
                errs.push(format!(
                    "segment {line} lasts {d}, over TARGETDURATION {}",
                    p.target_duration
                ));
            }
            if !pending_parts.is_empty() {
                let sum: f64 = pending_parts.iter().map(|x| x.duration).sum();
                if (sum - d).abs() > 0.001 * pending_parts.len() as f64 + 0.001 {
                    errs.push(format!("parts of {line} sum to {sum}, EXTINF says {d}"));
                }
                if pending_parts.len() > 1 && !pending_parts[0].independent {
                    errs.push(format!("first part of {line} is not INDEPENDENT"));
                }
            }
            p.parts.append(&mut pending_parts);
            p.segments.push(ListedSegment {
                msn: cur,
                uri: line.to_string(),
                duration: d,
                map_uri: map_uri.clone(),
            });
            msn = Some(cur + 1);
        }
    }
    p.parts.append(&mut pending_parts);
    if !saw_target {
        errs.push("EXT-X-TARGETDURATION is missing".into());
    }
    if let Some(t) = p.part_target {
        if !p.can_block_reload {
            errs.push("low-latency playlist without CAN-BLOCK-RELOAD=YES".into());
        }
        match p.part_hold_back {
            Some(h) if h >= 2.0 * t - 1e-9 => {}
            Some(h) => errs.push(format!("PART-HOLD-BACK {h} is under twice PART-TARGET {t}")),
            None => errs.push("low-latency playlist without PART-HOLD-BACK".into()),
        }
        if !p.ended && hints != 1 {
            errs.push(format!(
                "a live low-latency playlist needs one part preload hint, has {hints}"
            ));
        }
    }
    if p.ended && hints > 0 {
        errs.push("an ended playlist must not hint at more parts".into());
    }
    if let Some(h) = &p.preload_hint {
        if part_uris.contains(h) {
            errs.push(format!(
                "preload hint {h} names a part that is already listed"
            ));
        }
    }
    if errs.is_empty() {
        Ok(p)
    } else {
        Err(errs)
    }
}
