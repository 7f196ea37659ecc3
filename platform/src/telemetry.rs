//! Structured logs with `tracing`: pretty for a terminal, JSON for production;
//! and, when an OTLP endpoint is configured, the same spans as OpenTelemetry
//! traces.
//!
//! `HOMEROOM_LOG_FORMAT` is `pretty` (default) or `json`; `HOMEROOM_LOG_LEVEL`
//! takes an `EnvFilter` directive such as `info` or `info,roster_svc=debug`.
//! Logs go to stderr; stdout is left for the lines a launcher prints.
//!
//! Traces follow the standard variables: `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) turns the OTLP/gRPC exporter on,
//! `OTEL_SERVICE_NAME` names the process (else the component's name),
//! `OTEL_SDK_DISABLED=true` turns it off, and the batch processor reads
//! `OTEL_BSP_*`. A request span adopts the W3C `traceparent` it arrived with
//! ([`adopt_parent`]), and calls made while serving it carry the span's own
//! id as the next parent ([`current_traceparent`]).

use std::{collections::HashMap, sync::OnceLock};

use opentelemetry::{
    propagation::TextMapPropagator,
    trace::{TraceContextExt, TracerProvider as _},
};
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, Layer, fmt, layer::SubscriberExt, util::SubscriberInitExt};

use crate::config::Env;

/// The tracer provider, when traces are exported.
static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber once; later calls (tests, the launcher) are
/// no-ops. `component` names the process in traces unless `OTEL_SERVICE_NAME`
/// does. Call inside the tokio runtime: the exporter's channel lives on it.
pub fn init(env: &Env, component: &str) -> anyhow::Result<()> {
    let format = match env.get("LOG_FORMAT").as_deref() {
        None | Some("pretty") | Some("text") => LogFormat::Pretty,
        Some("json") => LogFormat::Json,
        Some(other) => anyhow::bail!("HOMEROOM_LOG_FORMAT={other:?}: expected pretty or json"),
    };
    let level = env.get("LOG_LEVEL").unwrap_or_else(|| "info".into());
    let filter = EnvFilter::try_new(&level)
        .map_err(|e| anyhow::anyhow!("HOMEROOM_LOG_LEVEL={level:?} is not valid: {e}"))?;
    if tracing::dispatcher::has_been_set() {
        // Already installed (several services in one process, or tests): keep the first.
        return Ok(());
    }
    let logs = match format {
        LogFormat::Pretty => fmt::layer().with_writer(std::io::stderr).boxed(),
        LogFormat::Json => fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_writer(std::io::stderr)
            .boxed(),
    };
    let traces = match otlp_endpoint(env) {
        Some(endpoint) => {
            let name = env
                .var("OTEL_SERVICE_NAME")
                .unwrap_or_else(|| component.to_owned());
            let provider = tracer_provider(&endpoint, name)?;
            let tracer = provider.tracer("homeroom");
            let _ = PROVIDER.set(provider);
            Some(tracing_opentelemetry::layer().with_tracer(tracer))
        }
        None => None,
    };
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(traces)
        .try_init();
    drop(installed);
    Ok(())
}

/// The OTLP endpoint, unless the SDK is disabled.
fn otlp_endpoint(env: &Env) -> Option<String> {
    if env
        .var("OTEL_SDK_DISABLED")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    {
        return None;
    }
    env.var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .or_else(|| env.var("OTEL_EXPORTER_OTLP_ENDPOINT"))
        .filter(|e| !e.trim().is_empty())
}

fn tracer_provider(endpoint: &str, name: String) -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .map_err(|e| {
            anyhow::anyhow!("OTEL_EXPORTER_OTLP_ENDPOINT={endpoint:?} cannot be used: {e}")
        })?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(name)
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

/// Sends the spans still buffered and stops the exporter; call once, at the
/// end of `main`. Nothing when traces are off.
pub async fn shutdown() {
    if let Some(provider) = PROVIDER.get().cloned() {
        // The batch processor blocks while it exports.
        let _ = tokio::task::spawn_blocking(move || provider.shutdown()).await;
    }
}

/// Makes `span` a child of the remote span a well-formed `traceparent`
/// names. Nothing when traces are off or there is no parent.
pub fn adopt_parent(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(traceparent) = traceparent.filter(|_| PROVIDER.get().is_some()) else {
        return;
    };
    let carrier = HashMap::from([(
        crate::request_context::TRACEPARENT.to_owned(),
        traceparent.to_owned(),
    )]);
    let parent = TraceContextPropagator::new().extract(&carrier);
    let _ = span.set_parent(parent);
}

/// The `traceparent` naming the current span as the parent of a call it
/// makes; `None` when traces are off.
pub fn current_traceparent() -> Option<String> {
    PROVIDER.get()?;
    let context = tracing::Span::current().context();
    let span = context.span();
    let span = span.span_context();
    span.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            span.trace_id(),
            span.span_id(),
            span.trace_flags().to_u8()
        )
    })
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
