//! Authentication: who is making a request. x509 client certificates
//! verified against `--client-ca-file` (CN = user, O = groups), bearer
//! tokens from `--token-auth-file`, and anonymous requests when allowed.

use openssl::nid::Nid;
use openssl::x509::X509Ref;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::Path;

/// The authenticated identity of a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

pub const ANONYMOUS: &str = "system:anonymous";
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
pub const AUTHENTICATED: &str = "system:authenticated";

impl UserInfo {
    pub fn anonymous() -> Self {
        UserInfo {
            name: ANONYMOUS.into(),
            uid: String::new(),
            groups: vec![UNAUTHENTICATED.into()],
        }
    }

    pub fn is_anonymous(&self) -> bool {
        self.name == ANONYMOUS
    }

    /// A user known by name and groups; `system:authenticated` is added.
    pub fn authenticated(name: &str, uid: &str, groups: Vec<String>) -> Self {
        let mut groups = groups;
        if !groups.iter().any(|g| g == AUTHENTICATED) {
            groups.push(AUTHENTICATED.into());
        }
        UserInfo {
            name: name.into(),
            uid: uid.into(),
            groups,
        }
    }

    /// The `UserInfo` JSON of reviews (`authentication.k8s.io/v1`).
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "username": self.name, "groups": self.groups });
        if !self.uid.is_empty() {
            v["uid"] = json!(self.uid);
        }
        v
    }
}

/// The identity a verified client certificate carries.
pub fn from_certificate(cert: &X509RefLike) -> Option<UserInfo> {
    let subject = cert.subject_name();
    let cn = subject
        .entries_by_nid(Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok())
        .map(|s| s.to_string())?;
    let groups = subject
        .entries_by_nid(Nid::ORGANIZATIONNAME)
        .filter_map(|e| e.data().to_string().ok().map(|s| s.to_string()))
        .collect();
    Some(UserInfo::authenticated(&cn, "", groups))
}

/// Alias so callers need not import openssl's types.
pub type X509RefLike = X509Ref;

/// `--token-auth-file`: `token,user,uid,"group1,group2"` per line.
#[derive(Debug, Default, Clone)]
pub struct TokenFile {
    tokens: HashMap<String, UserInfo>,
}

impl TokenFile {
    pub fn load(path: &Path) -> anyhow::Result<TokenFile> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading --token-auth-file {}: {e}", path.display()))?;
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> anyhow::Result<TokenFile> {
        let mut tokens = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields = split_csv(line);
            if fields.len() < 3 {
                anyhow::bail!("token file line {}: need at least token,user,uid", i + 1);
            }
            let groups = fields
                .get(3)
                .map(|g| {
                    g.split(',')
                        .map(str::trim)
                        .filter(|g| !g.is_empty())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default();
            tokens.insert(
                fields[0].clone(),
                UserInfo::authenticated(&fields[1], &fields[2], groups),
            );
        }
        Ok(TokenFile { tokens })
    }

    pub fn lookup(&self, token: &str) -> Option<&UserInfo> {
        self.tokens.get(token)
    }
}

/// Splits one CSV line, honouring double quotes.
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter().map(|s| s.trim().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file_parses_quoted_groups() {
        let f =
            TokenFile::parse("abc,kubelet-bootstrap,10001,\"system:kubelet-bootstrap,ops\"\n# c\n")
                .expect("valid file");
        let u = f.lookup("abc").expect("known token");
        assert_eq!(u.name, "kubelet-bootstrap");
        assert_eq!(u.uid, "10001");
        assert_eq!(
            u.groups,
            vec!["system:kubelet-bootstrap", "ops", AUTHENTICATED]
        );
        assert!(f.lookup("nope").is_none());
        assert!(TokenFile::parse("only,two").is_err());
    }

    #[test]
    fn certificate_subjects_become_users() {
        use openssl::x509::{X509, X509NameBuilder};
        let mut name = X509NameBuilder::new().expect("builder");
        name.append_entry_by_nid(Nid::ORGANIZATIONNAME, "system:masters")
            .expect("O");
        name.append_entry_by_nid(Nid::COMMONNAME, "admin")
            .expect("CN");
        let name = name.build();
        let mut b = X509::builder().expect("x509 builder");
        b.set_subject_name(&name).expect("subject");
        let cert = b.build();
        let u = from_certificate(&cert).expect("has CN");
        assert_eq!(u.name, "admin");
        assert_eq!(u.groups, vec!["system:masters", AUTHENTICATED]);
    }
}
