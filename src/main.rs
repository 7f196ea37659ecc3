//! `homeroom`: every service in one process (`cargo run`), or one of them.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = homeroom::cli::Cli::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(homeroom::cli::run(cli))
}
