//! Locating the binaries under test.
//!
//! Integration tests run from `target/<profile>/deps/`; the workspace's
//! binaries sit one level up. `.ci/run` builds them all before the tests.

use std::path::PathBuf;

/// The directory holding the workspace's built binaries.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary has a path");
    let deps = exe.parent().expect("test binary is in a directory");
    if deps.file_name().is_some_and(|n| n == "deps") {
        deps.parent().expect("deps has a parent").to_path_buf()
    } else {
        deps.to_path_buf()
    }
}

/// The path of a workspace binary; fails the test with a hint when it has
/// not been built.
pub fn binary(name: &str) -> PathBuf {
    let path = target_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: build the workspace binaries first (cargo build --workspace --bins)",
        path.display()
    );
    path
}

/// The repository root (for the supervisord programs and manifests).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_path_buf()
}

/// A system tool the test needs (etcd, etcdctl, kubectl, supervisord, ...).
pub fn system(name: &str) -> PathBuf {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = PathBuf::from(dir).join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("{name} is not installed: run the test command from README.md, which installs it");
}
