//! The seed's commands, typed exactly as in the seed, against our binary
//! installed under cfssl's names.

mod common;

use common::*;
use openssl::x509::X509;

fn seed_workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write("ca-csr.json", SEED_CA_CSR);
    ws.write("ca-config.json", SEED_CA_CONFIG);
    ws.write("etcd-peer-csr.json", SEED_ETCD_CSR);
    ws
}

#[test]
fn seed_ca_and_etcd_peer_commands_work_verbatim() {
    let ws = seed_workspace();

    // `cfssl gencert -initca ca-csr.json` prints cert, csr and key as JSON.
    let out = ws.sh("cfssl gencert -initca ca-csr.json");
    assert_success(&out, "gencert -initca");
    let printed = json(&out.stdout);
    let keys: Vec<&String> = printed.as_object().unwrap().keys().collect();
    assert_eq!(keys, vec!["cert", "csr", "key"]);
    assert!(
        printed["cert"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----\n")
    );
    assert!(
        printed["csr"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE REQUEST-----\n")
    );
    assert!(
        printed["key"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN RSA PRIVATE KEY-----\n")
    );

    let out = ws.sh("cfssl gencert -initca ca-csr.json | cfssl-json -bare ca");
    assert_success(&out, "initca | cfssl-json");
    for f in ["ca.pem", "ca-key.pem", "ca.csr"] {
        assert!(ws.path(f).exists(), "{f} missing: {:?}", ws.listing());
    }
    assert_eq!(ws.mode("ca-key.pem"), 0o600);
    assert_eq!(ws.mode("ca.pem"), 0o644);

    let out = ws.sh(
        "cfssl gencert -ca=ca.pem -ca-key=ca-key.pem -config=ca-config.json -profile=peer etcd-peer-csr.json | cfssl-json -bare etcd-peer",
    );
    assert_success(&out, "gencert -profile=peer | cfssl-json");
    assert_eq!(ws.mode("etcd-peer-key.pem"), 0o600);
    let verify = openssl_verify(&ws.dir(), "ca.pem", "etcd-peer.pem");
    assert_success(&verify, "openssl verify etcd-peer.pem");
    assert_eq!(
        String::from_utf8_lossy(&verify.stdout).trim(),
        "etcd-peer.pem: OK"
    );

    let peer = X509::from_pem(&ws.read("etcd-peer.pem")).unwrap();
    let text = String::from_utf8(peer.to_text().unwrap()).unwrap();
    assert!(
        text.contains("TLS Web Server Authentication, TLS Web Client Authentication"),
        "{text}"
    );
    assert!(
        text.contains("Digital Signature, Key Encipherment"),
        "{text}"
    );
    assert!(text.contains("CA:FALSE"), "{text}");
    let subject = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-in", "etcd-peer.pem"])
        .current_dir(ws.dir())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&subject.stdout).trim(),
        "subject=C = CN, ST = henan, O = zhengzhou, OU = zoneyet, CN = etcd.zoneyet"
    );

    // `cfssl-certinfo -cert ca.pem`
    let out = ws.sh("cfssl-certinfo -cert ca.pem");
    assert_success(&out, "cfssl-certinfo");
    let info = json(&out.stdout);
    assert_eq!(info["subject"]["common_name"], "zoneyet");
    assert_eq!(info["subject"]["province"], "henan");
    assert_eq!(
        info["subject"]["names"],
        serde_json::json!(["CN", "henan", "zhengzhou", "zoneyet", "zoneyet"])
    );
    assert_eq!(info["issuer"], info["subject"]);
    assert_eq!(info["sigalg"], "SHA256WithRSA");
    assert_eq!(info["authority_key_id"], "");
    assert_eq!(
        info["pem"].as_str().unwrap().as_bytes(),
        ws.read("ca.pem").as_slice()
    );
    // 175200h = 7300 days of validity.
    let nb = info["not_before"].as_str().unwrap();
    let na = info["not_after"].as_str().unwrap();
    assert_eq!(&nb[10..], &na[10..], "same time of day: {nb} {na}");
    assert_eq!(
        na[..4].parse::<i32>().unwrap() - nb[..4].parse::<i32>().unwrap(),
        20
    );
}

#[test]
fn seed_certificate_chain_is_accepted_by_openssl_for_tls_purposes() {
    let ws = seed_workspace();
    assert_success(
        &ws.sh("cfssl gencert -initca ca-csr.json | cfssl-json -bare ca"),
        "initca",
    );
    for profile in ["server", "client", "peer"] {
        let line = format!(
            "cfssl gencert -ca ca.pem -ca-key ca-key.pem -config ca-config.json -profile {profile} -hostname 127.0.0.1,localhost etcd-peer-csr.json | cfssljson -bare {profile}"
        );
        assert_success(&ws.sh(&line), &line);
        let purpose = if profile == "client" {
            "sslclient"
        } else {
            "sslserver"
        };
        let out = std::process::Command::new("openssl")
            .args([
                "verify",
                "-purpose",
                purpose,
                "-CAfile",
                "ca.pem",
                &format!("{profile}.pem"),
            ])
            .current_dir(ws.dir())
            .output()
            .unwrap();
        assert_success(
            &out,
            &format!("openssl verify -purpose {purpose} {profile}.pem"),
        );
    }
    // -hostname overrides hosts: both SANs are present.
    let info = json(&ws.sh("cfssl-certinfo -cert server.pem").stdout);
    assert_eq!(info["sans"], serde_json::json!(["localhost", "127.0.0.1"]));
}

#[test]
fn stdin_csr_and_cfssljson_file_flag() {
    let ws = seed_workspace();
    let out = ws
        .sh("cat ca-csr.json | cfssl gencert -initca - > ca.json && cfssljson -f ca.json -bare ca");
    assert_success(&out, "initca from stdin");
    assert_eq!(
        ws.listing(),
        vec![
            "ca-config.json",
            "ca-csr.json",
            "ca-key.pem",
            "ca.csr",
            "ca.json",
            "ca.pem",
            "etcd-peer-csr.json"
        ]
    );
    // Without a name, cfssljson -bare writes cert*.
    assert_success(&ws.sh("cfssljson -bare < ca.json"), "cfssljson -bare");
    assert!(
        ws.path("cert.pem").exists()
            && ws.path("cert-key.pem").exists()
            && ws.path("cert.csr").exists()
    );
    // -stdout prints instead of writing.
    let out = ws.sh("cfssljson -bare -stdout < ca.json");
    assert_success(&out, "cfssljson -stdout");
    assert!(String::from_utf8_lossy(&out.stdout).contains("-----BEGIN RSA PRIVATE KEY-----"));
    // The `certs` name offers the same commands.
    let out = ws.run("certs", &["certinfo", "-csr", "ca.csr"], None);
    assert_success(&out, "certs certinfo -csr");
    let info = json(&out.stdout);
    assert_eq!(info["subject"]["common_name"], "zoneyet");
    assert_eq!(info["sigalg"], "SHA256WithRSA");
    let out = ws.run(
        "certs",
        &["json", "-bare", "again"],
        Some(&ws.read("ca.json")),
    );
    assert_success(&out, "certs json");
    assert_eq!(ws.read("again.pem"), ws.read("ca.pem"));
}

#[test]
fn key_algorithms_and_signature_digests() {
    let ws = Workspace::new();
    let cases = [
        ("rsa", 2048, "SHA256WithRSA", "RSA PRIVATE KEY"),
        ("rsa", 3072, "SHA384WithRSA", "RSA PRIVATE KEY"),
        ("rsa", 4096, "SHA512WithRSA", "RSA PRIVATE KEY"),
        ("ecdsa", 256, "ECDSAWithSHA256", "EC PRIVATE KEY"),
        ("ecdsa", 384, "ECDSAWithSHA384", "EC PRIVATE KEY"),
        ("ecdsa", 521, "ECDSAWithSHA512", "EC PRIVATE KEY"),
    ];
    for (algo, size, sigalg, pem_kind) in cases {
        let name = format!("{algo}{size}");
        ws.write(
            &format!("{name}.json"),
            &format!(r#"{{"CN":"{name}","key":{{"algo":"{algo}","size":{size}}}}}"#),
        );
        let out = ws.sh(&format!(
            "cfssl gencert -initca {name}.json | cfssljson -bare {name}"
        ));
        assert_success(&out, &name);
        let key = String::from_utf8(ws.read(&format!("{name}-key.pem"))).unwrap();
        assert!(
            key.starts_with(&format!("-----BEGIN {pem_kind}-----")),
            "{name}: {key}"
        );
        let info = json(&ws.sh(&format!("cfssl-certinfo -cert {name}.pem")).stdout);
        assert_eq!(info["sigalg"], sigalg, "{name}");
        // Default CA validity (no ca.expiry) is cfssl's five years.
        let nb: i32 = info["not_before"].as_str().unwrap()[..4].parse().unwrap();
        let na: i32 = info["not_after"].as_str().unwrap()[..4].parse().unwrap();
        assert_eq!(na - nb, 5, "{name}");
    }
    // No key section: cfssl's default, ECDSA P-256.
    ws.write("nokey.json", r#"{"CN":"nokey"}"#);
    assert_success(
        &ws.sh("cfssl gencert -initca nokey.json | cfssljson -bare nokey"),
        "nokey",
    );
    assert!(
        String::from_utf8(ws.read("nokey-key.pem"))
            .unwrap()
            .starts_with("-----BEGIN EC PRIVATE KEY-----")
    );
}
