//! Every kind of bad input: non-zero exit, exactly one line on stderr that
//! names the problem, nothing on stdout, and no files left behind.

mod common;

use common::*;

/// The seed's ca-config.json exactly as printed in the seed: commas are
/// missing between profiles and the final brace is lost. Neither cfssl nor
/// we accept it.
const SEED_CA_CONFIG_VERBATIM: &str = r#"{
  "signing": {
    "default": {
      "expiry": "175200h"
    },
    "profiles": {
      "server": {
        "usages": [
            "signing",
            "key encipherment",
            "server auth"
        ],
        "expiry": "175200h"
      }
      "client": {
        "usages": [
            "signing",
            "key encipherment",
            "client auth"
        ],
        "expiry": "175200h"
      }
      "peer": {
        "usages": [
            "signing",
            "key encipherment",
            "server auth",
            "client auth"
        ],
        "expiry": "175200h"
      }
    }
  }
"#;

/// A workspace with a working CA, a second CA's key, and a good request.
fn prepared() -> Workspace {
    let ws = Workspace::new();
    ws.write("ca-csr.json", SEED_CA_CSR);
    ws.write("ca-config.json", SEED_CA_CONFIG);
    ws.write(
        "csr.json",
        r#"{"CN":"leaf","hosts":["127.0.0.1"],"key":{"algo":"ecdsa","size":256}}"#,
    );
    ws.write(
        "other-csr.json",
        r#"{"CN":"other","key":{"algo":"ecdsa","size":256}}"#,
    );
    assert_success(
        &ws.sh("cfssl gencert -initca ca-csr.json | cfssljson -bare ca"),
        "ca",
    );
    assert_success(
        &ws.sh("cfssl gencert -initca other-csr.json | cfssljson -bare other"),
        "other",
    );
    ws.write("seed-ca-config.json", SEED_CA_CONFIG_VERBATIM);
    ws.write("malformed.json", r#"{"CN": "x", "hosts": ["a",}"#);
    ws.write(
        "nocn.json",
        r#"{"hosts":[],"key":{"algo":"rsa","size":2048}}"#,
    );
    ws.write("dsa.json", r#"{"CN":"x","key":{"algo":"dsa","size":2048}}"#);
    ws.write(
        "rsa1024.json",
        r#"{"CN":"x","key":{"algo":"rsa","size":1024}}"#,
    );
    ws.write(
        "ec200.json",
        r#"{"CN":"x","key":{"algo":"ecdsa","size":200}}"#,
    );
    ws.write("badcaexpiry.json", r#"{"CN":"x","ca":{"expiry":"20y"}}"#);
    ws.write(
        "badusage.json",
        r#"{"signing":{"profiles":{"p":{"usages":["signing","teleport"],"expiry":"1h"}}}}"#,
    );
    ws.write(
        "badexpiry.json",
        r#"{"signing":{"profiles":{"p":{"usages":["signing"],"expiry":"1 year"}}}}"#,
    );
    ws.write("notpem.pem", "hello\n");
    ws
}

struct Case {
    program: &'static str,
    args: &'static [&'static str],
    stdin: Option<&'static str>,
    /// Text the single stderr line must contain.
    message: &'static str,
}

const fn case(program: &'static str, args: &'static [&'static str], message: &'static str) -> Case {
    Case {
        program,
        args,
        stdin: None,
        message,
    }
}

const SIGN: [&str; 6] = [
    "gencert",
    "-ca=ca.pem",
    "-ca-key=ca-key.pem",
    "-config=ca-config.json",
    "-profile=peer",
    "csr.json",
];

fn check(ws: &Workspace, c: &Case) {
    let before = ws.listing();
    let out = ws.run(c.program, c.args, c.stdin.map(str::as_bytes));
    let what = format!("{} {:?}", c.program, c.args);
    assert!(!out.status.success(), "{what} succeeded");
    assert_eq!(out.status.code(), Some(1), "{what}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.lines().count(),
        1,
        "{what}: stderr must be one line: {stderr:?}"
    );
    assert!(
        stderr.contains(c.message),
        "{what}: {stderr:?} lacks {:?}",
        c.message
    );
    assert!(
        out.stdout.is_empty(),
        "{what}: printed {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(ws.listing(), before, "{what} left files");
}

#[test]
fn gencert_refusals() {
    let ws = prepared();
    let cases = [
        case(
            "cfssl",
            &["gencert", "-initca", "malformed.json"],
            "malformed certificate request JSON",
        ),
        case("cfssl", &["gencert", "-initca", "nocn.json"], "missing CN"),
        case(
            "cfssl",
            &["gencert", "-initca", "dsa.json"],
            "unsupported key algorithm \"dsa\"",
        ),
        case(
            "cfssl",
            &["gencert", "-initca", "rsa1024.json"],
            "unsupported RSA key size 1024",
        ),
        case(
            "cfssl",
            &["gencert", "-initca", "ec200.json"],
            "unsupported ECDSA key size 200",
        ),
        case(
            "cfssl",
            &["gencert", "-initca", "badcaexpiry.json"],
            "ca.expiry: unknown unit \"y\"",
        ),
        case(
            "cfssl",
            &["gencert", "-initca", "missing.json"],
            "reading missing.json",
        ),
        case(
            "cfssl",
            &["gencert", "-initca"],
            "no certificate request file",
        ),
        case(
            "cfssl",
            &["gencert", "-bogus", "csr.json"],
            "flag provided but not defined: -bogus",
        ),
        case(
            "cfssl",
            &[
                "gencert",
                "-ca=ca.pem",
                "-ca-key=ca-key.pem",
                "-config=ca-config.json",
                "-profile=nope",
                "csr.json",
            ],
            "unknown profile \"nope\"",
        ),
        case(
            "cfssl",
            &[
                "gencert",
                "-ca=ca.pem",
                "-ca-key=ca-key.pem",
                "-config=badusage.json",
                "-profile=p",
                "csr.json",
            ],
            "unknown usage \"teleport\"",
        ),
        case(
            "cfssl",
            &[
                "gencert",
                "-ca=ca.pem",
                "-ca-key=ca-key.pem",
                "-config=badexpiry.json",
                "-profile=p",
                "csr.json",
            ],
            "expiry: unknown unit",
        ),
        case(
            "cfssl",
            &[
                "gencert",
                "-ca=ca.pem",
                "-ca-key=ca-key.pem",
                "-config=seed-ca-config.json",
                "-profile=peer",
                "csr.json",
            ],
            "malformed signing config JSON: expected `,` or `}` at line 15",
        ),
        case(
            "cfssl",
            &[
                "gencert",
                "-ca=ca.pem",
                "-ca-key=other-key.pem",
                "-config=ca-config.json",
                "-profile=peer",
                "csr.json",
            ],
            "CA private key does not match the CA certificate",
        ),
        case(
            "cfssl",
            &[
                "gencert",
                "-ca=notpem.pem",
                "-ca-key=ca-key.pem",
                "-config=ca-config.json",
                "csr.json",
            ],
            "CA certificate: not a PEM certificate",
        ),
        case(
            "cfssl",
            &[
                "gencert",
                "-ca=ca.pem",
                "-ca-key=notpem.pem",
                "-config=ca-config.json",
                "csr.json",
            ],
            "CA private key: not a PEM private key",
        ),
        case(
            "cfssl",
            &[
                "gencert",
                "-ca=absent.pem",
                "-ca-key=ca-key.pem",
                "csr.json",
            ],
            "reading absent.pem",
        ),
        case(
            "cfssl",
            &["gencert", "-ca=ca.pem", "csr.json"],
            "needs both -ca and -ca-key",
        ),
        case(
            "cfssl",
            &[
                "gencert",
                "-ca=ca.pem",
                "-ca-key=ca-key.pem",
                "-config=nothere.json",
                "csr.json",
            ],
            "reading nothere.json",
        ),
        case("cfssl", &["frobnicate"], "unsupported cfssl command"),
        case("certs", &["frobnicate"], "unknown command"),
    ];
    for c in &cases {
        check(&ws, c);
    }
    // The good command works in the same workspace, so the refusals above
    // are about their inputs.
    let out = ws.run("cfssl", &SIGN, None);
    assert_success(&out, "good gencert");
}

#[test]
fn cfssljson_refusals_write_nothing() {
    let ws = prepared();
    let cases = [
        Case {
            program: "cfssljson",
            args: &["-bare", "x"],
            stdin: Some(""),
            message: "failed to parse input",
        },
        Case {
            program: "cfssl-json",
            args: &["-bare", "x"],
            stdin: Some("nojson"),
            message: "failed to parse input",
        },
        Case {
            program: "cfssljson",
            args: &["-bare", "x"],
            stdin: Some("{}"),
            message: "no certificate, key or CSR",
        },
        Case {
            program: "cfssljson",
            args: &["-bare", "x"],
            stdin: Some(r#"{"cert":"C","key":7}"#),
            message: "\"key\" is not a string",
        },
        Case {
            program: "cfssljson",
            args: &["x"],
            stdin: Some(r#"{"cert":"C"}"#),
            message: "not a successful cfssl API response",
        },
        Case {
            program: "cfssljson",
            args: &["-bare", "nodir/x"],
            stdin: Some(r#"{"cert":"C","key":"K"}"#),
            message: "writing nodir/x",
        },
        Case {
            program: "cfssljson",
            args: &["-f", "absent.json", "-bare", "x"],
            stdin: None,
            message: "reading absent.json",
        },
    ];
    for c in &cases {
        check(&ws, c);
    }
}

#[test]
fn cfssljson_all_or_nothing_when_one_file_cannot_be_written() {
    let ws = prepared();
    // x-key.pem is a directory: the key cannot be renamed into place, and
    // neither the certificate nor the CSR may appear.
    std::fs::create_dir(ws.path("x-key.pem")).unwrap();
    let issued = ws.run("cfssl", &SIGN, None);
    assert_success(&issued, "gencert");
    let before = ws.listing();
    let out = ws.run("cfssljson", &["-bare", "x"], Some(&issued.stdout));
    assert!(!out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    assert_eq!(ws.listing(), before);
}

#[test]
fn certinfo_refusals() {
    let ws = prepared();
    let cases = [
        case(
            "cfssl-certinfo",
            &["-cert", "absent.pem"],
            "reading absent.pem",
        ),
        case(
            "cfssl-certinfo",
            &["-cert", "notpem.pem"],
            "failed to decode certificate",
        ),
        case(
            "cfssl-certinfo",
            &["-csr", "ca.pem"],
            "failed to decode certificate request",
        ),
        case("cfssl-certinfo", &[], "must specify certinfo target"),
        case(
            "cfssl",
            &["certinfo", "-domain", "example.com"],
            "-domain is not supported",
        ),
    ];
    for c in &cases {
        check(&ws, c);
    }
}

#[test]
fn kubeconfig_refusals() {
    let ws = prepared();
    let issued = ws.run("cfssl", &SIGN, None);
    assert_success(
        &ws.run("cfssljson", &["-bare", "leaf"], Some(&issued.stdout)),
        "leaf",
    );
    let cases = [
        case(
            "certs",
            &[
                "kubeconfig",
                "--ca",
                "ca.pem",
                "--cert",
                "leaf.pem",
                "--key",
                "other-key.pem",
                "--server",
                "https://127.0.0.1:6443",
                "--cluster",
                "c",
                "--user",
                "u",
                "--out",
                "k",
            ],
            "client key does not match the client certificate",
        ),
        case(
            "certs",
            &[
                "kubeconfig",
                "--ca",
                "ca.pem",
                "--cert",
                "leaf.pem",
                "--key",
                "leaf-key.pem",
                "--server",
                "http://127.0.0.1:8080",
                "--cluster",
                "c",
                "--user",
                "u",
                "--out",
                "k",
            ],
            "must be an https:// URL",
        ),
        case(
            "certs",
            &[
                "kubeconfig",
                "--ca",
                "notpem.pem",
                "--cert",
                "leaf.pem",
                "--key",
                "leaf-key.pem",
                "--server",
                "https://127.0.0.1:6443",
                "--cluster",
                "c",
                "--user",
                "u",
                "--out",
                "k",
            ],
            "CA certificate: not a PEM certificate",
        ),
        case(
            "certs",
            &[
                "kubeconfig",
                "--ca",
                "ca.pem",
                "--cert",
                "leaf.pem",
                "--key",
                "leaf-key.pem",
                "--server",
                "https://127.0.0.1:6443",
                "--cluster",
                "c",
                "--user",
                "u",
            ],
            "missing --out",
        ),
    ];
    for c in &cases {
        check(&ws, c);
    }
}

#[test]
fn pki_refusals_leave_no_directory() {
    let ws = Workspace::new();
    let good = r#""clusterName":"c","apiserver":{"ip":"127.0.0.1"},"serviceClusterIPRange":"10.96.0.0/12""#;
    let cases = [
        (format!("{{{good},\"colour\":1}}"), "unknown field `colour`"),
        (r#"{"clusterName":"c","apiserver":{"ip":"127.0.0.1"},"serviceClusterIPRange":"10.96.0.0"}"#.to_string(), "is not a CIDR"),
        (format!("{{{good},\"expiry\":\"forever\"}}"), "expiry: invalid duration"),
        (format!("{{{good},\"nodes\":[{{\"name\":\"n1\",\"ip\":\"999.0.0.1\"}}]}}"), "invalid IP address"),
        ("{".to_string(), "malformed cluster description"),
    ];
    for (json, message) in cases {
        ws.write("cluster.json", &json);
        let out = ws.run(
            "certs",
            &["pki", "--config", "cluster.json", "--dir", "pki"],
            None,
        );
        assert!(!out.status.success(), "{json}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(message), "{json}: {stderr}");
        assert!(!ws.path("pki").exists(), "{json}");
    }
}
