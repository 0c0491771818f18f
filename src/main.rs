//! The `openphone-sync` binary: hands the process over to [`openphone_sync::cli::main`].

fn main() -> std::process::ExitCode {
    openphone_sync::cli::main()
}
