//! The protobuf wire format, read with `prost`'s decoder (the same
//! functions its generated messages call): tagged fields over a borrowed
//! buffer, every length checked against the remaining input. The fixed
//! messages (the envelope, times, IntOrString) are `prost::Message`s in
//! `messages.rs`; this reader walks the objects whose shape comes from
//! `schema.json`.

use prost::bytes::Buf;
use prost::encoding::{WireType, decode_key, decode_varint};

/// A field's payload by wire type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WireValue<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    pub number: u32,
    pub value: WireValue<'a>,
}

pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn varint(&mut self) -> Result<u64, String> {
        decode_varint(&mut self.buf).map_err(|e| e.to_string())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.buf.len() {
            return Err("field length exceeds the message".into());
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// The next field, or `None` at the end of the message.
    pub fn next_field(&mut self) -> Result<Option<Field<'a>>, String> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let (number, wire_type) = decode_key(&mut self.buf).map_err(|e| e.to_string())?;
        let value = match wire_type {
            WireType::Varint => WireValue::Varint(self.varint()?),
            WireType::SixtyFourBit => WireValue::Fixed64(self.take(8)?.get_u64_le()),
            WireType::LengthDelimited => {
                let len = usize::try_from(self.varint()?).map_err(|_| "length out of range")?;
                WireValue::Bytes(self.take(len)?)
            }
            WireType::ThirtyTwoBit => WireValue::Fixed32(self.take(4)?.get_u32_le()),
            other => return Err(format!("unsupported wire type {other:?}")),
        };
        Ok(Some(Field { number, value }))
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    fn varint(mut v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    /// Encodes a length-delimited field (test helper).
    pub fn bytes_field(number: u32, payload: &[u8]) -> Vec<u8> {
        let mut out = varint(u64::from(number) << 3 | 2);
        out.extend(varint(payload.len() as u64));
        out.extend_from_slice(payload);
        out
    }

    /// Encodes a varint field (test helper).
    pub fn varint_field(number: u32, v: u64) -> Vec<u8> {
        let mut out = varint(u64::from(number) << 3);
        out.extend(varint(v));
        out
    }

    #[test]
    fn reads_fields_and_rejects_truncation() {
        let msg = [varint_field(1, 300), bytes_field(2, b"hi")].concat();
        let mut r = Reader::new(&msg);
        let f = r.next_field().expect("ok").expect("field");
        assert_eq!((f.number, f.value), (1, WireValue::Varint(300)));
        let f = r.next_field().expect("ok").expect("field");
        assert_eq!((f.number, f.value), (2, WireValue::Bytes(b"hi")));
        assert!(r.next_field().expect("ok").is_none());
        let mut bad = Reader::new(&[0x12, 0x05, b'a']);
        assert!(bad.next_field().is_err());
    }
}
