//! cfssl's usage names (`"signing"`, `"key encipherment"`, `"server auth"`,
//! ...) and the X.509 key usage / extended key usage bits they stand for.

/// A key usage bit (RFC 5280 §4.2.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyUsage {
    DigitalSignature,
    ContentCommitment,
    KeyEncipherment,
    DataEncipherment,
    KeyAgreement,
    CertSign,
    CrlSign,
    EncipherOnly,
    DecipherOnly,
}

/// An extended key usage purpose (RFC 5280 §4.2.1.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExtKeyUsage {
    Any,
    ServerAuth,
    ClientAuth,
    CodeSigning,
    EmailProtection,
    IpsecEndSystem,
    IpsecTunnel,
    IpsecUser,
    TimeStamping,
    OcspSigning,
    MicrosoftSgc,
    NetscapeSgc,
}

impl ExtKeyUsage {
    /// The purpose's OID or OpenSSL short name, for the EKU extension.
    pub fn openssl_name(self) -> &'static str {
        match self {
            ExtKeyUsage::Any => "anyExtendedKeyUsage",
            ExtKeyUsage::ServerAuth => "serverAuth",
            ExtKeyUsage::ClientAuth => "clientAuth",
            ExtKeyUsage::CodeSigning => "codeSigning",
            ExtKeyUsage::EmailProtection => "emailProtection",
            ExtKeyUsage::IpsecEndSystem => "ipsecEndSystem",
            ExtKeyUsage::IpsecTunnel => "ipsecTunnel",
            ExtKeyUsage::IpsecUser => "ipsecUser",
            ExtKeyUsage::TimeStamping => "timeStamping",
            ExtKeyUsage::OcspSigning => "OCSPSigning",
            ExtKeyUsage::MicrosoftSgc => "msSGC",
            ExtKeyUsage::NetscapeSgc => "nsSGC",
        }
    }
}

/// One usage name from a profile, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    Key(KeyUsage),
    Extended(ExtKeyUsage),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown usage {0:?}")]
pub struct UnknownUsage(pub String);

/// Resolves one cfssl usage name.
pub fn parse_usage(name: &str) -> Result<Usage, UnknownUsage> {
    use ExtKeyUsage as E;
    use KeyUsage as K;
    Ok(match name {
        "signing" | "digital signature" => Usage::Key(K::DigitalSignature),
        "content commitment" => Usage::Key(K::ContentCommitment),
        "key encipherment" => Usage::Key(K::KeyEncipherment),
        "key agreement" => Usage::Key(K::KeyAgreement),
        "data encipherment" => Usage::Key(K::DataEncipherment),
        "cert sign" => Usage::Key(K::CertSign),
        "crl sign" => Usage::Key(K::CrlSign),
        "encipher only" => Usage::Key(K::EncipherOnly),
        "decipher only" => Usage::Key(K::DecipherOnly),
        "any" => Usage::Extended(E::Any),
        "server auth" => Usage::Extended(E::ServerAuth),
        "client auth" => Usage::Extended(E::ClientAuth),
        "code signing" => Usage::Extended(E::CodeSigning),
        "email protection" | "s/mime" => Usage::Extended(E::EmailProtection),
        "ipsec end system" => Usage::Extended(E::IpsecEndSystem),
        "ipsec tunnel" => Usage::Extended(E::IpsecTunnel),
        "ipsec user" => Usage::Extended(E::IpsecUser),
        "timestamping" => Usage::Extended(E::TimeStamping),
        "ocsp signing" => Usage::Extended(E::OcspSigning),
        "microsoft sgc" => Usage::Extended(E::MicrosoftSgc),
        "netscape sgc" => Usage::Extended(E::NetscapeSgc),
        other => return Err(UnknownUsage(other.to_string())),
    })
}

/// A profile's usages split into the two extensions, without duplicates,
/// in the order the names were given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usages {
    pub key: Vec<KeyUsage>,
    pub extended: Vec<ExtKeyUsage>,
}

impl Usages {
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Self, UnknownUsage> {
        let mut usages = Usages::default();
        for name in names {
            match parse_usage(name.as_ref())? {
                Usage::Key(k) if !usages.key.contains(&k) => usages.key.push(k),
                Usage::Extended(e) if !usages.extended.contains(&e) => usages.extended.push(e),
                _ => {}
            }
        }
        Ok(usages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_cfssl_name() {
        use ExtKeyUsage as E;
        use KeyUsage as K;
        let cases = [
            ("signing", Usage::Key(K::DigitalSignature)),
            ("digital signature", Usage::Key(K::DigitalSignature)),
            ("key encipherment", Usage::Key(K::KeyEncipherment)),
            ("cert sign", Usage::Key(K::CertSign)),
            ("crl sign", Usage::Key(K::CrlSign)),
            ("content commitment", Usage::Key(K::ContentCommitment)),
            ("key agreement", Usage::Key(K::KeyAgreement)),
            ("data encipherment", Usage::Key(K::DataEncipherment)),
            ("encipher only", Usage::Key(K::EncipherOnly)),
            ("decipher only", Usage::Key(K::DecipherOnly)),
            ("server auth", Usage::Extended(E::ServerAuth)),
            ("client auth", Usage::Extended(E::ClientAuth)),
            ("code signing", Usage::Extended(E::CodeSigning)),
            ("email protection", Usage::Extended(E::EmailProtection)),
            ("s/mime", Usage::Extended(E::EmailProtection)),
            ("timestamping", Usage::Extended(E::TimeStamping)),
            ("ocsp signing", Usage::Extended(E::OcspSigning)),
            ("any", Usage::Extended(E::Any)),
        ];
        for (name, want) in cases {
            assert_eq!(parse_usage(name), Ok(want), "{name}");
        }
    }

    #[test]
    fn splits_and_deduplicates() {
        let u = Usages::parse(&[
            "signing",
            "key encipherment",
            "server auth",
            "client auth",
            "signing",
        ])
        .unwrap();
        assert_eq!(
            u.key,
            vec![KeyUsage::DigitalSignature, KeyUsage::KeyEncipherment]
        );
        assert_eq!(
            u.extended,
            vec![ExtKeyUsage::ServerAuth, ExtKeyUsage::ClientAuth]
        );
    }

    #[test]
    fn unknown_names_are_errors() {
        for bad in ["Server Auth", "serverauth", "", "signing "] {
            assert_eq!(
                Usages::parse(&[bad]),
                Err(UnknownUsage(bad.to_string())),
                "{bad:?}"
            );
        }
    }
}
