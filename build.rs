//! Compiles the shipped demo reference files (deploy/demo/reference) into the binary, so
//! `billstream audit` works from any directory once installed.
use std::path::Path;

fn main() {
    let dir = Path::new("deploy/demo/reference");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    // Paths are resolved when the crate compiles (its own CARGO_MANIFEST_DIR), not written out
    // here: a build script's output is reused by a checkout at another path sharing the target
    // directory.
    let mut out = String::from(
        "/// (file name, contents) of every file in deploy/demo/reference.\npub const FILES: &[(&str, &[u8])] = &[\n",
    );
    for n in &names {
        println!("cargo:rerun-if-changed={}/{n}", dir.display());
        out.push_str(&format!(
            "    ({n:?}, include_bytes!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/deploy/demo/reference/{n}\"))),\n"
        ));
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("shipped_reference.rs");
    std::fs::write(dest, out).unwrap_or_else(|e| panic!("writing the shipped reference list: {e}"));
}
