//! Upstream's etcd key layout: `<prefix>/<resource>/<namespace>/<name>`,
//! cluster-scoped objects `<prefix>/<resource>/<name>`.

/// Builds keys for one resource under one etcd prefix.
#[derive(Debug, Clone)]
pub struct KeyLayout {
    prefix: String,
}

impl KeyLayout {
    pub fn new(prefix: &str) -> Self {
        KeyLayout {
            prefix: prefix.trim_end_matches('/').to_string(),
        }
    }

    /// The key of one object; `namespace` is empty for cluster-scoped ones.
    pub fn object(&self, resource: &str, namespace: &str, name: &str) -> String {
        if namespace.is_empty() {
            format!("{}/{}/{}", self.prefix, resource, name)
        } else {
            format!("{}/{}/{}/{}", self.prefix, resource, namespace, name)
        }
    }

    /// The prefix every key of a list covers (ends in `/` so `pods/a` never
    /// matches `pods/ab`); all namespaces when `namespace` is empty.
    pub fn collection(&self, resource: &str, namespace: &str) -> String {
        if namespace.is_empty() {
            format!("{}/{}/", self.prefix, resource)
        } else {
            format!("{}/{}/{}/", self.prefix, resource, namespace)
        }
    }

    /// A key outside any resource, for the apiserver's own records
    /// (allocators).
    pub fn internal(&self, what: &str) -> String {
        format!("{}/{}", self.prefix, what)
    }
}

/// The end of a prefix range: the prefix with its last byte incremented.
pub fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_upstream() {
        let k = KeyLayout::new("/registry/");
        assert_eq!(
            k.object("pods", "default", "web"),
            "/registry/pods/default/web"
        );
        assert_eq!(k.object("minions", "", "n1"), "/registry/minions/n1");
        assert_eq!(k.collection("pods", "default"), "/registry/pods/default/");
        assert_eq!(k.collection("pods", ""), "/registry/pods/");
    }

    #[test]
    fn prefix_end_increments_last_byte() {
        assert_eq!(prefix_end("/registry/pods/"), b"/registry/pods0".to_vec());
        assert_eq!(prefix_end("a\u{7f}"), b"a\x80".to_vec());
    }
}
