//! Compiles `homeroom/<pkg>/v1/*.proto` with protox (pure Rust, no system `protoc`)
//! and writes one encoded `FileDescriptorSet` per package for gRPC reflection.

use std::{
    error::Error,
    fs,
    path::{Path, PathBuf},
};

const PACKAGES: [&str; 3] = ["identity", "roster", "messaging"];

fn main() -> Result<(), Box<dyn Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed=homeroom");

    let mut codegen = prost_types::FileDescriptorSet::default();
    for package in PACKAGES {
        let files = proto_files(&root.join("homeroom").join(package).join("v1"))?;
        let relative: Vec<PathBuf> = files
            .iter()
            .map(|f| f.strip_prefix(&root).map(Path::to_path_buf))
            .collect::<Result<_, _>>()?;
        let mut compiler = protox::Compiler::new([&root])?;
        compiler.include_source_info(true).include_imports(true);
        compiler.open_files(&relative)?;
        fs::write(
            out.join(format!("{package}_descriptor.bin")),
            compiler.encode_file_descriptor_set(),
        )?;
        merge_own_files(&mut codegen, compiler.file_descriptor_set());
    }

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .generate_default_stubs(true)
        .compile_fds(codegen)?;
    Ok(())
}

/// Adds the package's files, and the well-known types it imports once, to the
/// set the code is generated from (those types map to `prost_types`).
fn merge_own_files(into: &mut prost_types::FileDescriptorSet, set: prost_types::FileDescriptorSet) {
    for file in set.file {
        if !into.file.iter().any(|f| f.name() == file.name()) {
            into.file.push(file);
        }
    }
}

fn proto_files(dir: &Path) -> Result<Vec<PathBuf>, Box<dyn Error>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "proto"));
    files.sort();
    if files.is_empty() {
        return Err(format!("no .proto files in {}", dir.display()).into());
    }
    Ok(files)
}
