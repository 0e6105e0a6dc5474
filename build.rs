//! Compiles the vendored Kubernetes `.proto` files (proto/) into one descriptor set that the
//! simulator uses to decode protobuf request bodies (src/sim/api/protobuf.rs).

use std::path::PathBuf;

/// The packages whose kinds a client may send as protobuf; imports come along.
const FILES: &[&str] = &[
    "api/core/v1/generated.proto",
    "api/apps/v1/generated.proto",
    "api/batch/v1/generated.proto",
    "api/policy/v1/generated.proto",
    "api/coordination/v1/generated.proto",
    "api/rbac/v1/generated.proto",
    "api/authorization/v1/generated.proto",
    "api/discovery/v1/generated.proto",
    "api/events/v1/generated.proto",
    "apimachinery/pkg/apis/meta/v1/generated.proto",
];

fn main() {
    println!("cargo:rerun-if-changed=proto");
    let bytes = protox::Compiler::new(["proto"])
        .and_then(|mut c| {
            c.include_imports(true);
            c.open_files(FILES)?;
            Ok(c.encode_file_descriptor_set())
        })
        .unwrap_or_else(|e| panic!("compiling proto/: {e}"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join("k8s.desc");
    std::fs::write(&out, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}
