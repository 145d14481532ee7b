//! A real authoritative DNS server on loopback (hickory-server over UDP and TCP), serving
//! one zone whose TXT records a test changes while it runs.

use hickory_server::Server;
use hickory_server::net::runtime::TokioRuntimeProvider;
use hickory_server::proto::rr::rdata::{SOA, TXT};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType, RrKey};
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

type Zone = InMemoryZoneHandler<TokioRuntimeProvider>;

pub struct TestDns {
    pub addr: SocketAddr,
    zone: Arc<Zone>,
    _server: Option<Server<Catalog>>,
}

static SHARED: std::sync::OnceLock<TestDns> = std::sync::OnceLock::new();

impl TestDns {
    /// One server for the whole test process, serving `example.test`. Apps that share a
    /// database also share job workers, and any worker may run any app's verification job,
    /// so they must all ask the same server. It runs on its own thread and runtime, which
    /// outlive every test's runtime.
    pub fn shared() -> anyhow::Result<&'static TestDns> {
        if let Some(dns) = SHARED.get() {
            return Ok(dns);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("test-dns".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = tx.send(Err(anyhow::Error::from(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match TestDns::start("example.test").await {
                        Ok(mut dns) => {
                            let server = dns._server.take();
                            let _ = tx.send(Ok(dns));
                            // Serve for as long as the process lives.
                            let _server = server;
                            std::future::pending::<()>().await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })?;
        let dns = rx.recv()??;
        Ok(SHARED.get_or_init(|| dns))
    }

    /// Serves `origin` (e.g. `example.test`) on 127.0.0.1, a free port.
    pub async fn start(origin: &str) -> anyhow::Result<Self> {
        let origin = Name::from_ascii(format!("{}.", origin.trim_end_matches('.')))?;
        let zone = Arc::new(Zone::empty(
            origin.clone(),
            ZoneType::Primary,
            AxfrPolicy::Deny,
        ));
        // Negative answers carry this SOA; minimum 0 keeps them uncached.
        let soa = SOA::new(
            Name::from_ascii("ns.test.")?,
            Name::from_ascii("admin.test.")?,
            1,
            3600,
            600,
            86400,
            0,
        );
        zone.upsert(Record::from_rdata(origin.clone(), 0, RData::SOA(soa)), 1)
            .await;
        let mut catalog = Catalog::new();
        catalog.upsert(
            LowerName::new(&origin),
            vec![zone.clone() as Arc<dyn ZoneHandler>],
        );
        let (udp, tcp) = Self::bind_pair().await?;
        let addr = udp.local_addr()?;
        let mut server = Server::new(catalog);
        server.register_socket(udp);
        server.register_listener(tcp, Duration::from_secs(5), 16);
        Ok(Self {
            addr,
            zone,
            _server: Some(server),
        })
    }

    /// A UDP socket and a TCP listener on one free loopback port. The port the system picks
    /// for UDP may be taken for TCP by another process (tests run side by side): then try
    /// another one.
    async fn bind_pair() -> std::io::Result<(tokio::net::UdpSocket, tokio::net::TcpListener)> {
        let mut attempt = 0;
        loop {
            let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
            match tokio::net::TcpListener::bind(udp.local_addr()?).await {
                Ok(tcp) => return Ok((udp, tcp)),
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && attempt < 20 => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Replaces the TXT records at `name` (a name inside the zone, without trailing dot).
    pub async fn set_txt(&self, name: &str, values: &[&str]) -> anyhow::Result<()> {
        let name = Name::from_ascii(format!("{}.", name.trim_end_matches('.')))?;
        self.zone
            .records_mut()
            .await
            .remove(&RrKey::new(LowerName::new(&name), RecordType::TXT));
        for value in values {
            let record = Record::from_rdata(
                name.clone(),
                0,
                RData::TXT(TXT::new(vec![(*value).to_owned()])),
            );
            self.zone.upsert(record, 1).await;
        }
        Ok(())
    }
}
