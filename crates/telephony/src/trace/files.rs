//! Rotating trace files: `pdu-<start>-t<trace>-0001.log`, `-0002.log`… in the
//! trace's directory. A line goes to the next file when it would take the
//! current one past the size limit (a file holds at least one line, so a
//! single larger record makes a larger file); beyond the count, the oldest
//! file of this trace is deleted. Files of other traces are never touched.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A write that failed, with the file it was for.
#[derive(Debug)]
pub(crate) struct FileError {
    pub path: PathBuf,
    pub error: io::Error,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.error)
    }
}

pub(crate) struct RotatingFiles {
    dir: PathBuf,
    stem: String,
    max_bytes: u64,
    max_files: usize,
    current: BufWriter<File>,
    current_len: u64,
    seq: u32,
    /// Files of this trace still on disk, oldest first.
    kept: VecDeque<PathBuf>,
}

impl RotatingFiles {
    /// Opens the first file (`create_new`: an existing file is an error,
    /// never overwritten).
    pub fn open(
        dir: &Path,
        stem: &str,
        max_bytes: u64,
        max_files: usize,
    ) -> Result<RotatingFiles, FileError> {
        let path = Self::path_of(dir, stem, 1);
        let current = create(&path)?;
        Ok(RotatingFiles {
            dir: dir.to_owned(),
            stem: stem.to_owned(),
            max_bytes: max_bytes.max(1),
            max_files: max_files.max(1),
            current,
            current_len: 0,
            seq: 1,
            kept: VecDeque::from([path]),
        })
    }

    fn path_of(dir: &Path, stem: &str, seq: u32) -> PathBuf {
        dir.join(format!("{stem}-{seq:04}.log"))
    }

    fn current_path(&self) -> PathBuf {
        Self::path_of(&self.dir, &self.stem, self.seq)
    }

    /// Number of the current file (1, 2…): changes when the files do.
    pub fn current_number(&self) -> u32 {
        self.seq
    }

    /// Files of this trace still on disk, oldest first.
    pub fn files(&self) -> Vec<PathBuf> {
        self.kept.iter().cloned().collect()
    }

    /// Writes `line` and a line break; returns the bytes written.
    pub fn write_line(&mut self, line: &str) -> Result<u64, FileError> {
        let len = line.len() as u64 + 1;
        if self.current_len > 0 && self.current_len + len > self.max_bytes {
            self.rotate()?;
        }
        let written = self
            .current
            .write_all(line.as_bytes())
            .and_then(|()| self.current.write_all(b"\n"));
        written.map_err(|error| FileError {
            path: self.current_path(),
            error,
        })?;
        self.current_len += len;
        Ok(len)
    }

    pub fn flush(&mut self) -> Result<(), FileError> {
        self.current.flush().map_err(|error| FileError {
            path: self.current_path(),
            error,
        })
    }

    fn rotate(&mut self) -> Result<(), FileError> {
        self.flush()?;
        let next = Self::path_of(&self.dir, &self.stem, self.seq + 1);
        self.current = create(&next)?;
        self.seq += 1;
        self.current_len = 0;
        self.kept.push_back(next);
        while self.kept.len() > self.max_files {
            if let Some(oldest) = self.kept.pop_front() {
                std::fs::remove_file(&oldest).map_err(|error| FileError {
                    path: oldest,
                    error,
                })?;
            }
        }
        Ok(())
    }
}

fn create(path: &Path) -> Result<BufWriter<File>, FileError> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map(|f| BufWriter::with_capacity(64 * 1024, f))
        .map_err(|error| FileError {
            path: path.to_owned(),
            error,
        })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh directory under the system's temporary one.
    pub fn scratch(name: &str) -> PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "twp-trace-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn rotates_within_the_limit_and_keeps_the_newest() {
        let dir = scratch("rotate");
        let mut files = RotatingFiles::open(&dir, "pdu-x", 100, 3).unwrap();
        let line = "x".repeat(29); // 30 bytes with the line break: 3 a file
        for _ in 0..20 {
            assert_eq!(files.write_line(&line).unwrap(), 30);
        }
        files.flush().unwrap();
        // 20 lines, 3 a file: files 1..=7, the last three kept.
        let kept = files.files();
        let names: Vec<String> = kept
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            ["pdu-x-0005.log", "pdu-x-0006.log", "pdu-x-0007.log"]
        );
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        assert_eq!(on_disk, names);
        let sizes: Vec<u64> = kept
            .iter()
            .map(|p| std::fs::metadata(p).unwrap().len())
            .collect();
        assert_eq!(sizes, [90, 90, 60]);
        // A line larger than the limit gets a file of its own.
        files.write_line(&"y".repeat(250)).unwrap();
        files.write_line("z").unwrap();
        files.flush().unwrap();
        let kept = files.files();
        assert_eq!(std::fs::metadata(&kept[1]).unwrap().len(), 251);
        assert_eq!(std::fs::metadata(&kept[2]).unwrap().len(), 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_directory_and_existing_file_are_errors() {
        let dir = scratch("missing");
        let gone = dir.join("nope");
        let e = RotatingFiles::open(&gone, "pdu", 100, 2).err().unwrap();
        assert_eq!(e.path, gone.join("pdu-0001.log"));
        assert_eq!(e.error.kind(), io::ErrorKind::NotFound);
        std::fs::write(dir.join("pdu-0001.log"), "keep me").unwrap();
        let e = RotatingFiles::open(&dir, "pdu", 100, 2).err().unwrap();
        assert_eq!(e.error.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            std::fs::read_to_string(dir.join("pdu-0001.log")).unwrap(),
            "keep me"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
