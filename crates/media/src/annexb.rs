//! H.264 as WebRTC delivers it (an access unit in Annex B, start codes between NAL units, the
//! parameter sets in band) turned into what the packager takes: an `avcC` record built from
//! the SPS and PPS, and the frame's NAL units with 4-byte lengths. (Opus packets go in as they
//! are; their duration comes from `codec::opus_packet_samples`.)
//!
//! Publishers differ in where the parameter sets sit (OBS repeats them before every keyframe;
//! a browser too, but an SPS may come in its own RTP packet, the PPS and IDR in a STAP-A):
//! [`AvcAssembler`] keeps the last SPS and PPS it saw and builds a new record whenever they
//! change, so a frame without them still finds the configuration in force.

use crate::codec::{CodecError, VideoCodecKind, VideoConfig};
use bytes::{BufMut, Bytes, BytesMut};

const NAL_SLICE_IDR: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;
const NAL_AUD: u8 = 9;
const NAL_FILLER: u8 = 12;

/// The NAL units of an Annex B byte stream (start codes `00 00 01` or `00 00 00 01`), without
/// their start codes; empty units are skipped. Input without any start code is one unit.
pub fn nal_units(stream: &[u8]) -> Vec<&[u8]> {
    let mut units = Vec::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i + 3 <= stream.len() {
        if stream[i] == 0 && stream[i + 1] == 0 && stream[i + 2] == 1 {
            if let Some(s) = start {
                // A 4-byte start code's leading zero belongs to it, not to the unit before.
                let mut end = i;
                while end > s && stream[end - 1] == 0 {
                    end -= 1;
                }
                if end > s {
                    units.push(&stream[s..end]);
                }
            }
            i += 3;
            start = Some(i);
        } else {
            i += 1;
        }
    }
    match start {
        Some(s) if s < stream.len() => units.push(&stream[s..]),
        Some(_) => {}
        None if !stream.is_empty() => units.push(stream),
        None => {}
    }
    units
}

/// One access unit ready for the packager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcFrame {
    /// NAL units with 4-byte big-endian lengths (the `avcC` written says 4).
    pub data: Bytes,
    /// Holds an IDR slice: a decoder can start here.
    pub keyframe: bool,
    /// A new decoder configuration to install before this frame (the first, or changed).
    pub config: Option<VideoConfig>,
}

/// Keeps the parameter sets in force across access units.
#[derive(Debug, Default)]
pub struct AvcAssembler {
    sps: Option<Bytes>,
    pps: Option<Bytes>,
    /// Set when the parameter sets changed and the record has not been handed out yet.
    dirty: bool,
    current: Option<VideoConfig>,
}

impl AvcAssembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// The configuration in force, once an SPS and a PPS have been seen.
    pub fn config(&self) -> Option<&VideoConfig> {
        self.current.as_ref()
    }

    /// Converts one Annex B access unit. `Ok(None)` when it holds no picture (parameter sets
    /// alone, delimiters, filler), or when no configuration is known yet.
    pub fn push(&mut self, access_unit: &[u8]) -> Result<Option<AvcFrame>, CodecError> {
        let mut out = BytesMut::with_capacity(access_unit.len() + 16);
        let mut keyframe = false;
        let mut pictures = 0usize;
        for nal in nal_units(access_unit) {
            let kind = nal[0] & 0x1f;
            match kind {
                NAL_SPS => {
                    if self.sps.as_deref() != Some(nal) {
                        self.sps = Some(Bytes::copy_from_slice(nal));
                        self.dirty = true;
                    }
                    continue;
                }
                NAL_PPS => {
                    if self.pps.as_deref() != Some(nal) {
                        self.pps = Some(Bytes::copy_from_slice(nal));
                        self.dirty = true;
                    }
                    continue;
                }
                NAL_AUD | NAL_FILLER => continue,
                NAL_SLICE_IDR => keyframe = true,
                1..=4 => {}
                _ => {} // SEI and others travel with the frame
            }
            if (1..=5).contains(&kind) {
                pictures += 1;
            }
            out.put_u32(nal.len() as u32);
            out.put_slice(nal);
        }
        let mut config = None;
        if self.dirty {
            if let (Some(sps), Some(pps)) = (&self.sps, &self.pps) {
                let cfg = VideoConfig::parse(VideoCodecKind::Avc, avcc_record(sps, pps)?)?;
                self.dirty = false;
                if self.current.as_ref() != Some(&cfg) {
                    config = Some(cfg.clone());
                    self.current = Some(cfg);
                }
            }
        }
        if pictures == 0 || self.current.is_none() {
            return Ok(None);
        }
        Ok(Some(AvcFrame {
            data: out.freeze(),
            keyframe,
            config,
        }))
    }
}

/// An AVCDecoderConfigurationRecord (ISO/IEC 14496-15 §5.3.3.1) for one SPS and one PPS, with
/// 4-byte NAL lengths.
pub fn avcc_record(sps: &[u8], pps: &[u8]) -> Result<Bytes, CodecError> {
    const WHAT: &str = "sequence parameter set";
    if sps.len() < 4 {
        return Err(CodecError::Truncated { what: WHAT });
    }
    if sps.len() > u16::MAX as usize || pps.len() > u16::MAX as usize || pps.is_empty() {
        return Err(CodecError::Invalid {
            what: "parameter sets",
            reason: "size out of range".into(),
        });
    }
    let mut r = BytesMut::with_capacity(11 + sps.len() + pps.len());
    r.put_u8(1);
    r.put_slice(&sps[1..4]); // profile, constraint flags, level
    r.put_u8(0xfc | 3); // 4-byte lengths
    r.put_u8(0xe0 | 1);
    r.put_u16(sps.len() as u16);
    r.put_slice(sps);
    r.put_u8(1);
    r.put_u16(pps.len() as u16);
    r.put_slice(pps);
    Ok(r.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The SPS and PPS inside the libx264 320x240 avcC of the codec tests.
    fn x264_parameter_sets() -> (Vec<u8>, Vec<u8>) {
        let r = include_bytes!("../testdata/avcc_320x240.bin");
        let sps_len = u16::from_be_bytes([r[6], r[7]]) as usize;
        let sps = r[8..8 + sps_len].to_vec();
        let p = 8 + sps_len + 1;
        let pps_len = u16::from_be_bytes([r[p], r[p + 1]]) as usize;
        (sps, r[p + 2..p + 2 + pps_len].to_vec())
    }

    fn annexb(units: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, u) in units.iter().enumerate() {
            out.extend_from_slice(if i % 2 == 0 {
                &[0, 0, 0, 1]
            } else {
                &[0, 0, 1]
            });
            out.extend_from_slice(u);
        }
        out
    }

    #[test]
    fn splits_on_three_and_four_byte_start_codes() {
        let s = annexb(&[&[0x67, 1, 2], &[0x68, 3], &[0x65, 0, 0, 5]]);
        assert_eq!(
            nal_units(&s),
            vec![&[0x67, 1, 2][..], &[0x68, 3][..], &[0x65, 0, 0, 5][..]]
        );
        assert_eq!(nal_units(&[0x41, 9]), vec![&[0x41, 9][..]]);
        assert!(nal_units(&[]).is_empty());
    }

    #[test]
    fn keyframe_with_parameter_sets_installs_a_config() {
        let (sps, pps) = x264_parameter_sets();
        let mut a = AvcAssembler::new();
        let idr = [0x65, 0x88, 0x84, 0x00];
        let f = a
            .push(&annexb(&[&[0x09, 0xf0], &sps, &pps, &idr]))
            .unwrap()
            .unwrap();
        assert!(f.keyframe);
        let cfg = f.config.unwrap();
        assert_eq!((cfg.width, cfg.height), (320, 240));
        assert_eq!(cfg.nal_length_size, 4);
        assert_eq!(&f.data[..], &[0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00]);
        // The same parameter sets again: no new configuration.
        let f = a.push(&annexb(&[&sps, &pps, &idr])).unwrap().unwrap();
        assert!(f.config.is_none());
        let p = a.push(&annexb(&[&[0x41, 0x9a, 1]])).unwrap().unwrap();
        assert!(!p.keyframe && p.config.is_none());
    }

    #[test]
    fn sps_in_its_own_unit_then_pps_and_idr() {
        let (sps, pps) = x264_parameter_sets();
        let mut a = AvcAssembler::new();
        assert_eq!(a.push(&annexb(&[&sps])).unwrap(), None);
        let f = a.push(&annexb(&[&pps, &[0x65, 1]])).unwrap().unwrap();
        assert!(f.keyframe && f.config.is_some());
    }

    #[test]
    fn frames_before_any_configuration_are_dropped() {
        let mut a = AvcAssembler::new();
        assert_eq!(a.push(&annexb(&[&[0x41, 1, 2]])).unwrap(), None);
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let mut a = AvcAssembler::new();
            let _ = a.push(&bytes);
            let _ = a.push(&bytes);
            let total: usize = nal_units(&bytes).iter().map(|u| u.len()).sum();
            prop_assert!(total <= bytes.len());
        }

        #[test]
        fn mutated_keyframes_never_panic(i in 0usize..64, v in any::<u8>()) {
            let (sps, pps) = x264_parameter_sets();
            let mut s = annexb(&[&sps, &pps, &[0x65, 1, 2, 3]]);
            let i = i % s.len();
            s[i] = v;
            let _ = AvcAssembler::new().push(&s);
        }
    }
}
