//! Codec configuration records as they arrive in FLV sequence headers: H.264 (`avcC`), HEVC
//! (`hvcC`) and AAC (AudioSpecificConfig). Parsed for what packaging and players need: picture
//! size, the RFC 6381 codec string, NAL length size, sample rate and channels.

use crate::bits::{unescape_rbsp, BitReader, BitsExhausted};
use bytes::Bytes;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("{what} is truncated")]
    Truncated { what: &'static str },
    #[error("{what}: {reason}")]
    Invalid { what: &'static str, reason: String },
}

fn truncated(what: &'static str) -> impl Fn(BitsExhausted) -> CodecError {
    move |_| CodecError::Truncated { what }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodecKind {
    Avc,
    Hevc,
}

/// A video track's decoder configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoConfig {
    pub kind: VideoCodecKind,
    /// The record itself, copied verbatim into the `avcC`/`hvcC` box.
    pub record: Bytes,
    pub width: u32,
    pub height: u32,
    /// RFC 6381, e.g. `avc1.64001F` or `hvc1.1.6.L93.B0`.
    pub codec_string: String,
    pub nal_length_size: u8,
}

impl VideoConfig {
    pub fn parse(kind: VideoCodecKind, record: Bytes) -> Result<Self, CodecError> {
        match kind {
            VideoCodecKind::Avc => parse_avcc(record),
            VideoCodecKind::Hevc => parse_hvcc(record),
        }
    }
}

fn parse_avcc(record: Bytes) -> Result<VideoConfig, CodecError> {
    const WHAT: &str = "AVCDecoderConfigurationRecord";
    let r = &record[..];
    if r.len() < 7 {
        return Err(CodecError::Truncated { what: WHAT });
    }
    if r[0] != 1 {
        return Err(CodecError::Invalid {
            what: WHAT,
            reason: format!("version {}", r[0]),
        });
    }
    let nal_length_size = (r[4] & 3) + 1;
    if nal_length_size == 3 {
        return Err(CodecError::Invalid {
            what: WHAT,
            reason: "3-byte NAL lengths are not allowed".into(),
        });
    }
    let num_sps = r[5] & 0x1f;
    let mut pos = 6;
    let mut first_sps: Option<&[u8]> = None;
    for _ in 0..num_sps {
        let len = r
            .get(pos..pos + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
            .ok_or(CodecError::Truncated { what: WHAT })?;
        let sps = r
            .get(pos + 2..pos + 2 + len)
            .ok_or(CodecError::Truncated { what: WHAT })?;
        first_sps.get_or_insert(sps);
        pos += 2 + len;
    }
    let sps = first_sps.ok_or(CodecError::Invalid {
        what: WHAT,
        reason: "no sequence parameter set".into(),
    })?;
    let num_pps = *r.get(pos).ok_or(CodecError::Truncated { what: WHAT })?;
    pos += 1;
    for _ in 0..num_pps {
        let len = r
            .get(pos..pos + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
            .ok_or(CodecError::Truncated { what: WHAT })?;
        if r.len() < pos + 2 + len {
            return Err(CodecError::Truncated { what: WHAT });
        }
        pos += 2 + len;
    }
    let (width, height) = avc_sps_dimensions(sps)?;
    Ok(VideoConfig {
        kind: VideoCodecKind::Avc,
        codec_string: format!("avc1.{:02X}{:02X}{:02X}", r[1], r[2], r[3]),
        record,
        width,
        height,
        nal_length_size,
    })
}

/// Picture size from an H.264 SPS (ITU-T H.264 §7.3.2.1.1), cropping applied.
pub fn avc_sps_dimensions(sps_nal: &[u8]) -> Result<(u32, u32), CodecError> {
    const WHAT: &str = "H.264 SPS";
    let rbsp = unescape_rbsp(sps_nal.get(1..).unwrap_or(&[]));
    let mut b = BitReader::new(&rbsp);
    let t = truncated(WHAT);
    let profile_idc = b.bits(8).map_err(&t)?;
    b.skip(16).map_err(&t)?; // constraint flags, level
    b.ue().map_err(&t)?; // seq_parameter_set_id
    let mut chroma_format_idc = 1;
    let mut separate_colour_plane = false;
    if matches!(
        profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        chroma_format_idc = b.ue().map_err(&t)?;
        if chroma_format_idc == 3 {
            separate_colour_plane = b.flag().map_err(&t)?;
        }
        b.ue().map_err(&t)?; // bit_depth_luma_minus8
        b.ue().map_err(&t)?; // bit_depth_chroma_minus8
        b.flag().map_err(&t)?; // qpprime_y_zero_transform_bypass
        if b.flag().map_err(&t)? {
            let lists = if chroma_format_idc == 3 { 12 } else { 8 };
            for i in 0..lists {
                if b.flag().map_err(&t)? {
                    let size = if i < 6 { 16 } else { 64 };
                    let (mut last, mut next) = (8i32, 8i32);
                    for _ in 0..size {
                        if next != 0 {
                            let delta = b.se().map_err(&t)?;
                            // H.264 7.4.2.1.1: delta_scale is within −128..=127.
                            if !(-128..=127).contains(&delta) {
                                return Err(CodecError::Invalid {
                                    what: WHAT,
                                    reason: format!("delta_scale {delta}"),
                                });
                            }
                            next = (last + delta + 256).rem_euclid(256);
                        }
                        if next != 0 {
                            last = next;
                        }
                    }
                }
            }
        }
    }
    b.ue().map_err(&t)?; // log2_max_frame_num_minus4
    match b.ue().map_err(&t)? {
        0 => {
            b.ue().map_err(&t)?;
        }
        1 => {
            b.flag().map_err(&t)?;
            b.se().map_err(&t)?;
            b.se().map_err(&t)?;
            let n = b.ue().map_err(&t)?;
            if n > 255 {
                return Err(CodecError::Invalid {
                    what: WHAT,
                    reason: "num_ref_frames_in_pic_order_cnt_cycle > 255".into(),
                });
            }
            for _ in 0..n {
                b.se().map_err(&t)?;
            }
        }
        _ => {}
    }
    b.ue().map_err(&t)?; // max_num_ref_frames
    b.flag().map_err(&t)?; // gaps_in_frame_num_value_allowed
    let width_mbs = b.ue().map_err(&t)? as u64 + 1;
    let height_map_units = b.ue().map_err(&t)? as u64 + 1;
    let frame_mbs_only = b.flag().map_err(&t)? as u64;
    if frame_mbs_only == 0 {
        b.flag().map_err(&t)?; // mb_adaptive_frame_field
    }
    b.flag().map_err(&t)?; // direct_8x8_inference
    let mut crop = [0u64; 4];
    if b.flag().map_err(&t)? {
        for c in &mut crop {
            *c = b.ue().map_err(&t)? as u64;
        }
    }
    let array_type = if separate_colour_plane {
        0
    } else {
        chroma_format_idc
    };
    let (sub_w, sub_h) = match array_type {
        1 => (2, 2),
        2 => (2, 1),
        _ => (1, 1),
    };
    let crop_x = if array_type == 0 { 1 } else { sub_w };
    let crop_y = (if array_type == 0 { 1 } else { sub_h }) * (2 - frame_mbs_only);
    let w = (width_mbs * 16).checked_sub(crop_x * (crop[0] + crop[1]));
    let h =
        ((2 - frame_mbs_only) * height_map_units * 16).checked_sub(crop_y * (crop[2] + crop[3]));
    match (w, h) {
        (Some(w), Some(h)) if (1..=16384).contains(&w) && (1..=16384).contains(&h) => {
            Ok((w as u32, h as u32))
        }
        _ => Err(CodecError::Invalid {
            what: WHAT,
            reason: "picture size out of range".into(),
        }),
    }
}

fn parse_hvcc(record: Bytes) -> Result<VideoConfig, CodecError> {
    const WHAT: &str = "HEVCDecoderConfigurationRecord";
    let r = &record[..];
    if r.len() < 23 {
        return Err(CodecError::Truncated { what: WHAT });
    }
    if r[0] != 1 {
        return Err(CodecError::Invalid {
            what: WHAT,
            reason: format!("version {}", r[0]),
        });
    }
    let profile_space = r[1] >> 6;
    let tier = (r[1] >> 5) & 1;
    let profile_idc = r[1] & 0x1f;
    let compat = u32::from_be_bytes([r[2], r[3], r[4], r[5]]);
    let constraints = &r[6..12];
    let level = r[12];
    let nal_length_size = (r[21] & 3) + 1;
    let num_arrays = r[22];
    let mut pos = 23;
    let mut sps: Option<&[u8]> = None;
    for _ in 0..num_arrays {
        let head = r
            .get(pos..pos + 3)
            .ok_or(CodecError::Truncated { what: WHAT })?;
        let nal_type = head[0] & 0x3f;
        let count = u16::from_be_bytes([head[1], head[2]]);
        pos += 3;
        for _ in 0..count {
            let len = r
                .get(pos..pos + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]) as usize)
                .ok_or(CodecError::Truncated { what: WHAT })?;
            let nal = r
                .get(pos + 2..pos + 2 + len)
                .ok_or(CodecError::Truncated { what: WHAT })?;
            if nal_type == 33 {
                sps.get_or_insert(nal);
            }
            pos += 2 + len;
        }
    }
    let sps = sps.ok_or(CodecError::Invalid {
        what: WHAT,
        reason: "no sequence parameter set".into(),
    })?;
    let (width, height) = hevc_sps_dimensions(sps)?;
    // RFC 6381 / ISO 14496-15 Annex E: compatibility flags in reverse bit order, trailing zero
    // constraint bytes dropped.
    let space = ["", "A", "B", "C"][profile_space as usize];
    let mut codec_string = format!(
        "hvc1.{space}{profile_idc}.{:X}.{}{level}",
        compat.reverse_bits(),
        if tier == 1 { 'H' } else { 'L' }
    );
    let keep = constraints
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |i| i + 1);
    for c in &constraints[..keep] {
        codec_string.push_str(&format!(".{c:X}"));
    }
    Ok(VideoConfig {
        kind: VideoCodecKind::Hevc,
        record,
        width,
        height,
        codec_string,
        nal_length_size,
    })
}

/// Picture size from an HEVC SPS (ITU-T H.265 §7.3.2.2), conformance window applied.
pub fn hevc_sps_dimensions(sps_nal: &[u8]) -> Result<(u32, u32), CodecError> {
    const WHAT: &str = "HEVC SPS";
    let rbsp = unescape_rbsp(sps_nal.get(2..).unwrap_or(&[]));
    let mut b = BitReader::new(&rbsp);
    let t = truncated(WHAT);
    b.skip(4).map_err(&t)?; // sps_video_parameter_set_id
    let max_sub_layers_minus1 = b.bits(3).map_err(&t)? as usize;
    b.skip(1).map_err(&t)?; // temporal_id_nesting
                            // profile_tier_level(1, max_sub_layers_minus1)
    b.skip(88 + 8).map_err(&t)?;
    let mut sub_profile = [false; 8];
    let mut sub_level = [false; 8];
    for i in 0..max_sub_layers_minus1 {
        sub_profile[i] = b.flag().map_err(&t)?;
        sub_level[i] = b.flag().map_err(&t)?;
    }
    if max_sub_layers_minus1 > 0 {
        b.skip(2 * (8 - max_sub_layers_minus1)).map_err(&t)?;
    }
    for i in 0..max_sub_layers_minus1 {
        if sub_profile[i] {
            b.skip(88).map_err(&t)?;
        }
        if sub_level[i] {
            b.skip(8).map_err(&t)?;
        }
    }
    b.ue().map_err(&t)?; // sps_seq_parameter_set_id
    let chroma_format_idc = b.ue().map_err(&t)?;
    if chroma_format_idc == 3 {
        b.flag().map_err(&t)?; // separate_colour_plane
    }
    let w = b.ue().map_err(&t)? as u64;
    let h = b.ue().map_err(&t)? as u64;
    let (sub_w, sub_h) = match chroma_format_idc {
        1 => (2, 2),
        2 => (2, 1),
        _ => (1, 1),
    };
    let (mut w, mut h) = (Some(w), Some(h));
    if b.flag().map_err(&t)? {
        let mut o = [0u64; 4];
        for v in &mut o {
            *v = b.ue().map_err(&t)? as u64;
        }
        w = w.and_then(|w| w.checked_sub(sub_w * (o[0] + o[1])));
        h = h.and_then(|h| h.checked_sub(sub_h * (o[2] + o[3])));
    }
    match (w, h) {
        (Some(w), Some(h)) if (1..=16384).contains(&w) && (1..=16384).contains(&h) => {
            Ok((w as u32, h as u32))
        }
        _ => Err(CodecError::Invalid {
            what: WHAT,
            reason: "picture size out of range".into(),
        }),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioCodecKind {
    /// From RTMP: an `mp4a` sample entry with the AudioSpecificConfig in `esds`.
    Aac,
    /// From WebRTC: an `Opus` sample entry with `dOps` (Opus in ISO BMFF, §4.3).
    Opus,
}

/// An audio track's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioConfig {
    pub kind: AudioCodecKind,
    /// The AudioSpecificConfig, copied into the `esds` box (AAC; empty for Opus).
    pub asc: Bytes,
    pub object_type: u8,
    pub sample_rate: u32,
    pub channels: u8,
    pub codec_string: String,
}

const AAC_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

impl AudioConfig {
    /// ISO 14496-3 §1.6.2.1.
    pub fn parse_aac(asc: Bytes) -> Result<Self, CodecError> {
        const WHAT: &str = "AudioSpecificConfig";
        let t = truncated(WHAT);
        let mut b = BitReader::new(&asc);
        let mut object_type = b.bits(5).map_err(&t)?;
        if object_type == 31 {
            object_type = 32 + b.bits(6).map_err(&t)?;
        }
        let freq_index = b.bits(4).map_err(&t)?;
        let sample_rate = if freq_index == 15 {
            b.bits(24).map_err(&t)?
        } else {
            *AAC_RATES
                .get(freq_index as usize)
                .ok_or(CodecError::Invalid {
                    what: WHAT,
                    reason: format!("sampling frequency index {freq_index}"),
                })?
        };
        let channels = b.bits(4).map_err(&t)? as u8;
        if object_type == 0 || sample_rate == 0 || sample_rate > 192_000 {
            return Err(CodecError::Invalid {
                what: WHAT,
                reason: format!("object type {object_type}, rate {sample_rate}"),
            });
        }
        Ok(AudioConfig {
            kind: AudioCodecKind::Aac,
            codec_string: format!("mp4a.40.{object_type}"),
            asc,
            object_type: object_type as u8,
            sample_rate,
            // Channel configuration 0 means "in the program config element"; stereo is the
            // right guess for the sample entry.
            channels: if channels == 0 { 2 } else { channels },
        })
    }

    /// Opus as WebRTC carries it: 48 kHz on the wire whatever the encoder's input rate.
    pub fn opus(channels: u8) -> Self {
        AudioConfig {
            kind: AudioCodecKind::Opus,
            asc: Bytes::new(),
            object_type: 0,
            sample_rate: 48_000,
            channels: channels.clamp(1, 2),
            codec_string: "opus".into(),
        }
    }

    /// PCM samples per frame when a packet does not say: 1024 for AAC (HE-AAC signals 2048
    /// at the output rate but the core rate in the ASC keeps 1024 correct for timing), 960
    /// (20 ms) for Opus, what browsers and OBS send.
    pub fn samples_per_frame(&self) -> u32 {
        match self.kind {
            AudioCodecKind::Aac => 1024,
            AudioCodecKind::Opus => 960,
        }
    }

    /// PCM samples in this frame: Opus packets say in their TOC byte.
    pub fn frame_samples(&self, frame: &[u8]) -> u32 {
        match self.kind {
            AudioCodecKind::Aac => 1024,
            AudioCodecKind::Opus => opus_packet_samples(frame).unwrap_or(self.samples_per_frame()),
        }
    }
}

/// Samples (at 48 kHz) in an Opus packet, from its TOC byte and frame count
/// (RFC 6716 §3.1–3.2); `None` for an empty or malformed packet.
pub fn opus_packet_samples(packet: &[u8]) -> Option<u32> {
    let toc = *packet.first()?;
    let config = toc >> 3;
    // Frame size in 48 kHz samples per configuration (RFC 6716 Table 2).
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][(config % 4) as usize],
        12..=15 => [480, 960][(config % 2) as usize],
        _ => [120, 240, 480, 960][(config % 4) as usize],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => (*packet.get(1)? & 0x3f) as u32,
    };
    let total = frame * frames;
    // At most 120 ms per packet (§3.2.5).
    (frames > 0 && total <= 5760).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// avcC of ffmpeg's libx264 at 320x240, High profile level 1.3.
    pub(crate) const AVCC_320X240: &[u8] = include_bytes!("../testdata/avcc_320x240.bin");

    #[test]
    fn x264_avcc() {
        let c = VideoConfig::parse(VideoCodecKind::Avc, Bytes::from_static(AVCC_320X240)).unwrap();
        assert_eq!((c.width, c.height), (320, 240));
        assert_eq!(c.codec_string, "avc1.64000D");
        assert_eq!(c.nal_length_size, 4);
    }

    #[test]
    fn aac_lc_44100_stereo() {
        let a = AudioConfig::parse_aac(Bytes::from_static(&[0x12, 0x10])).unwrap();
        assert_eq!((a.sample_rate, a.channels, a.object_type), (44100, 2, 2));
        assert_eq!(a.codec_string, "mp4a.40.2");
        assert!(AudioConfig::parse_aac(Bytes::from_static(&[0x12])).is_err());
    }

    #[test]
    fn x265_hvcc() {
        let r = include_bytes!("../testdata/hvcc_1280x720.bin");
        let c = VideoConfig::parse(VideoCodecKind::Hevc, Bytes::from_static(r)).unwrap();
        assert_eq!((c.width, c.height), (1280, 720));
        assert_eq!(c.codec_string, "hvc1.1.6.L93.90");
        assert_eq!(c.nal_length_size, 4);
    }

    /// Found by `cargo fuzz run codec_config`: a huge delta_scale in a scaling list overflowed.
    #[test]
    fn fuzz_regression_scaling_list_overflow() {
        let crash = [
            0x1, 0x0, 0x0, 0x0, 0x3f, 0x1, 0x0, 0x23, 0x80, 0x8b, 0x1, 0xb, 0x1, 0x0, 0xff, 0x9,
            0x0, 0x0, 0x0, 0x0, 0xff, 0xff, 0xff, 0x56, 0x56, 0x56, 0xff, 0x0, 0x0, 0xc, 0xff, 0x1,
            0x1, 0xb, 0x1, 0x0, 0x1, 0x0, 0x1, 0x3c, 0x1, 0x0, 0xc, 0x0, 0x0, 0x1c, 0xff, 0x0,
        ];
        for kind in [VideoCodecKind::Avc, VideoCodecKind::Hevc] {
            let _ = VideoConfig::parse(kind, Bytes::copy_from_slice(&crash));
        }
    }

    #[test]
    fn opus_durations() {
        assert_eq!(
            opus_packet_samples(&[1 << 3]), /* SILK 20 ms */
            Some(960)
        );
        assert_eq!(opus_packet_samples(&[(31 << 3) | 1, 0]), Some(1920)); // CELT 20 ms ×2
        assert_eq!(opus_packet_samples(&[(16 << 3) | 3, 4]), Some(480)); // CELT 2.5 ms ×4
        assert_eq!(opus_packet_samples(&[(3 << 3) | 3, 3]), None); // 3 × 60 ms > 120 ms
        assert_eq!(opus_packet_samples(&[]), None);
        assert_eq!(opus_packet_samples(&[3]), None);
    }

    proptest! {
        #[test]
        fn opus_tocs_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..8)) {
            if let Some(n) = opus_packet_samples(&bytes) {
                prop_assert!(n > 0 && n <= 5760);
            }
        }

        #[test]
        fn video_records_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256), hevc in any::<bool>()) {
            let kind = if hevc { VideoCodecKind::Hevc } else { VideoCodecKind::Avc };
            let _ = VideoConfig::parse(kind, Bytes::from(bytes));
        }

        #[test]
        fn mutated_avcc_never_panics(i in 0usize..AVCC_320X240.len(), v in any::<u8>()) {
            let mut r = AVCC_320X240.to_vec();
            r[i] = v;
            let _ = VideoConfig::parse(VideoCodecKind::Avc, Bytes::from(r));
        }

        #[test]
        fn asc_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..16)) {
            let _ = AudioConfig::parse_aac(Bytes::from(bytes));
        }
    }
}

/// Real configurations for tests of the packager and playlists.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub fn avc_320x240() -> VideoConfig {
        VideoConfig::parse(
            VideoCodecKind::Avc,
            Bytes::from_static(include_bytes!("../testdata/avcc_320x240.bin")),
        )
        .unwrap()
    }

    pub fn aac_44100() -> AudioConfig {
        AudioConfig::parse_aac(Bytes::from_static(&[0x12, 0x10])).unwrap()
    }
}
