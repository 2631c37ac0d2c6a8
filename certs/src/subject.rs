//! Distinguished names built as cfssl (Go's `crypto/x509`) builds them:
//! attributes in the order C, ST, L, O, OU, CN, one per RDN, encoded as
//! PrintableString when the value allows it and UTF8String otherwise.

use openssl::asn1::Asn1Type;
use openssl::error::ErrorStack;
use openssl::nid::Nid;
use openssl::x509::{X509Name, X509NameBuilder};

use crate::request::Name;

/// Whether Go would encode `value` as an ASN.1 PrintableString.
fn is_printable(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?*".contains(&b))
}

/// Builds the subject for `common_name` and the request's `names`.
pub fn build_subject(common_name: &str, names: &[Name]) -> Result<X509Name, ErrorStack> {
    type Field = fn(&Name) -> &str;
    let fields: [(Nid, Field); 5] = [
        (Nid::COUNTRYNAME, |n| &n.country),
        (Nid::STATEORPROVINCENAME, |n| &n.province),
        (Nid::LOCALITYNAME, |n| &n.locality),
        (Nid::ORGANIZATIONNAME, |n| &n.organization),
        (Nid::ORGANIZATIONALUNITNAME, |n| &n.organizational_unit),
    ];
    let mut builder = X509NameBuilder::new()?;
    for (nid, field) in fields {
        for name in names {
            append(&mut builder, nid, field(name))?;
        }
    }
    append(&mut builder, Nid::COMMONNAME, common_name)?;
    Ok(builder.build())
}

fn append(builder: &mut X509NameBuilder, nid: Nid, value: &str) -> Result<(), ErrorStack> {
    if value.is_empty() {
        return Ok(());
    }
    let ty = if is_printable(value) {
        Asn1Type::PRINTABLESTRING
    } else {
        Asn1Type::UTF8STRING
    };
    builder.append_entry_by_nid_with_type(nid, value, ty)
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
