//! TXT look-ups for domain verification, through hickory's resolver: the system's
//! resolvers by default, or the name servers configured (the tests run one on loopback).

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::{Resolver, TokioResolver};
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// The name has no TXT records (NXDOMAIN or no data): the merchant has not added it yet.
    #[error("no TXT record found at {0}")]
    NotFound(String),
    /// The resolver could not get an answer (timeout, SERVFAIL, network).
    #[error("dns lookup of {name} failed: {message}")]
    Failed { name: String, message: String },
}

#[async_trait::async_trait]
pub trait TxtLookup: Send + Sync + 'static {
    async fn txt(&self, name: &str) -> Result<Vec<String>, LookupError>;
}

pub struct HickoryLookup(TokioResolver);

impl HickoryLookup {
    /// `nameservers` empty means the system configuration (/etc/resolv.conf).
    pub fn new(nameservers: &[SocketAddr], timeout: Duration) -> Result<Self, LookupError> {
        let failed = |e: hickory_resolver::net::NetError| LookupError::Failed {
            name: "<resolver>".into(),
            message: e.to_string(),
        };
        let builder = if nameservers.is_empty() {
            TokioResolver::builder_tokio().map_err(failed)?
        } else {
            let servers = nameservers
                .iter()
                .map(|addr| {
                    let mut udp = ConnectionConfig::udp();
                    udp.port = addr.port();
                    let mut tcp = ConnectionConfig::tcp();
                    tcp.port = addr.port();
                    NameServerConfig::new(addr.ip(), true, vec![udp, tcp])
                })
                .collect();
            Resolver::builder_with_config(
                ResolverConfig::from_name_servers(servers),
                TokioRuntimeProvider::default(),
            )
        };
        let mut options = ResolverOpts::default();
        options.timeout = timeout;
        options.attempts = 2;
        options.use_hosts_file = ResolveHosts::Never;
        // A merchant who just added the record should not wait out a cached "no record".
        options.cache_size = 0;
        options.positive_max_ttl = Some(Duration::ZERO);
        options.negative_max_ttl = Some(Duration::ZERO);
        Ok(Self(builder.with_options(options).build().map_err(failed)?))
    }
}

#[async_trait::async_trait]
impl TxtLookup for HickoryLookup {
    async fn txt(&self, name: &str) -> Result<Vec<String>, LookupError> {
        // A trailing dot makes the name absolute, so search domains never apply.
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        match self.0.txt_lookup(fqdn.as_str()).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::TXT(txt) => Some(
                        txt.txt_data
                            .iter()
                            .map(|s| String::from_utf8_lossy(s))
                            .collect(),
                    ),
                    _ => None,
                })
                .collect()),
            Err(e) if e.is_nx_domain() || e.is_no_records_found() => {
                Err(LookupError::NotFound(name.to_owned()))
            }
            Err(e) => Err(LookupError::Failed {
                name: name.to_owned(),
                message: e.to_string(),
            }),
        }
    }
}
