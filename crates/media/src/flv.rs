//! FLV audio and video tag bodies, the payload of RTMP audio/video messages: legacy AVC/AAC
//! tags and enhanced-RTMP (v1) video tags with a FourCC (`hvc1`, `avc1`).

use crate::codec::VideoCodecKind;
use bytes::Bytes;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlvError {
    #[error("{0} tag is truncated")]
    Truncated(&'static str),
    #[error("unsupported video codec: {0}; publish H.264 (or HEVC over enhanced RTMP)")]
    UnsupportedVideo(String),
    #[error("unsupported audio codec: {0}; publish AAC")]
    UnsupportedAudio(String),
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoTag {
    /// The decoder configuration record (`avcC`/`hvcC` contents).
    SequenceStart {
        codec: VideoCodecKind,
        record: Bytes,
    },
    /// One access unit: length-prefixed NAL units, as an MP4 sample carries them.
    Frame {
        codec: VideoCodecKind,
        keyframe: bool,
        /// Composition time offset, milliseconds (presentation minus decode time).
        composition_offset: i32,
        data: Bytes,
    },
    SequenceEnd,
    /// Command frames, metadata packets, and other tags that carry no picture.
    Ignored,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioTag {
    /// An AAC AudioSpecificConfig.
    AacSequenceStart(Bytes),
    /// One raw AAC frame.
    AacFrame(Bytes),
}

const FRAME_KEY: u8 = 1;
const FRAME_GENERATED_KEY: u8 = 4;
const FRAME_COMMAND: u8 = 5;

fn i24(b: &[u8]) -> i32 {
    let v = ((b[0] as i32) << 16) | ((b[1] as i32) << 8) | b[2] as i32;
    (v << 8) >> 8 // sign-extend
}

pub fn parse_video(body: &Bytes) -> Result<VideoTag, FlvError> {
    let &b0 = body.first().ok_or(FlvError::Truncated("video"))?;
    if b0 & 0x80 != 0 {
        return parse_enhanced_video(body, b0);
    }
    let frame_type = b0 >> 4;
    let codec_id = b0 & 0x0f;
    if frame_type == FRAME_COMMAND {
        return Ok(VideoTag::Ignored);
    }
    let codec = match codec_id {
        7 => VideoCodecKind::Avc,
        // Codec id 12 is HEVC in the widespread pre-enhanced-RTMP extension (SRS, OBS forks).
        12 => VideoCodecKind::Hevc,
        2 => return Err(FlvError::UnsupportedVideo("Sorenson H.263".into())),
        4 | 5 => return Err(FlvError::UnsupportedVideo("On2 VP6".into())),
        3 | 6 => return Err(FlvError::UnsupportedVideo("Screen video".into())),
        n => return Err(FlvError::UnsupportedVideo(format!("FLV codec id {n}"))),
    };
    let h = body.get(1..5).ok_or(FlvError::Truncated("video"))?;
    let data = body.slice(5..);
    match h[0] {
        0 => Ok(VideoTag::SequenceStart {
            codec,
            record: data,
        }),
        1 => Ok(VideoTag::Frame {
            codec,
            keyframe: matches!(frame_type, FRAME_KEY | FRAME_GENERATED_KEY),
            composition_offset: i24(&h[1..4]),
            data,
        }),
        2 => Ok(VideoTag::SequenceEnd),
        n => Err(FlvError::Invalid {
            what: "AVC packet type",
            reason: n.to_string(),
        }),
    }
}

fn parse_enhanced_video(body: &Bytes, b0: u8) -> Result<VideoTag, FlvError> {
    let frame_type = (b0 >> 4) & 0x07;
    let packet_type = b0 & 0x0f;
    let fourcc = body
        .get(1..5)
        .ok_or(FlvError::Truncated("enhanced video"))?;
    if frame_type == FRAME_COMMAND && packet_type != 4 {
        return Ok(VideoTag::Ignored);
    }
    let codec = match fourcc {
        b"hvc1" => VideoCodecKind::Hevc,
        b"avc1" => VideoCodecKind::Avc,
        other => {
            return Err(FlvError::UnsupportedVideo(
                String::from_utf8_lossy(other).into_owned(),
            ))
        }
    };
    let keyframe = matches!(frame_type, FRAME_KEY | FRAME_GENERATED_KEY);
    match packet_type {
        0 => Ok(VideoTag::SequenceStart {
            codec,
            record: body.slice(5..),
        }),
        1 => {
            let cts = body
                .get(5..8)
                .ok_or(FlvError::Truncated("enhanced video"))?;
            Ok(VideoTag::Frame {
                codec,
                keyframe,
                composition_offset: i24(cts),
                data: body.slice(8..),
            })
        }
        3 => Ok(VideoTag::Frame {
            codec,
            keyframe,
            composition_offset: 0,
            data: body.slice(5..),
        }),
        2 => Ok(VideoTag::SequenceEnd),
        4 => Ok(VideoTag::Ignored), // metadata (HDR colour info); nothing we package needs it
        5 => Err(FlvError::UnsupportedVideo(
            "MPEG-2 TS sequence start (AV1 in TS)".into(),
        )),
        n => Err(FlvError::UnsupportedVideo(format!(
            "enhanced-RTMP packet type {n} (multitrack or later extensions)"
        ))),
    }
}

pub fn parse_audio(body: &Bytes) -> Result<AudioTag, FlvError> {
    let &b0 = body.first().ok_or(FlvError::Truncated("audio"))?;
    let format = b0 >> 4;
    if format != 10 {
        let name = match format {
            0 | 3 => "linear PCM",
            1 => "ADPCM",
            2 | 14 => "MP3",
            4..=6 => "Nellymoser",
            7 => "G.711 A-law",
            8 => "G.711 mu-law",
            9 => "enhanced-RTMP audio",
            11 => "Speex",
            _ => "unknown",
        };
        return Err(FlvError::UnsupportedAudio(format!(
            "{name} (format {format})"
        )));
    }
    let &kind = body.get(1).ok_or(FlvError::Truncated("audio"))?;
    match kind {
        0 => Ok(AudioTag::AacSequenceStart(body.slice(2..))),
        1 => Ok(AudioTag::AacFrame(body.slice(2..))),
        n => Err(FlvError::Invalid {
            what: "AAC packet type",
            reason: n.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn legacy_avc() {
        let seq = Bytes::from_static(&[0x17, 0, 0, 0, 0, 1, 2, 3]);
        assert_eq!(
            parse_video(&seq).unwrap(),
            VideoTag::SequenceStart {
                codec: VideoCodecKind::Avc,
                record: Bytes::from_static(&[1, 2, 3])
            }
        );
        let frame = Bytes::from_static(&[0x27, 1, 0xFF, 0xFF, 0xDE, 9]);
        assert_eq!(
            parse_video(&frame).unwrap(),
            VideoTag::Frame {
                codec: VideoCodecKind::Avc,
                keyframe: false,
                composition_offset: -34,
                data: Bytes::from_static(&[9])
            }
        );
    }

    #[test]
    fn enhanced_hevc() {
        let mut b = vec![0x80 | 0x10 | 1];
        b.extend_from_slice(b"hvc1");
        b.extend_from_slice(&[0, 0, 66, 7]);
        match parse_video(&Bytes::from(b)).unwrap() {
            VideoTag::Frame {
                codec: VideoCodecKind::Hevc,
                keyframe: true,
                composition_offset: 66,
                data,
            } => assert_eq!(&data[..], &[7]),
            other => panic!("{other:?}"),
        }
        let mut av1 = vec![0x80 | 0x10];
        av1.extend_from_slice(b"av01");
        assert!(matches!(
            parse_video(&Bytes::from(av1)),
            Err(FlvError::UnsupportedVideo(_))
        ));
    }

    #[test]
    fn unsupported_codecs_are_named() {
        let e = parse_video(&Bytes::from_static(&[0x22, 0])).unwrap_err();
        assert!(e.to_string().contains("Sorenson"));
        let e = parse_audio(&Bytes::from_static(&[0x2F, 0])).unwrap_err();
        assert!(e.to_string().contains("MP3"));
    }

    proptest! {
        #[test]
        fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let b = Bytes::from(bytes);
            let _ = parse_video(&b);
            let _ = parse_audio(&b);
        }
    }
}

/// One tag of an FLV file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTag {
    /// 8 audio, 9 video, 18 script data.
    pub tag_type: u8,
    pub timestamp: u32,
    pub body: Bytes,
}

/// Reads the tags of an FLV file held in memory (the demo clip, benchmark fixtures).
pub fn read_file(file: &Bytes) -> Result<Vec<FileTag>, FlvError> {
    if file.len() < 9 || &file[..3] != b"FLV" {
        return Err(FlvError::Invalid {
            what: "FLV file",
            reason: "no FLV signature".into(),
        });
    }
    let header_len = u32::from_be_bytes([file[5], file[6], file[7], file[8]]) as usize;
    let mut pos = header_len.max(9) + 4; // header, then PreviousTagSize0
    let mut tags = Vec::new();
    while pos + 11 <= file.len() {
        let h = &file[pos..pos + 11];
        let size = ((h[1] as usize) << 16) | ((h[2] as usize) << 8) | h[3] as usize;
        let ts = ((h[7] as u32) << 24) | ((h[4] as u32) << 16) | ((h[5] as u32) << 8) | h[6] as u32;
        let end = pos + 11 + size;
        if end > file.len() {
            return Err(FlvError::Truncated("FLV file tag"));
        }
        tags.push(FileTag {
            tag_type: h[0] & 0x1f,
            timestamp: ts,
            body: file.slice(pos + 11..end),
        });
        pos = end + 4;
    }
    Ok(tags)
}
