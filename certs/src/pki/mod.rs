//! `certs pki`: the whole cluster PKI from one description. Idempotent:
//! existing keys and certificates are kept (so re-running after adding a
//! node only adds that node's files) unless rotation is asked for.

pub mod cluster;
pub mod plan;
mod stale;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::X509;

use crate::config::{Policy, Signing, SigningConfig, SigningProfile};
use crate::files::{OutputFile, PUBLIC_MODE, SECRET_MODE, WriteError, write_all_or_nothing};
use crate::issue::{CertificateAuthority, IssueError, init_ca, sign_new};
use crate::kubeconfig::{KubeconfigError, KubeconfigSpec};
use crate::request::{CaSection, CertificateRequest, KeyRequest, Name};
use crate::usage::Usages;
use cluster::{ClusterDescription, ClusterError};
use plan::{LeafSpec, Profile};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{0}")]
    Cluster(#[from] ClusterError),
    #[error("{0}")]
    Issue(#[from] IssueError),
    #[error("{path}: {source}")]
    Kubeconfig {
        path: String,
        source: KubeconfigError,
    },
    #[error("{0}")]
    Write(#[from] WriteError),
    #[error("reading {path}: {source}")]
    Read { path: String, source: io::Error },
    #[error("creating directory {path}: {source}")]
    CreateDir { path: String, source: io::Error },
    #[error("{present} exists but {missing} does not; restore it or remove both")]
    LoneCaFile { present: String, missing: String },
    #[error("{cert} does not belong to {ca} or to {key}; use --rotate to reissue it")]
    ForeignLeaf {
        cert: String,
        ca: String,
        key: String,
    },
    #[error("{0}: not a PEM RSA private key")]
    BadServiceAccountKey(String),
    #[error("{pub_path} does not match {key_path}; remove {pub_path} to derive it again")]
    ServiceAccountMismatch { pub_path: String, key_path: String },
    #[error("openssl: {0}")]
    Openssl(#[from] openssl::error::ErrorStack),
    #[error("encoding ca-config.json: {0}")]
    Json(#[from] serde_json::Error),
}

/// How to run.
#[derive(Debug, Clone, Default)]
pub struct PkiOptions {
    pub dir: PathBuf,
    /// Reissue every leaf certificate and key.
    pub rotate: bool,
    /// Make a new CA too (and therefore reissue every leaf).
    pub rotate_ca: bool,
    /// Overrides `apiserver.url` in the kubeconfigs.
    pub apiserver_url: Option<String>,
}

/// What happened to one file, for the one-line-per-file report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Wrote,
    Kept,
    /// Kept, but it no longer matches the description (the reason says how).
    KeptStale(String),
}

/// Produces or refreshes the PKI in `opts.dir`, calling `report` once per
/// file with its outcome.
pub fn run(
    desc: &ClusterDescription,
    opts: &PkiOptions,
    report: &mut dyn FnMut(Outcome, &Path),
) -> Result<(), PkiError> {
    let dir = &opts.dir;
    fs::create_dir_all(dir).map_err(|source| PkiError::CreateDir {
        path: dir.display().to_string(),
        source,
    })?;
    let (ca_expiry, leaf_expiry) = desc.expiries()?;
    let (ca, ca_is_new) = ensure_ca(desc, dir, opts.rotate_ca, ca_expiry, report)?;
    write_if_changed(
        &dir.join("ca-config.json"),
        ca_config_json(desc, leaf_expiry)?.into_bytes(),
        PUBLIC_MODE,
        report,
    )?;
    let rotate_leaves = opts.rotate || ca_is_new;
    for spec in plan::leaf_specs(desc)? {
        ensure_leaf(desc, dir, &ca, &spec, leaf_expiry, rotate_leaves, report)?;
    }
    ensure_service_account_pair(dir, report)?;
    let server = match &opts.apiserver_url {
        Some(url) => url.clone(),
        None => desc.apiserver_url()?,
    };
    let ca_pem = read(&dir.join("ca.pem"))?;
    for kc in plan::kubeconfigs(desc) {
        let path = dir.join(kc.file_name());
        let spec = KubeconfigSpec {
            cluster: desc.cluster_name.clone(),
            server: server.clone(),
            ca_pem: ca_pem.clone(),
            user: kc.user.clone(),
            client_cert_pem: read(&dir.join(format!("{}.pem", kc.user)))?,
            client_key_pem: read(&dir.join(format!("{}-key.pem", kc.user)))?,
            context: kc.context(),
            namespace: None,
        };
        let yaml = spec.to_yaml().map_err(|source| PkiError::Kubeconfig {
            path: path.display().to_string(),
            source,
        })?;
        write_if_changed(&path, yaml.into_bytes(), SECRET_MODE, report)?;
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, PkiError> {
    fs::read(path).map_err(|source| PkiError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Derived files (ca-config.json, kubeconfigs) are rewritten only when
/// their contents would change, so a re-run reports them as kept.
fn write_if_changed(
    path: &Path,
    contents: Vec<u8>,
    mode: u32,
    report: &mut dyn FnMut(Outcome, &Path),
) -> Result<(), PkiError> {
    if fs::read(path).is_ok_and(|old| old == contents) {
        report(Outcome::Kept, path);
        return Ok(());
    }
    write_all_or_nothing(&[OutputFile::new(path, contents, mode)])?;
    report(Outcome::Wrote, path);
    Ok(())
}

/// The O a certificate gets: the identity's group, else the description's.
fn organization(desc: &ClusterDescription, spec_org: Option<&str>) -> String {
    spec_org.map_or_else(|| desc.names.organization.clone(), str::to_string)
}

fn base_names(desc: &ClusterDescription, organization: Option<&str>) -> Vec<Name> {
    let mut name = Name::from(&desc.names);
    if let Some(org) = organization {
        name.organization = org.to_string();
    }
    vec![name]
}

fn rsa_2048() -> Option<KeyRequest> {
    Some(KeyRequest {
        algo: "rsa".into(),
        size: 2048,
    })
}

fn ensure_ca(
    desc: &ClusterDescription,
    dir: &Path,
    rotate: bool,
    expiry: Duration,
    report: &mut dyn FnMut(Outcome, &Path),
) -> Result<(CertificateAuthority, bool), PkiError> {
    let cert_path = dir.join("ca.pem");
    let key_path = dir.join("ca-key.pem");
    match (cert_path.exists(), key_path.exists()) {
        (true, true) if !rotate => {
            let ca = CertificateAuthority::from_pem(&read(&cert_path)?, &read(&key_path)?)?;
            report(Outcome::Kept, &cert_path);
            report(Outcome::Kept, &key_path);
            return Ok((ca, false));
        }
        (true, false) | (false, true) if !rotate => {
            let (present, missing) = if cert_path.exists() {
                (&cert_path, &key_path)
            } else {
                (&key_path, &cert_path)
            };
            return Err(PkiError::LoneCaFile {
                present: present.display().to_string(),
                missing: missing.display().to_string(),
            });
        }
        _ => {}
    }
    let req = CertificateRequest {
        common_name: format!("{}-ca", desc.cluster_name),
        hosts: None,
        key: rsa_2048(),
        names: Some(base_names(desc, None)),
        ca: Some(CaSection {
            expiry: format!("{}s", expiry.as_secs()),
            ..CaSection::default()
        }),
    };
    let issued = init_ca(&req)?;
    write_all_or_nothing(&[
        OutputFile::new(&cert_path, issued.cert.clone(), PUBLIC_MODE),
        OutputFile::new(&key_path, issued.key.clone(), SECRET_MODE),
    ])?;
    report(Outcome::Wrote, &cert_path);
    report(Outcome::Wrote, &key_path);
    Ok((
        CertificateAuthority::from_pem(&issued.cert, &issued.key)?,
        true,
    ))
}

fn ca_config_json(desc: &ClusterDescription, leaf_expiry: Duration) -> Result<String, PkiError> {
    let expiry = desc
        .expiry
        .clone()
        .unwrap_or_else(|| format!("{}h", leaf_expiry.as_secs() / 3600));
    let profiles = Profile::ALL
        .iter()
        .map(|p| {
            let profile = SigningProfile {
                usages: p.usages().iter().map(|s| s.to_string()).collect(),
                expiry: expiry.clone(),
            };
            (p.name().to_string(), profile)
        })
        .collect();
    let config = SigningConfig {
        signing: Some(Signing {
            default: Some(SigningProfile {
                usages: vec![],
                expiry,
            }),
            profiles,
        }),
    };
    Ok(serde_json::to_string_pretty(&config)? + "\n")
}

/// Whether an existing leaf pair is intact and issued by `ca`.
fn leaf_belongs(ca: &CertificateAuthority, cert_pem: &[u8], key_pem: &[u8]) -> bool {
    let (Ok(cert), Ok(key)) = (
        X509::from_pem(cert_pem),
        PKey::private_key_from_pem(key_pem),
    ) else {
        return false;
    };
    let key_matches = cert.public_key().is_ok_and(|p| p.public_eq(&key));
    let signed = ca
        .cert
        .public_key()
        .is_ok_and(|p| cert.verify(&p).unwrap_or(false));
    key_matches && signed
}

fn ensure_leaf(
    desc: &ClusterDescription,
    dir: &Path,
    ca: &CertificateAuthority,
    spec: &LeafSpec,
    expiry: Duration,
    rotate: bool,
    report: &mut dyn FnMut(Outcome, &Path),
) -> Result<(), PkiError> {
    let cert_path = dir.join(format!("{}.pem", spec.base));
    let key_path = dir.join(format!("{}-key.pem", spec.base));
    if !rotate && cert_path.exists() && key_path.exists() {
        let cert_pem = read(&cert_path)?;
        if !leaf_belongs(ca, &cert_pem, &read(&key_path)?) {
            return Err(PkiError::ForeignLeaf {
                cert: cert_path.display().to_string(),
                ca: dir.join("ca.pem").display().to_string(),
                key: key_path.display().to_string(),
            });
        }
        let org = organization(desc, spec.organization.as_deref());
        let stale = X509::from_pem(&cert_pem)
            .ok()
            .and_then(|cert| stale::stale_reason(&cert, spec, &org));
        match stale {
            Some(reason) => report(Outcome::KeptStale(reason), &cert_path),
            None => report(Outcome::Kept, &cert_path),
        }
        report(Outcome::Kept, &key_path);
        return Ok(());
    }
    let req = CertificateRequest {
        common_name: spec.common_name.clone(),
        hosts: Some(spec.hosts.clone()),
        key: rsa_2048(),
        names: Some(base_names(desc, spec.organization.as_deref())),
        ca: None,
    };
    let policy = Policy {
        usages: Usages::parse(spec.profile.usages()).unwrap_or_default(),
        expiry,
    };
    let issued = sign_new(&req, ca, &policy)?;
    write_all_or_nothing(&[
        OutputFile::new(&cert_path, issued.cert, PUBLIC_MODE),
        OutputFile::new(&key_path, issued.key, SECRET_MODE),
    ])?;
    report(Outcome::Wrote, &cert_path);
    report(Outcome::Wrote, &key_path);
    Ok(())
}

/// `sa.key`/`sa.pub`: the ServiceAccount token signing pair. Kept across
/// rotations (reissuing it would invalidate every issued token); a missing
/// `sa.pub` is derived from `sa.key`.
fn ensure_service_account_pair(
    dir: &Path,
    report: &mut dyn FnMut(Outcome, &Path),
) -> Result<(), PkiError> {
    let key_path = dir.join("sa.key");
    let pub_path = dir.join("sa.pub");
    if key_path.exists() {
        let rsa = Rsa::private_key_from_pem(&read(&key_path)?)
            .map_err(|_| PkiError::BadServiceAccountKey(key_path.display().to_string()))?;
        let public = PKey::from_rsa(rsa)?.public_key_to_pem()?;
        report(Outcome::Kept, &key_path);
        if pub_path.exists() {
            if read(&pub_path)? != public {
                return Err(PkiError::ServiceAccountMismatch {
                    pub_path: pub_path.display().to_string(),
                    key_path: key_path.display().to_string(),
                });
            }
            report(Outcome::Kept, &pub_path);
        } else {
            write_all_or_nothing(&[OutputFile::new(&pub_path, public, PUBLIC_MODE)])?;
            report(Outcome::Wrote, &pub_path);
        }
        return Ok(());
    }
    let rsa = Rsa::generate(2048)?;
    let private = rsa.private_key_to_pem()?;
    let public = PKey::from_rsa(rsa)?.public_key_to_pem()?;
    write_all_or_nothing(&[
        OutputFile::new(&key_path, private, SECRET_MODE),
        OutputFile::new(&pub_path, public, PUBLIC_MODE),
    ])?;
    report(Outcome::Wrote, &key_path);
    report(Outcome::Wrote, &pub_path);
    Ok(())
}
