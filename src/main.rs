//! The `k2d` command. See [`k2d::cli`].
fn main() -> std::process::ExitCode {
    k2d::cli::main()
}
