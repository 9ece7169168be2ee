//! Just enough MPEG-TS reading to time nginx-rtmp's frames: the DTS of every video PES.

use std::collections::HashMap;

/// 90 kHz decode timestamps of the video PES packets in a TS file.
pub fn video_dts(ts: &[u8]) -> Vec<u64> {
    let mut out = Vec::new();
    for pkt in ts.chunks_exact(188) {
        if pkt[0] != 0x47 || pkt[1] & 0x40 == 0 {
            continue; // not a sync byte or no payload start
        }
        let afc = (pkt[3] >> 4) & 3;
        let mut p = 4;
        if afc & 2 != 0 {
            p += 1 + pkt[4] as usize;
        }
        if afc & 1 == 0 || p + 19 > 188 {
            continue;
        }
        let pes = &pkt[p..];
        if pes[0] != 0 || pes[1] != 0 || pes[2] != 1 || pes[3] & 0xF0 != 0xE0 {
            continue; // not a video PES
        }
        let flags = pes[7] >> 6;
        let read = |b: &[u8]| -> u64 {
            (((b[0] as u64 >> 1) & 7) << 30)
                | ((b[1] as u64) << 22)
                | (((b[2] as u64) >> 1) << 15)
                | ((b[3] as u64) << 7)
                | ((b[4] as u64) >> 1)
        };
        let ts = match flags {
            3 => read(&pes[14..19]),
            2 => read(&pes[9..14]),
            _ => continue,
        };
        out.push(ts);
    }
    out
}

/// The millisecond offset between a server's 90 kHz clock and the publisher's FLV clock that
/// makes the most received frames match sent ones.
pub fn best_offset(dts90: &[u64], sent: &HashMap<u64, std::time::Instant>) -> u64 {
    let mut votes: HashMap<u64, usize> = HashMap::new();
    let mut sent_ts: Vec<u64> = sent.keys().copied().collect();
    sent_ts.sort_unstable();
    for d in dts90.iter().take(60) {
        for s in sent_ts.iter().take(400) {
            if let Some(off) = (d / 90).checked_sub(*s) {
                *votes.entry(off).or_default() += 1;
            }
        }
    }
    votes
        .into_iter()
        .filter(|(off, _)| {
            dts90
                .iter()
                .filter(|d| sent.contains_key(&((**d / 90).saturating_sub(*off))))
                .count()
                > 0
        })
        .max_by_key(|(off, _)| {
            dts90
                .iter()
                .filter(|d| {
                    (**d / 90)
                        .checked_sub(*off)
                        .is_some_and(|t| sent.contains_key(&t))
                })
                .count()
        })
        .map(|(o, _)| o)
        .unwrap_or(0)
}
