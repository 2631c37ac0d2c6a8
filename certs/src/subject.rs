//! Distinguished names built as cfssl (Go's `crypto/x509`) builds them:
//! attributes in the order C, ST, L, O, OU, CN; all values of one attribute
//! in a single (multi-valued) RDN; each value a PrintableString when it
//! allows it, else a UTF8String. The DER is assembled here because
//! OpenSSL's name builder cannot add a value to an existing RDN, and the
//! exact bytes matter: clients compare issuer and subject names bytewise.

use openssl::error::ErrorStack;
use openssl::x509::X509Name;

use crate::der::push_len;
use crate::request::Name;

const TAG_PRINTABLE_STRING: u8 = 0x13;
const TAG_UTF8_STRING: u8 = 0x0c;

/// Whether Go would encode `value` as an ASN.1 PrintableString.
fn is_printable(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?*".contains(&b))
}

fn tlv(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    push_len(&mut out, contents.len());
    out.extend_from_slice(contents);
    out
}

/// `SEQUENCE { OID 2.5.4.<arc>, string }`.
fn attribute(arc: u8, value: &str) -> Vec<u8> {
    let tag = if is_printable(value) {
        TAG_PRINTABLE_STRING
    } else {
        TAG_UTF8_STRING
    };
    let mut body = tlv(0x06, &[0x55, 0x04, arc]);
    body.extend(tlv(tag, value.as_bytes()));
    tlv(0x30, &body)
}

/// Builds the subject for `common_name` and the request's `names`.
pub fn build_subject(common_name: &str, names: &[Name]) -> Result<X509Name, ErrorStack> {
    type Field = fn(&Name) -> &str;
    // 2.5.4.x arcs: C=6, ST=8, L=7, O=10, OU=11, in Go's order.
    let fields: [(u8, Field); 5] = [
        (6, |n| &n.country),
        (8, |n| &n.province),
        (7, |n| &n.locality),
        (10, |n| &n.organization),
        (11, |n| &n.organizational_unit),
    ];
    let mut rdns: Vec<Vec<&str>> = fields
        .iter()
        .map(|(_, field)| names.iter().map(field).filter(|v| !v.is_empty()).collect())
        .collect();
    rdns.push(if common_name.is_empty() {
        vec![]
    } else {
        vec![common_name]
    });
    let arcs = fields.iter().map(|(arc, _)| *arc).chain([3]);
    let mut sequence = vec![];
    for (arc, values) in arcs.zip(rdns) {
        if values.is_empty() {
            continue;
        }
        // DER orders the members of a SET OF by their encodings.
        let mut members: Vec<Vec<u8>> = values.iter().map(|v| attribute(arc, v)).collect();
        members.sort();
        sequence.extend(tlv(0x31, &members.concat()));
    }
    X509Name::from_der(&tlv(0x30, &sequence))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(name: &X509Name) -> Vec<(String, String)> {
        name.entries()
            .map(|e| {
                (
                    e.object().nid().short_name().unwrap_or("?").to_string(),
                    e.data().to_string().unwrap_or_default(),
                )
            })
            .collect()
    }

    /// Whether the name's DER holds `value` with the given string tag.
    fn encoded_as(name: &X509Name, tag: u8, value: &str) -> bool {
        let mut needle = vec![tag, value.len() as u8];
        needle.extend_from_slice(value.as_bytes());
        let der = name.to_der().unwrap();
        der.windows(needle.len()).any(|w| w == needle.as_slice())
    }

    #[test]
    fn orders_attributes_like_go() {
        let names = vec![
            Name {
                country: "CN".into(),
                province: "henan".into(),
                organization: "zhengzhou".into(),
                organizational_unit: "zoneyet".into(),
                ..Name::default()
            },
            Name {
                organization: "system:masters".into(),
                ..Name::default()
            },
        ];
        let subject = build_subject("admin", &names).unwrap();
        let got = entries(&subject);
        let want = [
            ("C", "CN"),
            ("ST", "henan"),
            ("O", "zhengzhou"),
            ("O", "system:masters"),
            ("OU", "zoneyet"),
            ("CN", "admin"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
        // Both O values share one RDN, as Go writes them: five RDNs in all.
        let der = subject.to_der().unwrap();
        let (_, mut rest, _) = crate::der::read_tlv(&der).unwrap();
        let mut rdns = 0;
        while let Some((tag, _, next)) = crate::der::read_tlv(rest) {
            assert_eq!(tag, 0x31);
            rdns += 1;
            rest = next;
        }
        assert_eq!(rdns, 5);
    }

    #[test]
    fn string_types() {
        let subject = build_subject(
            "河南",
            &[Name {
                organization: "a_b".into(),
                ..Name::default()
            }],
        )
        .unwrap();
        // UTF8String (tag 12) for what PrintableString cannot hold.
        assert!(encoded_as(&subject, 0x0c, "a_b"));
        assert!(encoded_as(&subject, 0x0c, "河南"));
        // PrintableString (tag 19) otherwise, as Go does.
        let subject = build_subject("system:node:hdss7-21", &[]).unwrap();
        assert!(encoded_as(&subject, 0x13, "system:node:hdss7-21"));
    }
}
