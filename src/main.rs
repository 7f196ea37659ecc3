//! `homeroom`: every service in one process (`cargo run`), or one of them.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    set_allocator_options();
    let cli = homeroom::cli::Cli::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(homeroom::cli::run(cli))
}

/// mimalloc's options this binary sets, by their place in `mi_option_e`
/// (mimalloc.h; the Rust bindings name only some of the options), with the
/// environment variable that overrides each and the value set without one.
///
/// - `purge_delay`: mimalloc keeps freed pages for a second, and gives them
///   back only when the thread that freed them allocates again. A sync frees
///   hundreds of MiB on blocking threads that then sit idle, so its memory
///   stayed resident into the next run (a 50,000-student re-sync peaked at
///   923 MiB instead of about 500). Purge at once.
/// - `allow_thp`: mimalloc asks for transparent huge pages for its large OS
///   allocations; see [`without_transparent_huge_pages`].
const MI_OPTIONS: [(libmimalloc_sys::mi_option_t, &str, std::ffi::c_long); 2] = [
    (15, "MIMALLOC_PURGE_DELAY", 0),
    (37, "MIMALLOC_ALLOW_THP", 0),
];

/// Sets [`MI_OPTIONS`] that the environment leaves unset, and turns
/// transparent huge pages off unless `MIMALLOC_ALLOW_THP` is set.
#[allow(unsafe_code)]
fn set_allocator_options() {
    for (option, variable, value) in MI_OPTIONS {
        if std::env::var_os(variable).is_none() {
            // SAFETY: mi_option_set only stores an integer option; it runs
            // before the runtime starts any other thread.
            unsafe { libmimalloc_sys::mi_option_set(option, value) };
        }
    }
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        without_transparent_huge_pages();
    }
}

/// A transparent huge page is 2 MiB, resident as soon as one byte of it is
/// touched. mimalloc asks for them when it maps memory, and setting its own
/// option here made no difference (its first mappings are made before
/// `main`); this turns them off for the whole process. Without them a 50,000-student
/// re-sync peaks 40–60 MiB lower and holds about 95 MiB between runs
/// instead of 123–172, in the same time (BENCHMARKS.md).
#[allow(unsafe_code)]
fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE only sets a flag on this process's memory
    // map; it reads no pointer. A failure (an old kernel) leaves THP as it was.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
