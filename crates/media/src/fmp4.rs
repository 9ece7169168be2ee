//! Fragmented MP4 (ISO/IEC 14496-12) as CMAF uses it: an init segment (`ftyp`+`moov`) and
//! media fragments (`moof`+`mdat`). Only what a live packager writes; nothing here parses MP4.

use crate::codec::{AudioCodecKind, AudioConfig, VideoCodecKind, VideoConfig};
use bytes::{BufMut, Bytes, BytesMut};

/// Video timescale: 90 kHz, the MPEG convention; FLV's millisecond timestamps map exactly.
pub const VIDEO_TIMESCALE: u32 = 90_000;
pub const VIDEO_TRACK_ID: u32 = 1;
pub const AUDIO_TRACK_ID: u32 = 2;

/// Sample flags (ISO 14496-12 §8.8.3.1).
pub const FLAGS_SYNC: u32 = 0x0200_0000; // depends on no other sample
pub const FLAGS_NON_SYNC: u32 = 0x0101_0000; // depends on others, is_non_sync

/// Writes a box, back-patching its size.
fn boxed(out: &mut BytesMut, fourcc: &[u8; 4], body: impl FnOnce(&mut BytesMut)) {
    let start = out.len();
    out.put_u32(0);
    out.put_slice(fourcc);
    body(out);
    let size = (out.len() - start) as u32;
    out[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

fn full_box(
    out: &mut BytesMut,
    fourcc: &[u8; 4],
    version: u8,
    flags: u32,
    body: impl FnOnce(&mut BytesMut),
) {
    boxed(out, fourcc, |o| {
        o.put_u32(((version as u32) << 24) | (flags & 0x00FF_FFFF));
        body(o);
    });
}

const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// The tracks an init segment describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackSet {
    pub video: Option<VideoConfig>,
    pub audio: Option<AudioConfig>,
}

impl TrackSet {
    /// `avc1.64001F,mp4a.40.2`: what a player passes to `MediaSource.isTypeSupported`.
    pub fn codecs(&self) -> String {
        let mut c: Vec<&str> = Vec::new();
        if let Some(v) = &self.video {
            c.push(&v.codec_string);
        }
        if let Some(a) = &self.audio {
            c.push(&a.codec_string);
        }
        c.join(",")
    }
}

pub fn init_segment(tracks: &TrackSet) -> Bytes {
    let mut o = BytesMut::with_capacity(1024);
    boxed(&mut o, b"ftyp", |o| {
        o.put_slice(b"iso6");
        o.put_u32(0);
        for brand in [b"iso6", b"cmfc", b"mp41"] {
            o.put_slice(brand);
        }
    });
    boxed(&mut o, b"moov", |o| {
        full_box(o, b"mvhd", 0, 0, |o| {
            o.put_u32(0); // creation
            o.put_u32(0); // modification
            o.put_u32(1000);
            o.put_u32(0); // duration: unknown, live
            o.put_u32(0x0001_0000); // rate 1.0
            o.put_u16(0x0100); // volume 1.0
            o.put_bytes(0, 10);
            MATRIX.iter().for_each(|m| o.put_u32(*m));
            o.put_bytes(0, 24);
            o.put_u32(AUDIO_TRACK_ID + 1); // next_track_ID
        });
        if let Some(v) = &tracks.video {
            video_trak(o, v);
        }
        if let Some(a) = &tracks.audio {
            audio_trak(o, a);
        }
        boxed(o, b"mvex", |o| {
            let ids = tracks
                .video
                .as_ref()
                .map(|_| VIDEO_TRACK_ID)
                .into_iter()
                .chain(tracks.audio.as_ref().map(|_| AUDIO_TRACK_ID));
            for id in ids {
                full_box(o, b"trex", 0, 0, |o| {
                    o.put_u32(id);
                    o.put_u32(1); // sample description index
                    o.put_u32(0);
                    o.put_u32(0);
                    o.put_u32(0);
                });
            }
        });
    });
    o.freeze()
}

fn tkhd(o: &mut BytesMut, id: u32, audio: bool, width: u32, height: u32) {
    full_box(o, b"tkhd", 0, 3, |o| {
        o.put_u32(0);
        o.put_u32(0);
        o.put_u32(id);
        o.put_u32(0);
        o.put_u32(0); // duration
        o.put_bytes(0, 8);
        o.put_u16(0); // layer
        o.put_u16(0); // alternate group
        o.put_u16(if audio { 0x0100 } else { 0 });
        o.put_u16(0);
        MATRIX.iter().for_each(|m| o.put_u32(*m));
        o.put_u32(width << 16);
        o.put_u32(height << 16);
    });
}

fn mdia(
    o: &mut BytesMut,
    timescale: u32,
    handler: &[u8; 4],
    name: &str,
    stsd: impl FnOnce(&mut BytesMut),
) {
    boxed(o, b"mdia", |o| {
        full_box(o, b"mdhd", 0, 0, |o| {
            o.put_u32(0);
            o.put_u32(0);
            o.put_u32(timescale);
            o.put_u32(0);
            o.put_u16(0x55C4); // "und"
            o.put_u16(0);
        });
        full_box(o, b"hdlr", 0, 0, |o| {
            o.put_u32(0);
            o.put_slice(handler);
            o.put_bytes(0, 12);
            o.put_slice(name.as_bytes());
            o.put_u8(0);
        });
        boxed(o, b"minf", |o| {
            if handler == b"vide" {
                full_box(o, b"vmhd", 0, 1, |o| o.put_bytes(0, 8));
            } else {
                full_box(o, b"smhd", 0, 0, |o| o.put_u32(0));
            }
            boxed(o, b"dinf", |o| {
                full_box(o, b"dref", 0, 0, |o| {
                    o.put_u32(1);
                    full_box(o, b"url ", 0, 1, |_| {});
                });
            });
            boxed(o, b"stbl", |o| {
                full_box(o, b"stsd", 0, 0, |o| {
                    o.put_u32(1);
                    stsd(o);
                });
                full_box(o, b"stts", 0, 0, |o| o.put_u32(0));
                full_box(o, b"stsc", 0, 0, |o| o.put_u32(0));
                full_box(o, b"stsz", 0, 0, |o| {
                    o.put_u32(0);
                    o.put_u32(0);
                });
                full_box(o, b"stco", 0, 0, |o| o.put_u32(0));
            });
        });
    });
}

fn video_trak(o: &mut BytesMut, v: &VideoConfig) {
    boxed(o, b"trak", |o| {
        tkhd(o, VIDEO_TRACK_ID, false, v.width, v.height);
        mdia(o, VIDEO_TIMESCALE, b"vide", "Hawker video", |o| {
            let (entry, config) = match v.kind {
                VideoCodecKind::Avc => (b"avc1", b"avcC"),
                VideoCodecKind::Hevc => (b"hvc1", b"hvcC"),
            };
            boxed(o, entry, |o| {
                o.put_bytes(0, 6);
                o.put_u16(1); // data reference index
                o.put_bytes(0, 16);
                o.put_u16(v.width as u16);
                o.put_u16(v.height as u16);
                o.put_u32(0x0048_0000);
                o.put_u32(0x0048_0000);
                o.put_u32(0);
                o.put_u16(1); // frame count
                o.put_bytes(0, 32); // compressor name
                o.put_u16(0x0018);
                o.put_i16(-1);
                boxed(o, config, |o| o.put_slice(&v.record));
            });
        });
    });
}

/// MPEG-4 descriptor length: up to four 7-bit groups.
fn descriptor(o: &mut BytesMut, tag: u8, body: &[u8]) {
    o.put_u8(tag);
    let n = body.len() as u32;
    o.put_u8(0x80 | ((n >> 21) & 0x7f) as u8);
    o.put_u8(0x80 | ((n >> 14) & 0x7f) as u8);
    o.put_u8(0x80 | ((n >> 7) & 0x7f) as u8);
    o.put_u8((n & 0x7f) as u8);
    o.put_slice(body);
}

fn audio_trak(o: &mut BytesMut, a: &AudioConfig) {
    boxed(o, b"trak", |o| {
        tkhd(o, AUDIO_TRACK_ID, true, 0, 0);
        mdia(o, a.sample_rate, b"soun", "Hawker audio", |o| {
            let entry = match a.kind {
                AudioCodecKind::Aac => b"mp4a",
                AudioCodecKind::Opus => b"Opus",
            };
            boxed(o, entry, |o| {
                o.put_bytes(0, 6);
                o.put_u16(1);
                o.put_bytes(0, 8);
                o.put_u16(a.channels as u16);
                o.put_u16(16);
                o.put_u32(0);
                // 16.16 fixed point; rates above 65535 do not fit and are signalled in the ASC.
                o.put_u32(if a.sample_rate <= 0xFFFF {
                    a.sample_rate << 16
                } else {
                    0
                });
                if a.kind == AudioCodecKind::Opus {
                    // OpusSpecificBox ("Encapsulation of Opus in ISO BMFF" §4.3.2): mapping
                    // family 0 (mono or stereo); pre-skip 312, libopus's and WebRTC's.
                    boxed(o, b"dOps", |o| {
                        o.put_u8(0); // version
                        o.put_u8(a.channels);
                        o.put_u16(312);
                        o.put_u32(a.sample_rate);
                        o.put_i16(0); // output gain
                        o.put_u8(0); // channel mapping family
                    });
                    return;
                }
                full_box(o, b"esds", 0, 0, |o| {
                    let mut dsi = BytesMut::new();
                    descriptor(&mut dsi, 0x05, &a.asc);
                    let mut dcd = BytesMut::new();
                    dcd.put_u8(0x40); // MPEG-4 audio
                    dcd.put_u8(0x15); // audio stream
                    dcd.put_uint(0, 3); // buffer size
                    dcd.put_u32(0); // max bitrate
                    dcd.put_u32(0); // avg bitrate
                    dcd.put_slice(&dsi);
                    let mut es = BytesMut::new();
                    es.put_u16(0); // ES_ID
                    es.put_u8(0);
                    descriptor(&mut es, 0x04, &dcd);
                    descriptor(&mut es, 0x06, &[0x02]);
                    descriptor(o, 0x03, &es);
                });
            });
        });
    });
}

/// One sample in a fragment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub duration: u32,
    pub size: u32,
    pub flags: u32,
    /// Presentation minus decode time, in the track's timescale.
    pub composition_offset: i32,
}

/// A track's run of samples in one fragment.
#[derive(Debug, Clone)]
pub struct TrackRun<'a> {
    pub track_id: u32,
    pub base_decode_time: u64,
    pub samples: &'a [Sample],
    pub data: &'a [Bytes],
}

/// `moof` + `mdat` for one CMAF chunk. Sample data is copied once, into the `mdat`.
pub fn fragment(sequence: u32, runs: &[TrackRun<'_>]) -> Bytes {
    let data_len: usize = runs
        .iter()
        .flat_map(|r| r.data.iter())
        .map(|d| d.len())
        .sum();
    let mut o = BytesMut::with_capacity(
        64 + runs.len() * 64 + data_len + runs.iter().map(|r| r.samples.len() * 16).sum::<usize>(),
    );
    let mut data_offset_positions = Vec::with_capacity(runs.len());
    boxed(&mut o, b"moof", |o| {
        full_box(o, b"mfhd", 0, 0, |o| o.put_u32(sequence));
        for r in runs {
            boxed(o, b"traf", |o| {
                // default-base-is-moof: offsets count from this moof, as CMAF requires.
                full_box(o, b"tfhd", 0, 0x02_0000, |o| o.put_u32(r.track_id));
                full_box(o, b"tfdt", 1, 0, |o| o.put_u64(r.base_decode_time));
                full_box(o, b"trun", 1, 0x000F01, |o| {
                    o.put_u32(r.samples.len() as u32);
                    data_offset_positions.push(o.len());
                    o.put_i32(0); // patched below
                    for s in r.samples {
                        o.put_u32(s.duration);
                        o.put_u32(s.size);
                        o.put_u32(s.flags);
                        o.put_i32(s.composition_offset);
                    }
                });
            });
        }
    });
    let moof_len = o.len();
    let mut offset = moof_len + 8;
    for (r, pos) in runs.iter().zip(&data_offset_positions) {
        o[*pos..*pos + 4].copy_from_slice(&(offset as i32).to_be_bytes());
        offset += r.data.iter().map(|d| d.len()).sum::<usize>();
    }
    o.put_u32((8 + data_len) as u32);
    o.put_slice(b"mdat");
    for r in runs {
        for d in r.data {
            o.put_slice(d);
        }
    }
    o.freeze()
}

/// Walks the top-level boxes of `buf`: (type, whole box). Used by tests and tools to check
/// what was written; stops at the first malformed size.
pub fn top_level_boxes(buf: &[u8]) -> Vec<([u8; 4], &[u8])> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 8 <= buf.len() {
        let size =
            u32::from_be_bytes([buf[pos], buf[pos + 1], buf[pos + 2], buf[pos + 3]]) as usize;
        if size < 8 || pos + size > buf.len() {
            break;
        }
        let mut t = [0u8; 4];
        t.copy_from_slice(&buf[pos + 4..pos + 8]);
        out.push((t, &buf[pos..pos + size]));
        pos += size;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragment_offsets_point_into_mdat() {
        let samples = [Sample {
            duration: 3000,
            size: 3,
            flags: FLAGS_SYNC,
            composition_offset: 0,
        }];
        let audio = [Sample {
            duration: 1024,
            size: 2,
            flags: FLAGS_SYNC,
            composition_offset: 0,
        }];
        let vdata = [Bytes::from_static(b"abc")];
        let adata = [Bytes::from_static(b"xy")];
        let f = fragment(
            7,
            &[
                TrackRun {
                    track_id: 1,
                    base_decode_time: 90_000,
                    samples: &samples,
                    data: &vdata,
                },
                TrackRun {
                    track_id: 2,
                    base_decode_time: 44_100,
                    samples: &audio,
                    data: &adata,
                },
            ],
        );
        let boxes = top_level_boxes(&f);
        assert_eq!(boxes.len(), 2);
        assert_eq!(&boxes[0].0, b"moof");
        assert_eq!(&boxes[1].0, b"mdat");
        let moof_len = boxes[0].1.len();
        assert_eq!(&f[moof_len + 8..], b"abcxy");
        // The first trun's data offset (after sample_count) = moof + mdat header.
        let trun = f.windows(4).position(|w| w == b"trun").unwrap();
        let off = i32::from_be_bytes(f[trun + 12..trun + 16].try_into().unwrap());
        assert_eq!(off as usize, moof_len + 8);
    }
}
