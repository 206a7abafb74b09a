//! Canonical encoder.

use crate::Value;

fn head(major: u8, arg: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    if arg < 24 {
        out.push(m | arg as u8);
    } else if arg <= u64::from(u8::MAX) {
        out.extend_from_slice(&[m | 24, arg as u8]);
    } else if arg <= u64::from(u16::MAX) {
        out.push(m | 25);
        out.extend_from_slice(&(arg as u16).to_be_bytes());
    } else if arg <= u64::from(u32::MAX) {
        out.push(m | 26);
        out.extend_from_slice(&(arg as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&arg.to_be_bytes());
    }
}

#[allow(
    clippy::expect_used,
    reason = "Value::Int is documented to stay within the CBOR range"
)]
pub(crate) fn write(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Int(i) => {
            if *i >= 0 {
                head(0, u64::try_from(*i).expect("integer above the CBOR range"), out);
            } else {
                head(
                    1,
                    u64::try_from(-1 - *i).expect("integer below the CBOR range"),
                    out,
                );
            }
        }
        Value::Bytes(b) => {
            head(2, b.len() as u64, out);
            out.extend_from_slice(b);
        }
        Value::Text(t) => {
            head(3, t.len() as u64, out);
            out.extend_from_slice(t.as_bytes());
        }
        Value::Array(a) => {
            head(4, a.len() as u64, out);
            for item in a {
                write(item, out);
            }
        }
        Value::Map(m) => {
            // Canonical order: by encoded key length, then bytewise. Sorting encoded keys gives exactly that
            // when compared as (len, bytes).
            let mut entries: Vec<(Vec<u8>, &Value)> = m.iter().map(|(k, v)| (k.to_vec(), v)).collect();
            entries.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));
            debug_assert!(
                entries
                    .windows(2)
                    .all(|w| w.first().map(|a| &a.0) != w.last().map(|b| &b.0)),
                "map built with a duplicate key"
            );
            head(5, entries.len() as u64, out);
            for (k, v) in entries {
                out.extend_from_slice(&k);
                write(v, out);
            }
        }
        Value::Bool(false) => out.push(0xf4),
        Value::Bool(true) => out.push(0xf5),
        Value::Null => out.push(0xf6),
    }
}
