//! `homeroom`: every service in one process (`cargo run`), or one of them.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    return_freed_memory_at_once();
    let cli = homeroom::cli::Cli::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(homeroom::cli::run(cli))
}

/// mimalloc's `purge_delay` option, by its place in `mi_option_e` (mimalloc.h;
/// the Rust bindings name only some of the options).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc keeps freed pages for a second, and gives them back only when the
/// thread that freed them allocates again. A sync frees hundreds of MiB on
/// blocking threads that then sit idle, so its memory stayed resident into
/// the next run (a 50,000-student re-sync peaked at 923 MiB instead of
/// about 500). Purge at once, unless `MIMALLOC_PURGE_DELAY` says otherwise.
#[allow(unsafe_code)]
fn return_freed_memory_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set only stores an integer option; it runs
        // before the runtime starts any other thread.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
}
