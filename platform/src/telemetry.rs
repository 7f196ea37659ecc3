//! Structured logs with `tracing`: pretty for a terminal, JSON for production.
//!
//! `HOMEROOM_LOG_FORMAT` is `pretty` (default) or `json`; `HOMEROOM_LOG_LEVEL`
//! takes an `EnvFilter` directive such as `info` or `info,roster_svc=debug`.
//! Logs go to stderr; stdout is left for the lines a launcher prints.

use tracing_subscriber::{EnvFilter, fmt};

use crate::config::Env;

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber once; later calls (tests, the launcher) are no-ops.
pub fn init(env: &Env) -> anyhow::Result<()> {
    let format = match env.get("LOG_FORMAT").as_deref() {
        None | Some("pretty") | Some("text") => LogFormat::Pretty,
        Some("json") => LogFormat::Json,
        Some(other) => anyhow::bail!("HOMEROOM_LOG_FORMAT={other:?}: expected pretty or json"),
    };
    let level = env.get("LOG_LEVEL").unwrap_or_else(|| "info".into());
    let filter = EnvFilter::try_new(&level)
        .map_err(|e| anyhow::anyhow!("HOMEROOM_LOG_LEVEL={level:?} is not valid: {e}"))?;
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
    // Already installed (several services in one process, or tests): keep the first.
    drop(installed);
    Ok(())
}

/// This process's resident set and its peak so far (`VmRSS`, `VmHWM`), in
/// MiB; zeros where `/proc` is not there.
pub fn memory_mib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb / 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Masks an email or phone number for logs: `s***@mail.com`, `+1******3210`.
pub fn mask_address(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => {
            let chars: Vec<char> = address.chars().collect();
            let keep_head = chars.len().min(2);
            let keep_tail = chars.len().saturating_sub(keep_head).min(4);
            let hidden = chars.len() - keep_head - keep_tail;
            let head: String = chars[..keep_head].iter().collect();
            let tail: String = chars[chars.len() - keep_tail..].iter().collect();
            format!("{head}{}{tail}", "*".repeat(hidden))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mask_address;

    #[test]
    fn masks_keep_only_what_identifies_nothing() {
        assert_eq!(mask_address("smithparent@mail.com"), "s***@mail.com");
        assert_eq!(mask_address("+19876543210"), "+1******3210");
        assert_eq!(mask_address("12"), "12");
    }
}
