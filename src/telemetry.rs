//! Logging: JSON lines (pretty on a terminal), on stderr so that stdout stays for command output.
//! Every line inside a request carries the request's span, hence its `request_id`.

use std::io::IsTerminal;

use tracing_subscriber::{fmt, EnvFilter};

/// Installs the global subscriber. `format` is `auto`, `json` or `pretty`.
pub fn init(format: &str, level: &str) {
    let filter = EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new("info"));
    let pretty = match format {
        "json" => false,
        "pretty" => true,
        _ => std::io::stderr().is_terminal(),
    };
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests spawning several apps) is harmless: keep the first.
    let _ = if pretty {
        builder.try_init()
    } else {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .flatten_event(true)
            .try_init()
    };
}
