//! The `application/trickle-ice-sdpfrag` bodies of WHIP/WHEP `PATCH` (RFC 8840, RFC 9725 §4.3):
//! ICE credentials, candidates and end-of-candidates, optionally per media section. str0m
//! parses full SDP only, so this small parser is ours; it never panics on any input
//! (property-tested below) and refuses what is not a fragment with a reason.

/// What a PATCH carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdpFrag {
    pub ufrag: Option<String>,
    pub pwd: Option<String>,
    /// `candidate:…` values without the `a=` prefix, as `Candidate::from_sdp_string` takes.
    pub candidates: Vec<String>,
    pub end_of_candidates: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FragError {
    #[error("the fragment is larger than {0} bytes")]
    TooLarge(usize),
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: &'static str },
}

/// A fragment bigger than this is not trickle: a browser sends one candidate per PATCH, OBS
/// none, a restart a handful.
pub const MAX_FRAG_BYTES: usize = 16 * 1024;

impl SdpFrag {
    pub fn parse(body: &str) -> Result<SdpFrag, FragError> {
        if body.len() > MAX_FRAG_BYTES {
            return Err(FragError::TooLarge(MAX_FRAG_BYTES));
        }
        let mut frag = SdpFrag::default();
        for (i, raw) in body.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            let bad = |reason| FragError::Line {
                line: i + 1,
                reason,
            };
            let Some((kind, value)) = line.split_once('=') else {
                return Err(bad("not an SDP line (x=value)"));
            };
            match kind {
                "a" => {
                    let (attr, arg) = value.split_once(':').unwrap_or((value, ""));
                    match attr {
                        "ice-ufrag" => {
                            frag.ufrag = Some(ice_char_token(arg).ok_or(bad("bad ice-ufrag"))?)
                        }
                        "ice-pwd" => {
                            frag.pwd = Some(ice_char_token(arg).ok_or(bad("bad ice-pwd"))?)
                        }
                        "candidate" => {
                            if arg.split_whitespace().count() < 8 {
                                return Err(bad("a candidate has at least eight fields"));
                            }
                            frag.candidates.push(value.to_string());
                        }
                        "end-of-candidates" => frag.end_of_candidates = true,
                        // mid, ice-options, group: context the single session does not need.
                        _ => {}
                    }
                }
                // A fragment may repeat the media sections it applies to.
                "m" => {}
                _ => return Err(bad("only a= and m= lines belong in a fragment")),
            }
        }
        Ok(frag)
    }

    /// Credentials that differ from the session's mean the client restarts ICE.
    pub fn restarts(&self, current_ufrag: &str) -> bool {
        self.ufrag.as_deref().is_some_and(|u| u != current_ufrag)
    }
}

/// ICE's `ice-char` (RFC 8839 §5.4): letters, digits, `+` and `/`; 4 to 256 of them.
fn ice_char_token(s: &str) -> Option<String> {
    let s = s.trim();
    let ok = (4..=256).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    ok.then(|| s.to_string())
}

/// Replaces the ICE credentials of a full SDP (every `a=ice-ufrag`/`a=ice-pwd` line, session
/// or media level) and drops its candidates: the offer as it would read after the client's
/// restart, for str0m to accept again.
pub fn with_credentials(sdp: &str, ufrag: &str, pwd: &str) -> String {
    let mut out = String::with_capacity(sdp.len());
    for line in sdp.lines() {
        let line = line.trim_end_matches('\r');
        if line.starts_with("a=ice-ufrag:") {
            out.push_str("a=ice-ufrag:");
            out.push_str(ufrag);
        } else if line.starts_with("a=ice-pwd:") {
            out.push_str("a=ice-pwd:");
            out.push_str(pwd);
        } else if line.starts_with("a=candidate:") || line == "a=end-of-candidates" {
            continue;
        } else {
            out.push_str(line);
        }
        out.push_str("\r\n");
    }
    out
}

/// The `a=ice-ufrag`/`a=ice-pwd` of an SDP (the first of each).
pub fn credentials(sdp: &str) -> Option<(String, String)> {
    let find = |key: &str| {
        sdp.lines()
            .find_map(|l| l.trim_end_matches('\r').strip_prefix(key))
            .map(|v| v.trim().to_string())
    };
    Some((find("a=ice-ufrag:")?, find("a=ice-pwd:")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn browser_trickle_and_restart() {
        let f = SdpFrag::parse(
            "a=ice-ufrag:EsAw\r\na=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n\
             a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0 ufrag EsAw network-id 1\r\n\
             a=end-of-candidates\r\n",
        )
        .unwrap();
        assert_eq!(f.ufrag.as_deref(), Some("EsAw"));
        assert_eq!(f.candidates.len(), 1);
        assert!(f.candidates[0].starts_with("candidate:1387637174"));
        assert!(f.end_of_candidates);
        assert!(f.restarts("other") && !f.restarts("EsAw"));
    }

    #[test]
    fn refuses_what_is_not_a_fragment() {
        assert!(SdpFrag::parse("hello").is_err());
        assert!(SdpFrag::parse("v=0\r\n").is_err());
        assert!(SdpFrag::parse("a=ice-ufrag:a b").is_err());
        assert!(SdpFrag::parse("a=candidate:1 1 udp").is_err());
        assert!(SdpFrag::parse(&"a=x\n".repeat(5000)).is_err());
        assert_eq!(SdpFrag::parse("").unwrap(), SdpFrag::default());
    }

    #[test]
    fn credentials_are_swapped_and_candidates_dropped() {
        let sdp = "v=0\r\na=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=candidate:1 1 udp 1 192.0.2.1 5 typ host\r\na=ice-ufrag:abcd\r\n";
        let out = with_credentials(sdp, "wxyz", "pppppppppppppppppppppp");
        assert_eq!(out.matches("a=ice-ufrag:wxyz").count(), 2);
        assert!(!out.contains("abcd") && !out.contains("candidate"));
        assert_eq!(
            credentials(&out),
            Some(("wxyz".into(), "pppppppppppppppppppppp".into()))
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in ".{0,400}") {
            let _ = SdpFrag::parse(&s);
            let _ = credentials(&s);
            let _ = with_credentials(&s, "abcd", "efgh");
        }

        #[test]
        fn sdp_shaped_lines_never_panic(lines in prop::collection::vec("(a|m|v)=[a-z\\-]{0,12}(:[ -~]{0,40})?", 0..20)) {
            let _ = SdpFrag::parse(&lines.join("\r\n"));
        }
    }
}
