//! Command-line flags, named as kube-apiserver names them where it has
//! them, checked before anything starts so a bad value is one clear error.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::registry::service_ranges::{IpRange, PortRange};

/// A Kubernetes API server in Rust.
#[derive(Clone, Debug, Parser)]
#[command(name = "ferrokube", version, about, long_about = None)]
pub struct Config {
    /// Port to serve HTTPS on; 0 picks a free port (printed at startup).
    #[arg(long, default_value_t = 6443)]
    pub secure_port: u16,

    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,

    /// Directory for the embedded store, certificates and the admin kubeconfig.
    #[arg(long, default_value = "ferrokube-data")]
    pub data_dir: PathBuf,

    /// Where to write the admin kubeconfig [default: <data-dir>/admin.kubeconfig].
    #[arg(long)]
    pub kubeconfig_out: Option<PathBuf>,

    /// Serving certificate (PEM); generated into the data directory when absent.
    #[arg(long, requires = "tls_private_key_file")]
    pub tls_cert_file: Option<PathBuf>,

    /// Serving certificate's private key (PEM).
    #[arg(long, requires = "tls_cert_file")]
    pub tls_private_key_file: Option<PathBuf>,

    /// Where objects are kept when no --etcd-servers are given.
    #[arg(long, value_enum, default_value_t = StorageKind::Embedded)]
    pub storage: StorageKind,

    /// etcd endpoints (comma separated); when set, etcd is the store.
    #[arg(long, value_delimiter = ',')]
    pub etcd_servers: Vec<String>,

    /// Key prefix of every object in etcd.
    #[arg(long, default_value = "/registry")]
    pub etcd_prefix: String,

    /// CA bundle to verify etcd's serving certificate.
    #[arg(long)]
    pub etcd_cafile: Option<PathBuf>,

    /// Client certificate for etcd.
    #[arg(long, requires = "etcd_keyfile")]
    pub etcd_certfile: Option<PathBuf>,

    /// Client key for etcd.
    #[arg(long, requires = "etcd_certfile")]
    pub etcd_keyfile: Option<PathBuf>,

    /// Group/versions to turn on or off, as `apps/v1=true,batch/v1beta1=false`;
    /// `api/all`, `api/ga`, `api/beta` and `api/alpha` name sets.
    #[arg(long, value_delimiter = ',')]
    pub runtime_config: Vec<String>,

    /// CIDR ClusterIPs of Services are allocated from; its first address
    /// belongs to the `kubernetes` Service.
    #[arg(long, default_value = "10.0.0.0/24", value_parser = IpRange::parse)]
    pub service_cluster_ip_range: IpRange,

    /// Port range NodePorts are allocated from, inclusive (`30000-32767`).
    #[arg(long, default_value = "30000-32767", value_parser = PortRange::parse)]
    pub service_node_port_range: PortRange,

    /// Address the `kubernetes` Service's endpoints point at [default: the
    /// bind address, or the host's outbound address when binding to all].
    #[arg(long)]
    pub advertise_address: Option<IpAddr>,

    /// Recent events each resource's watch cache keeps for watches that
    /// resume from an older resourceVersion (older ones get 410 Gone).
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub default_watch_cache_size: u32,

    /// Concurrent HTTP/2 streams a client may open on one connection; 0
    /// takes the default of 100, as kube-apiserver does.
    #[arg(long = "http2-max-streams-per-connection", default_value_t = 0)]
    pub http2_max_streams_per_connection: u32,

    /// Log verbosity: 0 warnings, 1-2 info, 3-4 debug, 5+ trace.
    #[arg(long = "v", short = 'v', default_value_t = 1)]
    pub verbosity: u8,
}

/// kube-apiserver's stream limit per HTTP/2 connection when the flag is 0
/// (lowered from Go's 250 after the HTTP/2 rapid-reset attacks).
pub const DEFAULT_HTTP2_MAX_STREAMS: u32 = 100;

/// The store used without etcd.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StorageKind {
    /// Durable, in the data directory (the default).
    Embedded,
    /// In memory only: for tests and throwaway servers.
    Memory,
}

impl Config {
    /// The admin kubeconfig path.
    pub fn kubeconfig_path(&self) -> PathBuf {
        self.kubeconfig_out
            .clone()
            .unwrap_or_else(|| self.data_dir.join("admin.kubeconfig"))
    }

    /// The HTTP/2 stream limit per connection that `--http2-max-streams-per-connection` asks for.
    pub fn http2_max_streams(&self) -> u32 {
        match self.http2_max_streams_per_connection {
            0 => DEFAULT_HTTP2_MAX_STREAMS,
            n => n,
        }
    }

    /// The tracing filter for `--v`.
    pub fn log_filter(&self) -> &'static str {
        match self.verbosity {
            0 => "warn",
            1 | 2 => "info",
            3 | 4 => "debug",
            _ => "trace",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_flag_names_parse() {
        let config = Config::try_parse_from([
            "ferrokube",
            "--secure-port=7443",
            "--bind-address",
            "127.0.0.1",
            "--etcd-servers=http://127.0.0.1:2379,http://127.0.0.1:22379",
            "--runtime-config=api/all=true",
            "--v=4",
        ])
        .unwrap();
        assert_eq!(config.secure_port, 7443);
        assert_eq!(config.etcd_servers.len(), 2);
        assert_eq!(config.log_filter(), "debug");
        assert_eq!(
            config.kubeconfig_path(),
            PathBuf::from("ferrokube-data/admin.kubeconfig")
        );
    }

    #[test]
    fn http2_stream_limit_defaults_as_upstream() {
        let config = Config::try_parse_from(["ferrokube"]).unwrap();
        assert_eq!(config.http2_max_streams(), 100);
        let config =
            Config::try_parse_from(["ferrokube", "--http2-max-streams-per-connection=250"])
                .unwrap();
        assert_eq!(config.http2_max_streams(), 250);
    }

    #[test]
    fn bad_values_are_clear_errors() {
        let error = Config::try_parse_from(["ferrokube", "--secure-port=99999"]).unwrap_err();
        assert!(error.to_string().contains("--secure-port"), "{error}");
        let error = Config::try_parse_from(["ferrokube", "--bind-address=nowhere"]).unwrap_err();
        assert!(error.to_string().contains("--bind-address"), "{error}");
        let error = Config::try_parse_from(["ferrokube", "--service-cluster-ip-range=10.0.0.0"])
            .unwrap_err();
        assert!(
            error.to_string().contains("--service-cluster-ip-range"),
            "{error}"
        );
        let error =
            Config::try_parse_from(["ferrokube", "--service-node-port-range=9-1"]).unwrap_err();
        assert!(
            error.to_string().contains("--service-node-port-range"),
            "{error}"
        );
        let error = Config::try_parse_from(["ferrokube", "--tls-cert-file=x.crt"]).unwrap_err();
        assert!(
            error.to_string().contains("--tls-private-key-file"),
            "{error}"
        );
    }
}
