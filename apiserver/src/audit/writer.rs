//! The audit log backend (`--audit-log-path`): one JSON event per line, to
//! stdout (`-`) or to a file rotated by size the way upstream's log backend
//! (lumberjack) does it: the full file is renamed to
//! `<name>-<UTC time as 2006-01-02T15-04-05.000><ext>` (`audit.log` →
//! `audit-2026-11-22T16-09-00.123.log`), a fresh file takes its place, and
//! old backups beyond `--audit-log-maxbackup` or older than
//! `--audit-log-maxage` days are removed.

use chrono::{DateTime, NaiveDateTime, Utc};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// lumberjack's size limit when none is given (`--audit-log-maxsize=0`).
const DEFAULT_MAX_SIZE_MB: u64 = 100;
/// The timestamp layout of backup names.
const BACKUP_TIME: &str = "%Y-%m-%dT%H-%M-%S%.3f";

/// Rotation limits, as the `--audit-log-max*` flags give them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rotation {
    /// Days to keep backups (0: no age limit).
    pub max_age_days: u64,
    /// Backups to keep (0: no count limit).
    pub max_backups: usize,
    /// Size in MB at which the file rotates (0: 100 MB).
    pub max_size_mb: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    #[error("audit log {path}: {err}")]
    Io { path: String, err: std::io::Error },
}

enum Sink {
    Stdout,
    File(FileSink),
}

struct FileSink {
    path: PathBuf,
    file: File,
    size: u64,
    max_bytes: u64,
    rotation: Rotation,
}

/// Writes lines; shared by all requests.
pub struct LogWriter {
    sink: Mutex<Sink>,
}

fn io_err(path: &Path, err: std::io::Error) -> WriterError {
    WriterError::Io {
        path: path.display().to_string(),
        err,
    }
}

/// Opens (appending) or creates the log file with mode 0600.
fn open_append(path: &Path) -> Result<File, WriterError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_err(path, e))
}

impl LogWriter {
    /// `-` writes to stdout; anything else is a file path.
    pub fn open(path: &str, rotation: Rotation) -> Result<LogWriter, WriterError> {
        if path == "-" {
            return Ok(LogWriter {
                sink: Mutex::new(Sink::Stdout),
            });
        }
        let path = PathBuf::from(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        }
        let file = open_append(&path)?;
        let size = file.metadata().map_err(|e| io_err(&path, e))?.len();
        let mb = if rotation.max_size_mb == 0 {
            DEFAULT_MAX_SIZE_MB
        } else {
            rotation.max_size_mb
        };
        Ok(LogWriter {
            sink: Mutex::new(Sink::File(FileSink {
                path,
                file,
                size,
                max_bytes: mb * 1024 * 1024,
                rotation,
            })),
        })
    }

    /// Writes one line (a newline is added), rotating first when the line
    /// would carry the file past its limit.
    pub fn write_line(&self, line: &[u8]) -> Result<(), WriterError> {
        let mut sink = match self.sink.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        match &mut *sink {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(line)
                    .and_then(|_| out.write_all(b"\n"))
                    .map_err(|e| io_err(Path::new("-"), e))
            }
            Sink::File(f) => f.write_line(line),
        }
    }
}

impl FileSink {
    fn write_line(&mut self, line: &[u8]) -> Result<(), WriterError> {
        let len = line.len() as u64 + 1;
        if self.size > 0 && self.size + len > self.max_bytes {
            self.rotate(Utc::now())?;
        }
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line);
        buf.push(b'\n');
        self.file
            .write_all(&buf)
            .map_err(|e| io_err(&self.path, e))?;
        self.size += len;
        Ok(())
    }

    /// Renames the current file to its backup name and starts a new one,
    /// then prunes old backups.
    fn rotate(&mut self, now: DateTime<Utc>) -> Result<(), WriterError> {
        // Two rotations within a millisecond would share a name; move the
        // stamp on rather than overwrite a backup.
        let mut stamp = now;
        let mut backup = backup_name(&self.path, stamp);
        while backup.exists() {
            stamp += chrono::Duration::milliseconds(1);
            backup = backup_name(&self.path, stamp);
        }
        std::fs::rename(&self.path, &backup).map_err(|e| io_err(&self.path, e))?;
        self.file = open_append(&self.path)?;
        self.size = 0;
        if let Err(e) = prune(&self.path, self.rotation, now) {
            tracing::warn!("pruning audit log backups: {e}");
        }
        Ok(())
    }
}

/// `dir/audit.log` → `dir/audit-<time>.log`.
pub fn backup_name(path: &Path, now: DateTime<Utc>) -> PathBuf {
    let (prefix, ext) = split_name(path);
    let name = format!("{prefix}-{}{ext}", now.format(BACKUP_TIME));
    path.with_file_name(name)
}

/// The file name split as Go's `filepath.Ext` does: `audit.log` →
/// (`audit`, `.log`).
fn split_name(path: &Path) -> (String, String) {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.rfind('.') {
        Some(i) => (name[..i].to_string(), name[i..].to_string()),
        None => (name, String::new()),
    }
}

/// The backups of `path` with the time in their names, newest first.
fn backups(path: &Path) -> std::io::Result<Vec<(DateTime<Utc>, PathBuf)>> {
    let (prefix, ext) = split_name(path);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(stamp) = name
            .strip_prefix(&format!("{prefix}-"))
            .and_then(|rest| rest.strip_suffix(ext.as_str()))
        else {
            continue;
        };
        if let Ok(t) = NaiveDateTime::parse_from_str(stamp, BACKUP_TIME) {
            found.push((t.and_utc(), entry.path()));
        }
    }
    found.sort_by_key(|b| std::cmp::Reverse(b.0));
    Ok(found)
}

/// Removes backups past the count and age limits.
fn prune(path: &Path, rotation: Rotation, now: DateTime<Utc>) -> std::io::Result<()> {
    let all = backups(path)?;
    let cutoff = now - chrono::Duration::days(rotation.max_age_days as i64);
    for (i, (t, p)) in all.iter().enumerate() {
        let too_many = rotation.max_backups > 0 && i >= rotation.max_backups;
        let too_old = rotation.max_age_days > 0 && *t < cutoff;
        if too_many || too_old {
            std::fs::remove_file(p)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn backup_names_follow_lumberjack() {
        let t = Utc
            .with_ymd_and_hms(2026, 11, 22, 16, 9, 5)
            .single()
            .expect("valid time")
            + chrono::Duration::milliseconds(42);
        assert_eq!(
            backup_name(Path::new("/var/log/kubernetes/audit.log"), t),
            PathBuf::from("/var/log/kubernetes/audit-2026-11-22T16-09-05.042.log")
        );
        assert_eq!(
            backup_name(Path::new("/logs/audit"), t),
            PathBuf::from("/logs/audit-2026-11-22T16-09-05.042")
        );
    }

    fn sink(dir: &Path, rotation: Rotation, max_bytes: u64) -> FileSink {
        let path = dir.join("audit.log");
        FileSink {
            file: open_append(&path).expect("open"),
            path,
            size: 0,
            max_bytes,
            rotation,
        }
    }

    #[test]
    fn rotates_by_size_with_mode_0600() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut s = sink(dir.path(), Rotation::default(), 100);
        for i in 0..5 {
            s.write_line(format!("{i:039}").as_bytes()).expect("write"); // 40 bytes a line
        }
        // 2 lines fit in 100 bytes; the third rotates.
        let current = std::fs::read_to_string(dir.path().join("audit.log")).expect("read");
        assert_eq!(current.lines().count(), 1, "{current}");
        let b = backups(&dir.path().join("audit.log")).expect("list");
        assert_eq!(b.len(), 2, "{b:?}");
        for (_, p) in &b {
            assert_eq!(std::fs::read_to_string(p).expect("read").lines().count(), 2);
        }
        let mode = std::fs::metadata(dir.path().join("audit.log"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn prunes_by_count_and_age() {
        let dir = tempfile::tempdir().expect("tmp");
        let log = dir.path().join("audit.log");
        let now = Utc::now();
        for days in [0, 1, 2, 10] {
            let p = backup_name(&log, now - chrono::Duration::days(days));
            std::fs::write(p, "x").expect("write");
        }
        std::fs::write(dir.path().join("other.log"), "keep").expect("write");
        prune(
            &log,
            Rotation {
                max_age_days: 5,
                max_backups: 0,
                max_size_mb: 0,
            },
            now,
        )
        .expect("prune");
        assert_eq!(backups(&log).expect("list").len(), 3);
        prune(
            &log,
            Rotation {
                max_age_days: 0,
                max_backups: 1,
                max_size_mb: 0,
            },
            now,
        )
        .expect("prune");
        let left = backups(&log).expect("list");
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].1, backup_name(&log, now));
        assert!(dir.path().join("other.log").exists());
    }
}
