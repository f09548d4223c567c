//! Generates the API surface from `spec/` (see `codegen/`).
fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let generated =
        k2d_codegen::generate(std::path::Path::new("spec"), &out).expect("spec/ generates");
    for input in generated.inputs {
        println!("cargo:rerun-if-changed={}", input.display());
    }
    println!("cargo:rerun-if-changed=build.rs");
}
