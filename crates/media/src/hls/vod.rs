//! The playlist of a recording: every segment of a show, EVENT while it runs, VOD with
//! EXT-X-ENDLIST once it has ended.

use super::rfc3339_millis;
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub struct VodEntry {
    pub uri: String,
    pub duration: f64,
    pub discontinuity: bool,
    pub init_uri: String,
    pub program_date_time_ms: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct VodPlaylist {
    pub entries: Vec<VodEntry>,
    pub ended: bool,
}

impl VodPlaylist {
    pub fn duration(&self) -> f64 {
        self.entries.iter().map(|e| e.duration).sum()
    }

    pub fn render(&self) -> String {
        let td = self
            .entries
            .iter()
            .map(|e| e.duration.round() as u64)
            .max()
            .unwrap_or(1)
            .max(1);
        let mut o = String::new();
        let _ = writeln!(o, "#EXTM3U");
        let _ = writeln!(o, "#EXT-X-VERSION:7");
        let _ = writeln!(o, "#EXT-X-TARGETDURATION:{td}");
        let _ = writeln!(
            o,
            "#EXT-X-PLAYLIST-TYPE:{}",
            if self.ended { "VOD" } else { "EVENT" }
        );
        let _ = writeln!(o, "#EXT-X-MEDIA-SEQUENCE:0");
        let _ = writeln!(o, "#EXT-X-INDEPENDENT-SEGMENTS");
        let mut map: Option<&str> = None;
        for e in &self.entries {
            if e.discontinuity && map.is_some() {
                let _ = writeln!(o, "#EXT-X-DISCONTINUITY");
            }
            if map != Some(e.init_uri.as_str()) {
                let _ = writeln!(o, "#EXT-X-MAP:URI=\"{}\"", e.init_uri);
                map = Some(&e.init_uri);
            }
            let _ = writeln!(
                o,
                "#EXT-X-PROGRAM-DATE-TIME:{}",
                rfc3339_millis(e.program_date_time_ms)
            );
            let _ = writeln!(o, "#EXTINF:{:.5},", e.duration);
            let _ = writeln!(o, "{}", e.uri);
        }
        if self.ended {
            let _ = writeln!(o, "#EXT-X-ENDLIST");
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::super::validate::validate;
    use super::*;

    #[test]
    fn vod_playlist_validates() {
        let mut p = VodPlaylist::default();
        for i in 0..3 {
            p.entries.push(VodEntry {
                uri: format!("seg{i}.m4s"),
                duration: 2.0,
                discontinuity: i == 2,
                init_uri: format!("init{}.mp4", i / 2),
                program_date_time_ms: 1000 * i,
            });
        }
        p.ended = true;
        let text = p.render();
        let v = validate(&text).unwrap();
        assert!(v.ended);
        assert_eq!(v.segments.len(), 3);
        assert_eq!(v.segments[2].map_uri.as_deref(), Some("init1.mp4"));
        assert!(text.contains("#EXT-X-DISCONTINUITY\n"));
    }
}
