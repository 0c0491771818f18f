//! The `openphone-sync` binary: hands the process over to [`openphone_sync::cli::main`], with
//! mimalloc as its allocator (a million-row run allocates and frees tens of millions of
//! small strings; glibc's `malloc`/`free` were a fifth of its time, see docs/performance.md).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    openphone_sync::cli::main()
}
