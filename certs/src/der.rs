//! The few DER encoding steps the openssl crate does not offer: a
//! tag-length-value reader (to find a CSR's signature algorithm) and
//! length/OID encoding (to write an AuthorityKeyIdentifier exactly as Go).

/// Appends a DER length.
pub fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
}

/// Splits one TLV off `buf`: (tag, contents, rest).
pub fn read_tlv(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = buf.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 8 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// Dotted form of an OID's contents octets.
pub fn oid_to_dotted(contents: &[u8]) -> Option<String> {
    let (&first, rest) = contents.split_first()?;
    let mut arcs = vec![u64::from(first / 40), u64::from(first % 40)];
    let mut acc: u64 = 0;
    for &b in rest {
        acc = acc.checked_mul(128)? | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            arcs.push(acc);
            acc = 0;
        }
    }
    Some(
        arcs.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// The signature algorithm OID (dotted) of a signed structure such as a
/// CSR: `SEQUENCE { body, SEQUENCE { OID, ... }, BIT STRING }`.
pub fn signature_algorithm_oid(der: &[u8]) -> Option<String> {
    let (_, outer, _) = read_tlv(der)?;
    let (_, _, after_body) = read_tlv(outer)?;
    let (_, alg, _) = read_tlv(after_body)?;
    let (tag, oid, _) = read_tlv(alg)?;
    if tag != 0x06 {
        return None;
    }
    oid_to_dotted(oid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        let mut v = vec![];
        push_len(&mut v, 20);
        push_len(&mut v, 200);
        push_len(&mut v, 300);
        assert_eq!(v, vec![20, 0x81, 200, 0x82, 0x01, 0x2c]);
    }

    #[test]
    fn oids() {
        let sha256_rsa = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
        assert_eq!(
            oid_to_dotted(&sha256_rsa).as_deref(),
            Some("1.2.840.113549.1.1.11")
        );
    }

    #[test]
    fn tlv_reader_rejects_truncation() {
        assert_eq!(read_tlv(&[0x30, 0x03, 1, 2]), None);
        assert_eq!(read_tlv(&[0x30, 0x82, 0x01]), None);
        let (tag, body, rest) = read_tlv(&[0x04, 0x01, 9, 7]).unwrap();
        assert_eq!((tag, body, rest), (0x04, &[9u8][..], &[7u8][..]));
        assert_eq!(signature_algorithm_oid(&[0x30, 0x00]), None);
    }
}
