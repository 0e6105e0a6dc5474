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
    compile("proto", FILES, "k8s.desc");
    // gnostic's OpenAPI v2 messages: the form kubectl <= 1.28 reads /openapi/v2 in.
    compile(
        "proto/gnostic",
        &["openapiv2/OpenAPIv2.proto"],
        "gnostic.desc",
    );
}

fn compile(include: &str, files: &[&str], out: &str) {
    let bytes = protox::Compiler::new([include])
        .and_then(|mut c| {
            c.include_imports(true);
            c.open_files(files)?;
            Ok(c.encode_file_descriptor_set())
        })
        .unwrap_or_else(|e| panic!("compiling {include}: {e}"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR")).join(out);
    std::fs::write(&out, bytes).unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
}
