//! Key generation and the PEM forms cfssl writes (RSA as PKCS#1
//! `RSA PRIVATE KEY`, ECDSA as SEC1 `EC PRIVATE KEY`), plus cfssl's choice
//! of signature digest for a signing key.

use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, PKeyRef, Private};
use openssl::rsa::Rsa;

/// Why a key could not be made, read or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("unsupported key algorithm {0:?} (use \"rsa\" or \"ecdsa\")")]
    UnsupportedAlgorithm(String),
    #[error("unsupported RSA key size {0} (use 2048 to 8192 bits)")]
    UnsupportedRsaSize(u32),
    #[error("unsupported ECDSA key size {0} (use 256, 384 or 521)")]
    UnsupportedEcdsaSize(u32),
    #[error("unsupported signing key type (only RSA and ECDSA keys can sign)")]
    UnsupportedSigningKey,
    #[error("openssl: {0}")]
    Openssl(#[from] ErrorStack),
}

/// Which key to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    Rsa(u32),
    Ecdsa(u32),
}

impl Default for KeySpec {
    /// cfssl generates ECDSA P-256 keys when a request has no `key` section.
    fn default() -> Self {
        KeySpec::Ecdsa(256)
    }
}

impl KeySpec {
    /// Validates a request's `key {algo, size}`. A zero size means the
    /// algorithm's default, as in cfssl.
    pub fn from_request(algo: &str, size: u32) -> Result<Self, KeyError> {
        match algo {
            "rsa" => match size {
                0 => Ok(KeySpec::Rsa(2048)),
                2048..=8192 => Ok(KeySpec::Rsa(size)),
                _ => Err(KeyError::UnsupportedRsaSize(size)),
            },
            "ecdsa" => match size {
                0 => Ok(KeySpec::Ecdsa(256)),
                256 | 384 | 521 => Ok(KeySpec::Ecdsa(size)),
                _ => Err(KeyError::UnsupportedEcdsaSize(size)),
            },
            other => Err(KeyError::UnsupportedAlgorithm(other.to_string())),
        }
    }

    pub fn generate(self) -> Result<PKey<Private>, KeyError> {
        Ok(match self {
            KeySpec::Rsa(bits) => PKey::from_rsa(Rsa::generate(bits)?)?,
            KeySpec::Ecdsa(bits) => {
                let nid = match bits {
                    256 => Nid::X9_62_PRIME256V1,
                    384 => Nid::SECP384R1,
                    521 => Nid::SECP521R1,
                    _ => return Err(KeyError::UnsupportedEcdsaSize(bits)),
                };
                let group = EcGroup::from_curve_name(nid)?;
                PKey::from_ec_key(EcKey::generate(&group)?)?
            }
        })
    }
}

/// The private key PEM as cfssl writes it: PKCS#1 for RSA, SEC1 for ECDSA.
pub fn private_key_pem(key: &PKeyRef<Private>) -> Result<Vec<u8>, KeyError> {
    match key.id() {
        Id::RSA => Ok(key.rsa()?.private_key_to_pem()?),
        Id::EC => Ok(key.ec_key()?.private_key_to_pem()?),
        _ => Err(KeyError::UnsupportedSigningKey),
    }
}

/// The digest cfssl signs with for a given signing key: stronger keys get
/// a longer hash (RSA ≥3072 → SHA-384, ≥4096 → SHA-512; P-384 → SHA-384,
/// P-521 → SHA-512), everything else SHA-256.
pub fn signature_digest<T: openssl::pkey::HasPublic>(
    key: &PKeyRef<T>,
) -> Result<MessageDigest, KeyError> {
    match key.id() {
        Id::RSA => Ok(match key.bits() {
            b if b >= 4096 => MessageDigest::sha512(),
            b if b >= 3072 => MessageDigest::sha384(),
            _ => MessageDigest::sha256(),
        }),
        Id::EC => Ok(match key.bits() {
            b if b >= 521 => MessageDigest::sha512(),
            b if b >= 384 => MessageDigest::sha384(),
            _ => MessageDigest::sha256(),
        }),
        _ => Err(KeyError::UnsupportedSigningKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_request_validation() {
        let ok = [
            ("rsa", 2048, KeySpec::Rsa(2048)),
            ("rsa", 3072, KeySpec::Rsa(3072)),
            ("rsa", 4096, KeySpec::Rsa(4096)),
            ("rsa", 0, KeySpec::Rsa(2048)),
            ("ecdsa", 256, KeySpec::Ecdsa(256)),
            ("ecdsa", 384, KeySpec::Ecdsa(384)),
            ("ecdsa", 521, KeySpec::Ecdsa(521)),
        ];
        for (algo, size, want) in ok {
            assert_eq!(
                KeySpec::from_request(algo, size).unwrap(),
                want,
                "{algo} {size}"
            );
        }
        for (algo, size) in [
            ("rsa", 1024),
            ("rsa", 16384),
            ("ecdsa", 224),
            ("dsa", 2048),
            ("ed25519", 0),
            ("", 0),
        ] {
            assert!(KeySpec::from_request(algo, size).is_err(), "{algo} {size}");
        }
    }

    #[test]
    fn pem_forms_and_digests() {
        let ec = KeySpec::Ecdsa(384).generate().unwrap();
        let pem = String::from_utf8(private_key_pem(&ec).unwrap()).unwrap();
        assert!(pem.starts_with("-----BEGIN EC PRIVATE KEY-----"), "{pem}");
        assert_eq!(
            signature_digest(&ec).unwrap().type_(),
            MessageDigest::sha384().type_()
        );

        let rsa = KeySpec::Rsa(2048).generate().unwrap();
        let pem = String::from_utf8(private_key_pem(&rsa).unwrap()).unwrap();
        assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"), "{pem}");
        assert_eq!(
            signature_digest(&rsa).unwrap().type_(),
            MessageDigest::sha256().type_()
        );

        let p256 = KeySpec::Ecdsa(256).generate().unwrap();
        assert_eq!(
            signature_digest(&p256).unwrap().type_(),
            MessageDigest::sha256().type_()
        );
        let p521 = KeySpec::Ecdsa(521).generate().unwrap();
        assert_eq!(
            signature_digest(&p521).unwrap().type_(),
            MessageDigest::sha512().type_()
        );
    }
}
