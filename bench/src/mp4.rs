//! Just enough fMP4 reading to time frames as they arrive: the video `tfdt` of each CMAF chunk,
//! reported once the chunk's `mdat` is complete.

#[derive(Default)]
pub struct ChunkParser {
    buf: Vec<u8>,
    pending: Option<u64>,
}

fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    b.get(i..i + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Video (track 1) base decode time of a `moof`.
fn video_tfdt(moof: &[u8]) -> Option<u64> {
    let mut pos = 8;
    while pos + 8 <= moof.len() {
        let size = u32_at(moof, pos)? as usize;
        if size < 8 || pos + size > moof.len() {
            return None;
        }
        if &moof[pos + 4..pos + 8] == b"traf" {
            let traf = &moof[pos..pos + size];
            let mut p = 8;
            let mut track = 0;
            while p + 8 <= traf.len() {
                let s = u32_at(traf, p)? as usize;
                if s < 8 || p + s > traf.len() {
                    return None;
                }
                match &traf[p + 4..p + 8] {
                    b"tfhd" => track = u32_at(traf, p + 12)?,
                    b"tfdt" if track == 1 => {
                        let v = traf[p + 8];
                        return Some(if v == 1 {
                            u64::from_be_bytes(traf[p + 12..p + 20].try_into().ok()?)
                        } else {
                            u32_at(traf, p + 12)? as u64
                        });
                    }
                    _ => {}
                }
                p += s;
            }
        }
        pos += size;
    }
    None
}

impl ChunkParser {
    /// Feeds bytes; returns the decode times of video frames whose chunk just completed.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<u64> {
        self.buf.extend_from_slice(bytes);
        let mut done = Vec::new();
        let mut pos = 0;
        while let Some(size) = u32_at(&self.buf, pos) {
            let size = size as usize;
            if size < 8 || pos + size > self.buf.len() {
                break;
            }
            match &self.buf[pos + 4..pos + 8] {
                b"moof" => self.pending = video_tfdt(&self.buf[pos..pos + size]),
                b"mdat" => done.extend(self.pending.take()),
                _ => {}
            }
            pos += size;
        }
        self.buf.drain(..pos);
        done
    }
}
