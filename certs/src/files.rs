//! Writing output files all-or-nothing: each file is written to a temporary
//! sibling with its final mode, and only renamed into place once every
//! file of the set has been written. A failure leaves no partial output.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Mode of private keys and kubeconfigs (which embed keys).
pub const SECRET_MODE: u32 = 0o600;
/// Mode of certificates, CSRs and public configuration.
pub const PUBLIC_MODE: u32 = 0o644;

/// One file to write.
#[derive(Debug, Clone)]
pub struct OutputFile {
    pub path: PathBuf,
    pub contents: Vec<u8>,
    pub mode: u32,
}

impl OutputFile {
    pub fn new(path: impl Into<PathBuf>, contents: impl Into<Vec<u8>>, mode: u32) -> Self {
        OutputFile {
            path: path.into(),
            contents: contents.into(),
            mode,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("writing {path}: {source}")]
pub struct WriteError {
    pub path: String,
    pub source: io::Error,
}

fn temp_path(path: &Path, index: usize) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}-{index}", std::process::id()))
}

fn write_temp(temp: &Path, file: &OutputFile) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(file.mode)
        .open(temp)?;
    f.write_all(&file.contents)?;
    f.sync_all()
}

/// Writes every file or none of them.
pub fn write_all_or_nothing(files: &[OutputFile]) -> Result<(), WriteError> {
    let mut temps = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let temp = temp_path(&file.path, i);
        if let Err(source) = write_temp(&temp, file) {
            let _ = fs::remove_file(&temp);
            for t in &temps {
                let _ = fs::remove_file(t);
            }
            return Err(WriteError {
                path: file.path.display().to_string(),
                source,
            });
        }
        temps.push(temp);
    }
    for (i, (temp, file)) in temps.iter().zip(files).enumerate() {
        if let Err(source) = fs::rename(temp, &file.path) {
            for t in &temps[i..] {
                let _ = fs::remove_file(t);
            }
            return Err(WriteError {
                path: file.path.display().to_string(),
                source,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_with_modes() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("a-key.pem");
        let cert = dir.path().join("a.pem");
        write_all_or_nothing(&[
            OutputFile::new(&cert, "cert", PUBLIC_MODE),
            OutputFile::new(&key, "key", SECRET_MODE),
        ])
        .unwrap();
        assert_eq!(fs::read_to_string(&cert).unwrap(), "cert");
        assert_eq!(fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn leaves_nothing_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.pem");
        let bad = dir.path().join("missing-dir").join("bad.pem");
        let err = write_all_or_nothing(&[
            OutputFile::new(&good, "x", PUBLIC_MODE),
            OutputFile::new(&bad, "y", PUBLIC_MODE),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("bad.pem"), "{err}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
