//! The demo reference files (deploy/demo/reference: CMS NCCI, MUE, HCPCS, PFS, CLFS, OPPS
//! excerpts) compiled into the binary. An installed `billstream` run from any directory uses
//! them when the configured reference directory is the default and is not there.
use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

mod files {
    include!(concat!(env!("OUT_DIR"), "/shipped_reference.rs"));
}

/// The default `findings.reference_dir`, relative to the working directory.
pub const DEFAULT_DIR: &str = "deploy/demo/reference";

/// The reference directory to read: `configured` when it exists; the shipped files (written
/// once to the user's cache) when `configured` is the default and absent; else an error naming
/// the directory.
pub fn reference_dir(configured: &Path) -> Result<PathBuf> {
    if configured.is_dir() {
        return Ok(configured.to_path_buf());
    }
    if configured != Path::new(DEFAULT_DIR) {
        anyhow::bail!(
            "no reference data at {}: pass --reference DIR or set findings.reference_dir to a directory of CMS files",
            configured.display()
        );
    }
    unpack()
}

/// Writes the compiled-in files under `$XDG_CACHE_HOME` (or `~/.cache`, else the temp dir), in a
/// folder named by their content hash, and returns it. Files are written to a temporary name and
/// renamed, so a concurrent run never reads half a file.
fn unpack() -> Result<PathBuf> {
    let mut h = Sha256::new();
    for (name, bytes) in files::FILES {
        h.update(name.as_bytes());
        h.update(bytes);
    }
    let tag = hex::encode(&h.finalize()[..8]);
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join("billstream").join(format!("reference-{tag}"));
    std::fs::create_dir_all(&dir).with_context(|| format!("{}: cannot create the reference cache", dir.display()))?;
    for (name, bytes) in files::FILES {
        let path = dir.join(name);
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
            continue;
        }
        let tmp = dir.join(format!(".{name}.{}", std::process::id()));
        std::fs::write(&tmp, bytes).with_context(|| format!("{}: cannot write", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("{}: cannot write", path.display()))?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_file_is_compiled_in() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_DIR);
        let mut on_disk: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
        on_disk.sort();
        let compiled: Vec<String> = files::FILES.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(compiled, on_disk);
        for (name, bytes) in files::FILES {
            assert_eq!(std::fs::read(dir.join(name)).unwrap(), *bytes, "{name}");
        }
    }

    #[test]
    fn a_configured_directory_that_is_missing_is_an_error() {
        let e = reference_dir(Path::new("/nonexistent/reference")).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/reference") && e.contains("--reference"), "{e}");
    }
}
