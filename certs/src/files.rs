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
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
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

fn write_error(path: &Path, source: io::Error) -> WriteError {
    WriteError {
        path: path.display().to_string(),
        source,
    }
}

fn remove_all(paths: &[PathBuf]) {
    for p in paths {
        let _ = fs::remove_file(p);
    }
}

/// Writes every file or none of them. Files being replaced are kept as
/// hard-linked backups until every rename succeeded, so a failure in the
/// middle restores the previous contents.
pub fn write_all_or_nothing(files: &[OutputFile]) -> Result<(), WriteError> {
    let mut temps = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let temp = temp_path(&file.path, i);
        if let Err(source) = write_temp(&temp, file) {
            let _ = fs::remove_file(&temp);
            remove_all(&temps);
            return Err(write_error(&file.path, source));
        }
        temps.push(temp);
    }
    // Back up what is being replaced (None: the target did not exist).
    let mut backups: Vec<Option<PathBuf>> = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let backup = match fs::symlink_metadata(&file.path) {
            Ok(meta) if meta.is_dir() => Err(io::Error::other("is a directory")),
            Ok(_) => {
                let b = file.path.with_file_name(format!(
                    ".{}.bak-{}-{i}",
                    file.path
                        .file_name()
                        .map(|n| n.to_string_lossy())
                        .unwrap_or_default(),
                    std::process::id()
                ));
                fs::hard_link(&file.path, &b).map(|_| Some(b))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
        match backup {
            Ok(b) => backups.push(b),
            Err(source) => {
                remove_all(&temps);
                remove_all(&backups.iter().flatten().cloned().collect::<Vec<_>>());
                return Err(write_error(&file.path, source));
            }
        }
    }
    for (i, (temp, file)) in temps.iter().zip(files).enumerate() {
        if let Err(source) = fs::rename(temp, &file.path) {
            remove_all(&temps[i..]);
            // Undo the renames already done.
            for (done, backup) in files[..i].iter().zip(&backups) {
                match backup {
                    Some(b) => {
                        let _ = fs::rename(b, &done.path);
                    }
                    None => {
                        let _ = fs::remove_file(&done.path);
                    }
                }
            }
            remove_all(&backups[i..].iter().flatten().cloned().collect::<Vec<_>>());
            return Err(write_error(&file.path, source));
        }
    }
    remove_all(&backups.into_iter().flatten().collect::<Vec<_>>());
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
        assert_eq!(
            fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
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

    #[test]
    fn restores_previous_contents_when_a_later_file_fails() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.pem");
        fs::write(&first, "old").unwrap();
        let blocked = dir.path().join("a-key.pem");
        fs::create_dir(&blocked).unwrap();
        let fresh = dir.path().join("a.csr");
        let err = write_all_or_nothing(&[
            OutputFile::new(&first, "new", PUBLIC_MODE),
            OutputFile::new(&fresh, "csr", PUBLIC_MODE),
            OutputFile::new(&blocked, "key", SECRET_MODE),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("a-key.pem"), "{err}");
        assert_eq!(fs::read_to_string(&first).unwrap(), "old");
        assert!(!fresh.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn replaces_existing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        fs::write(&path, "old").unwrap();
        write_all_or_nothing(&[OutputFile::new(&path, "new", SECRET_MODE)]).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
