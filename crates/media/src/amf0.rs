//! AMF0, the value encoding of RTMP command and data messages.
//!
//! The decoder is total: any byte string yields values or an [`Amf0Error`], never a panic, and
//! nesting is capped so a hostile publisher cannot exhaust the stack.

use std::fmt;

/// Objects nest no deeper than this; real encoders use two or three levels.
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq)]
pub enum Amf0Value {
    Number(f64),
    Boolean(bool),
    /// Short and long strings alike; invalid UTF-8 is replaced, not rejected, because some
    /// encoders put raw bytes in metadata.
    String(String),
    Object(Vec<(String, Amf0Value)>),
    Null,
    Undefined,
    EcmaArray(Vec<(String, Amf0Value)>),
    StrictArray(Vec<Amf0Value>),
    Date {
        millis: f64,
        tz_minutes: i16,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Amf0Error {
    #[error("AMF0 value truncated")]
    Truncated,
    #[error("AMF0 marker {0:#04x} is not supported")]
    UnsupportedMarker(u8),
    #[error("AMF0 values nest deeper than {MAX_DEPTH}")]
    TooDeep,
}

mod marker {
    pub const NUMBER: u8 = 0x00;
    pub const BOOLEAN: u8 = 0x01;
    pub const STRING: u8 = 0x02;
    pub const OBJECT: u8 = 0x03;
    pub const NULL: u8 = 0x05;
    pub const UNDEFINED: u8 = 0x06;
    pub const ECMA_ARRAY: u8 = 0x08;
    pub const OBJECT_END: u8 = 0x09;
    pub const STRICT_ARRAY: u8 = 0x0A;
    pub const DATE: u8 = 0x0B;
    pub const LONG_STRING: u8 = 0x0C;
    pub const XML_DOCUMENT: u8 = 0x0F;
    pub const TYPED_OBJECT: u8 = 0x10;
}

impl Amf0Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Amf0Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Amf0Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// Property lookup on objects and ECMA arrays.
    pub fn get(&self, key: &str) -> Option<&Amf0Value> {
        match self {
            Amf0Value::Object(props) | Amf0Value::EcmaArray(props) => {
                props.iter().find(|(k, _)| k == key).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    pub fn object<K: Into<String>>(props: impl IntoIterator<Item = (K, Amf0Value)>) -> Self {
        Amf0Value::Object(props.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn string(s: impl Into<String>) -> Self {
        Amf0Value::String(s.into())
    }
}

impl fmt::Display for Amf0Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Amf0Value::Number(n) => write!(f, "{n}"),
            Amf0Value::Boolean(b) => write!(f, "{b}"),
            Amf0Value::String(s) => write!(f, "{s:?}"),
            Amf0Value::Null => f.write_str("null"),
            Amf0Value::Undefined => f.write_str("undefined"),
            Amf0Value::Date { millis, .. } => write!(f, "Date({millis})"),
            Amf0Value::StrictArray(items) => {
                f.write_str("[")?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Amf0Value::Object(props) | Amf0Value::EcmaArray(props) => {
                f.write_str("{")?;
                for (i, (k, v)) in props.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Decodes every value in `buf`, in order.
pub fn decode_all(buf: &[u8]) -> Result<Vec<Amf0Value>, Amf0Error> {
    let mut r = Reader { buf, pos: 0 };
    let mut out = Vec::new();
    while r.pos < buf.len() {
        out.push(r.value(0)?);
    }
    Ok(out)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Amf0Error> {
        let end = self.pos.checked_add(n).ok_or(Amf0Error::Truncated)?;
        let s = self.buf.get(self.pos..end).ok_or(Amf0Error::Truncated)?;
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, Amf0Error> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, Amf0Error> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, Amf0Error> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn f64(&mut self) -> Result<f64, Amf0Error> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_be_bytes(a))
    }
    fn utf8(&mut self, len: usize) -> Result<String, Amf0Error> {
        Ok(String::from_utf8_lossy(self.take(len)?).into_owned())
    }
    fn short_string(&mut self) -> Result<String, Amf0Error> {
        let n = self.u16()? as usize;
        self.utf8(n)
    }
    fn long_string(&mut self) -> Result<String, Amf0Error> {
        let n = self.u32()? as usize;
        self.utf8(n)
    }

    /// Key/value pairs up to the empty key + object-end marker. Some encoders end an ECMA array
    /// without the end marker; running out of input right after a value is accepted there.
    fn properties(
        &mut self,
        depth: usize,
        lenient_end: bool,
    ) -> Result<Vec<(String, Amf0Value)>, Amf0Error> {
        let mut props = Vec::new();
        loop {
            if lenient_end && self.pos == self.buf.len() {
                return Ok(props);
            }
            let key = self.short_string()?;
            if key.is_empty() && self.buf.get(self.pos) == Some(&marker::OBJECT_END) {
                self.pos += 1;
                return Ok(props);
            }
            let v = self.value(depth + 1)?;
            props.push((key, v));
        }
    }

    fn value(&mut self, depth: usize) -> Result<Amf0Value, Amf0Error> {
        if depth > MAX_DEPTH {
            return Err(Amf0Error::TooDeep);
        }
        let m = self.u8()?;
        Ok(match m {
            marker::NUMBER => Amf0Value::Number(self.f64()?),
            marker::BOOLEAN => Amf0Value::Boolean(self.u8()? != 0),
            marker::STRING => Amf0Value::String(self.short_string()?),
            marker::LONG_STRING | marker::XML_DOCUMENT => Amf0Value::String(self.long_string()?),
            marker::OBJECT => Amf0Value::Object(self.properties(depth, false)?),
            marker::TYPED_OBJECT => {
                let _class = self.short_string()?;
                Amf0Value::Object(self.properties(depth, false)?)
            }
            marker::NULL => Amf0Value::Null,
            marker::UNDEFINED => Amf0Value::Undefined,
            marker::ECMA_ARRAY => {
                let _count_hint = self.u32()?;
                Amf0Value::EcmaArray(self.properties(depth, true)?)
            }
            marker::STRICT_ARRAY => {
                let n = self.u32()? as usize;
                // Each element takes at least one byte: never reserve more than what is left.
                let mut items = Vec::with_capacity(n.min(self.buf.len() - self.pos));
                for _ in 0..n {
                    items.push(self.value(depth + 1)?);
                }
                Amf0Value::StrictArray(items)
            }
            marker::DATE => {
                let millis = self.f64()?;
                let tz_minutes = self.u16()? as i16;
                Amf0Value::Date { millis, tz_minutes }
            }
            other => return Err(Amf0Error::UnsupportedMarker(other)),
        })
    }
}

/// Appends the AMF0 encoding of `v` to `out`.
pub fn encode(v: &Amf0Value, out: &mut Vec<u8>) {
    match v {
        Amf0Value::Number(n) => {
            out.push(marker::NUMBER);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Amf0Value::Boolean(b) => {
            out.push(marker::BOOLEAN);
            out.push(*b as u8);
        }
        Amf0Value::String(s) => {
            if s.len() <= u16::MAX as usize {
                out.push(marker::STRING);
                out.extend_from_slice(&(s.len() as u16).to_be_bytes());
            } else {
                out.push(marker::LONG_STRING);
                out.extend_from_slice(&(s.len() as u32).to_be_bytes());
            }
            out.extend_from_slice(s.as_bytes());
        }
        Amf0Value::Object(props) => {
            out.push(marker::OBJECT);
            encode_properties(props, out);
        }
        Amf0Value::EcmaArray(props) => {
            out.push(marker::ECMA_ARRAY);
            out.extend_from_slice(&(props.len() as u32).to_be_bytes());
            encode_properties(props, out);
        }
        Amf0Value::StrictArray(items) => {
            out.push(marker::STRICT_ARRAY);
            out.extend_from_slice(&(items.len() as u32).to_be_bytes());
            for i in items {
                encode(i, out);
            }
        }
        Amf0Value::Null => out.push(marker::NULL),
        Amf0Value::Undefined => out.push(marker::UNDEFINED),
        Amf0Value::Date { millis, tz_minutes } => {
            out.push(marker::DATE);
            out.extend_from_slice(&millis.to_be_bytes());
            out.extend_from_slice(&tz_minutes.to_be_bytes());
        }
    }
}

fn encode_properties(props: &[(String, Amf0Value)], out: &mut Vec<u8>) {
    for (k, v) in props {
        // Keys are short strings; a longer key cannot be represented and is cut.
        let k = &k.as_bytes()[..k.len().min(u16::MAX as usize)];
        out.extend_from_slice(&(k.len() as u16).to_be_bytes());
        out.extend_from_slice(k);
        encode(v, out);
    }
    out.extend_from_slice(&[0, 0, marker::OBJECT_END]);
}

pub fn encode_all(values: &[Amf0Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        encode(v, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = Amf0Value> {
        let leaf = prop_oneof![
            any::<f64>()
                .prop_filter("NaN never equals itself", |n| !n.is_nan())
                .prop_map(Amf0Value::Number),
            any::<bool>().prop_map(Amf0Value::Boolean),
            ".{0,40}".prop_map(Amf0Value::String),
            Just(Amf0Value::Null),
            Just(Amf0Value::Undefined),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(("[a-zA-Z]{1,12}", inner.clone()), 0..6)
                    .prop_map(Amf0Value::Object),
                prop::collection::vec(("[a-zA-Z]{1,12}", inner.clone()), 0..6)
                    .prop_map(Amf0Value::EcmaArray),
                prop::collection::vec(inner, 0..6).prop_map(Amf0Value::StrictArray),
            ]
        })
    }

    proptest! {
        #[test]
        fn round_trips(values in prop::collection::vec(value(), 0..5)) {
            let bytes = encode_all(&values);
            prop_assert_eq!(decode_all(&bytes).unwrap(), values);
        }

        #[test]
        fn never_panics_on_garbage(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_all(&bytes);
        }

        #[test]
        fn truncation_is_an_error_not_a_panic(values in prop::collection::vec(value(), 1..4), cut in 0usize..64) {
            let bytes = encode_all(&values);
            let cut = cut.min(bytes.len());
            let _ = decode_all(&bytes[..bytes.len() - cut]);
        }
    }

    #[test]
    fn decodes_ffmpeg_connect_command() {
        // "connect", 1.0, {app: "live", type: "nonprivate", ...} as ffmpeg sends it.
        let mut b = Vec::new();
        encode(&Amf0Value::string("connect"), &mut b);
        encode(&Amf0Value::Number(1.0), &mut b);
        encode(
            &Amf0Value::object([
                ("app", Amf0Value::string("live")),
                ("type", Amf0Value::string("nonprivate")),
                ("tcUrl", Amf0Value::string("rtmp://127.0.0.1:1935/live")),
            ]),
            &mut b,
        );
        let v = decode_all(&b).unwrap();
        assert_eq!(v[0].as_str(), Some("connect"));
        assert_eq!(v[2].get("app").and_then(|a| a.as_str()), Some("live"));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut b = Vec::new();
        for _ in 0..100 {
            b.extend_from_slice(&[marker::STRICT_ARRAY, 0, 0, 0, 1]);
        }
        b.push(marker::NULL);
        assert_eq!(decode_all(&b), Err(Amf0Error::TooDeep));
    }

    #[test]
    fn ecma_array_without_end_marker_is_accepted() {
        let mut b = vec![marker::ECMA_ARRAY, 0, 0, 0, 1];
        b.extend_from_slice(&[0, 5]);
        b.extend_from_slice(b"width");
        encode(&Amf0Value::Number(1280.0), &mut b);
        let v = decode_all(&b).unwrap();
        assert_eq!(v[0].get("width"), Some(&Amf0Value::Number(1280.0)));
    }
}
