//! Shared helpers: a scratch directory with the `certs` binary linked in
//! under cfssl's names, and a way to run commands in it.
#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const SEED_CA_CSR: &str = r#"{
    "CN": "zoneyet",
    "hosts": [],
    "key": {
        "algo": "rsa",
        "size": 2048
    },
    "names": [
        {
            "C": "CN",
            "ST": "henan",
            "O": "zhengzhou",
            "OU": "zoneyet"
        }
    ],
    "ca": {
        "expiry": "175200h"
    }
}
"#;

/// The seed's etcd request, verbatim (including its `ca` section).
pub const SEED_ETCD_CSR: &str = r#"{ "CN": "etcd.zoneyet", "hosts": [], "key": { "algo": "rsa", "size": 2048 }, "names": [ { "C": "CN", "ST": "henan", "O": "zhengzhou", "OU": "zoneyet" } ], "ca": { "expiry": "175200h" } }"#;

/// The seed's ca-config.json with the two commas and the closing brace the
/// blog post lost restored (the verbatim text is not JSON; see
/// `bad_input.rs` for how it is refused).
pub const SEED_CA_CONFIG: &str = r#"{
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
      },
      "client": {
        "usages": [
            "signing",
            "key encipherment",
            "client auth"
        ],
        "expiry": "175200h"
      },
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
}
"#;

/// A temporary working directory with `bin/` holding symlinks to the
/// `certs` binary. Removed on drop, also when a test fails.
pub struct Workspace {
    pub tmp: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let bin = tmp.path().join("bin");
        fs::create_dir(&bin).unwrap();
        for name in [
            "cfssl",
            "cfssljson",
            "cfssl-json",
            "cfssl-certinfo",
            "certs",
        ] {
            std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_certs"), bin.join(name)).unwrap();
        }
        let work = tmp.path().join("work");
        fs::create_dir(&work).unwrap();
        Workspace { tmp }
    }

    /// Where commands run and files land.
    pub fn dir(&self) -> PathBuf {
        self.tmp.path().join("work")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir().join(name)
    }

    pub fn bin(&self, name: &str) -> PathBuf {
        self.tmp.path().join("bin").join(name)
    }

    pub fn write(&self, name: &str, contents: &str) {
        fs::write(self.path(name), contents).unwrap();
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        fs::read(self.path(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"))
    }

    pub fn mode(&self, name: &str) -> u32 {
        fs::metadata(self.path(name)).unwrap().permissions().mode() & 0o777
    }

    /// Sorted names of the files in the work directory.
    pub fn listing(&self) -> Vec<String> {
        list_dir(&self.dir())
    }

    /// Runs a shell command line with our `bin/` first on PATH, so that
    /// `cfssl ... | cfssl-json ...` runs our tool exactly as typed.
    pub fn sh(&self, line: &str) -> Output {
        let path = format!(
            "{}:{}",
            self.tmp.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(self.dir())
            .env("PATH", path)
            .output()
            .expect("running sh")
    }

    /// Runs one of our multi-call names with arguments and optional stdin.
    pub fn run(&self, name: &str, args: &[&str], stdin: Option<&[u8]>) -> Output {
        run_in(&self.dir(), &self.bin(name), args, stdin)
    }
}

pub fn run_in(dir: &Path, program: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawning {}: {e}", program.display()));
    {
        let mut pipe = child.stdin.take().unwrap();
        if let Some(input) = stdin {
            // The child may exit early on bad flags; a broken pipe is fine.
            let _ = pipe.write_all(input);
        }
    }
    child.wait_with_output().unwrap()
}

pub fn list_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

pub fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed: {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl verify -CAfile ca cert` (with purpose checks off: a client
/// certificate is still a valid chain).
pub fn openssl_verify(dir: &Path, ca: &str, cert: &str) -> Output {
    Command::new("openssl")
        .args(["verify", "-CAfile", ca, cert])
        .current_dir(dir)
        .output()
        .expect("running openssl")
}

pub fn cfssl_installed() -> bool {
    let present = Path::new("/usr/bin/cfssl").exists()
        && Path::new("/usr/bin/cfssljson").exists()
        && Path::new("/usr/bin/cfssl-certinfo").exists();
    if !present {
        eprintln!(
            "SKIPPED: /usr/bin/cfssl, cfssljson or cfssl-certinfo is absent (apt-get install golang-cfssl)"
        );
    }
    present
}

pub fn kubectl_installed() -> bool {
    let present = Path::new("/usr/bin/kubectl").exists();
    if !present {
        eprintln!("SKIPPED: /usr/bin/kubectl is absent");
    }
    present
}

/// Parses JSON output, failing the test with the text on error.
pub fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(bytes)))
}
