//! The SFU benchmark's media: a 720p H.264 fixture made once with ffmpeg, split into access
//! units, and an Opus frame of silence; plus RTP packetising for a peer fed plain RTP (Janus's
//! streaming plugin).

use std::sync::Arc;

/// One access unit of the fixture, Annex B without its access unit delimiter.
pub(super) struct Frame {
    pub(super) data: Arc<[u8]>,
}

/// The 720p fixture as access units, made once with ffmpeg (x264 writes an AUD before each).
pub(super) fn fixture_frames() -> anyhow::Result<Vec<Frame>> {
    let path = crate::made_once(
        "fixture-720p-2mbit.h264",
        "the 720p H.264 fixture",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30",
            "-t",
            "10",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-tune",
            "zerolatency",
            "-g",
            "60",
            "-b:v",
            "2M",
            "-pix_fmt",
            "yuv420p",
            "-x264-params",
            "aud=1",
            "-bsf:v",
            "h264_mp4toannexb",
            "-f",
            "h264",
        ],
    )?;
    let frames = split_access_units(&std::fs::read(&path)?);
    anyhow::ensure!(
        frames.len() >= 60,
        "the fixture has {} access units",
        frames.len()
    );
    Ok(frames)
}

/// NAL units of an Annex B stream (start codes dropped).
pub(super) fn nal_units(b: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= b.len() {
        if b[i] == 0 && b[i + 1] == 0 && b[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(b.len(), |&n| n - 3);
        while end > s && b[end - 1] == 0 {
            end -= 1; // the leading zero of a 4-byte start code, trailing zeros
        }
        if end > s {
            out.push(&b[s..end]);
        }
    }
    out
}

/// Access units split on AUD NAL units (type 9), each re-joined with 4-byte start codes.
pub(super) fn split_access_units(b: &[u8]) -> Vec<Frame> {
    let mut frames = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    for nal in nal_units(b) {
        if nal[0] & 0x1f == 9 {
            if !cur.is_empty() {
                frames.push(Frame {
                    data: std::mem::take(&mut cur).into(),
                });
            }
            continue;
        }
        cur.extend_from_slice(&[0, 0, 0, 1]);
        cur.extend_from_slice(nal);
    }
    if !cur.is_empty() {
        frames.push(Frame { data: cur.into() });
    }
    frames
}

/// An Opus frame of 20 ms of silence (TOC: CELT FB 20 ms, one frame), as a muted microphone.
pub(super) const OPUS_SILENCE: [u8; 3] = [0xf8, 0xff, 0xfe];

/// Largest RTP payload sent: fits a 1,200-byte datagram with the 12-byte header, as WebRTC
/// senders keep under the path MTU.
const RTP_PAYLOAD: usize = 1_188;

/// Plain RTP (RFC 3550) of one stream: sequence numbers, a fixed SSRC and payload type.
pub(super) struct RtpStream {
    pub(super) pt: u8,
    pub(super) ssrc: u32,
    pub(super) seq: u16,
}

impl RtpStream {
    fn packet(&mut self, ts: u32, marker: bool, payload: &[&[u8]]) -> Vec<u8> {
        let mut p = Vec::with_capacity(12 + payload.iter().map(|b| b.len()).sum::<usize>());
        p.extend_from_slice(&[0x80, (u8::from(marker) << 7) | self.pt]);
        p.extend_from_slice(&self.seq.to_be_bytes());
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&self.ssrc.to_be_bytes());
        for b in payload {
            p.extend_from_slice(b);
        }
        self.seq = self.seq.wrapping_add(1);
        p
    }

    /// One access unit (Annex B) as RTP packets (RFC 6184): a NAL unit that fits goes whole,
    /// a larger one in FU-A fragments; the marker on the access unit's last packet.
    pub(super) fn h264(&mut self, access_unit: &[u8], ts: u32) -> Vec<Vec<u8>> {
        let nals = nal_units(access_unit);
        let mut out = Vec::new();
        for (i, nal) in nals.iter().enumerate() {
            let last_nal = i + 1 == nals.len();
            if nal.len() <= RTP_PAYLOAD {
                out.push(self.packet(ts, last_nal, &[nal]));
                continue;
            }
            let indicator = (nal[0] & 0xe0) | 28;
            let chunks: Vec<&[u8]> = nal[1..].chunks(RTP_PAYLOAD - 2).collect();
            for (k, chunk) in chunks.iter().enumerate() {
                let (first, last) = (k == 0, k + 1 == chunks.len());
                let header = (u8::from(first) << 7) | (u8::from(last) << 6) | (nal[0] & 0x1f);
                out.push(self.packet(ts, last_nal && last, &[&[indicator, header], chunk]));
            }
        }
        out
    }

    /// One Opus frame as one RTP packet.
    pub(super) fn opus(&mut self, frame: &[u8], ts: u32) -> Vec<u8> {
        self.packet(ts, false, &[frame])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_units_split_on_delimiters() {
        let aud = [0, 0, 0, 1, 9, 0xf0];
        let mut b = Vec::new();
        for au in 0..3u8 {
            b.extend_from_slice(&aud);
            b.extend_from_slice(&[0, 0, 1, 0x65, au, 0]);
            b.extend_from_slice(&[0, 0, 0, 1, 0x41, au]);
        }
        let f = split_access_units(&b);
        assert_eq!(f.len(), 3);
        assert_eq!(&f[1].data[..], &[0, 0, 0, 1, 0x65, 1, 0, 0, 0, 1, 0x41, 1]);
    }

    #[test]
    fn large_nal_units_go_in_fu_a_fragments_that_rebuild_them() {
        let big: Vec<u8> = std::iter::once(0x65)
            .chain((0..3_000u32).map(|i| i as u8))
            .collect();
        let mut au = vec![0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1];
        au.extend_from_slice(&big);
        let mut s = RtpStream {
            pt: 96,
            ssrc: 7,
            seq: 65_535,
        };
        let p = s.h264(&au, 3_000);
        assert_eq!(
            p.len(),
            1 + 3,
            "the SPS whole, the slice in three fragments"
        );
        assert!(p.iter().all(|x| x.len() <= 1_200));
        assert_eq!(&p[0][12..], &[0x67, 1, 2]);
        assert_eq!(
            (p[0][1] >> 7, p[3][1] >> 7),
            (0, 1),
            "the marker on the last only"
        );
        assert_eq!(
            u16::from_be_bytes([p[1][2], p[1][3]]),
            0,
            "sequence numbers wrap"
        );
        let mut rebuilt = vec![(p[1][12] & 0xe0) | (p[1][13] & 0x1f)];
        for f in &p[1..] {
            rebuilt.extend_from_slice(&f[14..]);
        }
        assert_eq!(rebuilt, big);
        assert_eq!((p[1][13] >> 6, p[3][13] >> 6), (2, 1), "start and end bits");
    }
}
