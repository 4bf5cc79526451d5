//! The embedded broker of the single-machine default: tansu with sqlite storage, started and
//! stopped by `billstream up`. Production points `kafka.brokers` at Redpanda instead; nothing
//! else changes.
use anyhow::{bail, Context, Result};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where setup installs tools (tansu, s3s-fs); `BILLSTREAM_TOOLS` overrides.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("BILLSTREAM_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/billstream/tools"))
}

/// A tool from the tools directory, else from PATH.
pub fn find_tool(name: &str) -> Result<PathBuf> {
    let p = tools_dir().join("bin").join(name);
    if p.exists() {
        return Ok(p);
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let c = dir.join(name);
            if c.exists() {
                return Ok(c);
            }
        }
    }
    bail!("{name} not found in {} or PATH; run scripts/setup.sh", tools_dir().join("bin").display())
}

pub struct EmbeddedBroker {
    child: Child,
    pub brokers: String,
}

impl EmbeddedBroker {
    /// Starts tansu on 127.0.0.1:`port` with its data in `data_dir/broker.db`.
    pub fn start(data_dir: &Path, port: u16) -> Result<Self> {
        std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let url = format!("tcp://127.0.0.1:{port}");
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            bail!("port {port} is already in use; stop what listens there or set embedded.broker_port");
        }
        let log = std::fs::File::create(data_dir.join("broker.log"))?;
        // Its own process group: a terminal's Ctrl-C reaches `up`, which stops the workers first
        // (so their output is durable) and the broker last.
        let child = Command::new(find_tool("tansu")?)
            .process_group(0)
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            // tansu resolves the sqlite path against its working directory.
            .args(["--storage-engine", "sqlite://broker.db"])
            .current_dir(data_dir)
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .context("starting tansu")?;
        let mut broker = Self { child, brokers: format!("127.0.0.1:{port}") };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = broker.child.try_wait()? {
                bail!("tansu exited with {status}; see {}", data_dir.join("broker.log").display());
            }
            if start.elapsed() > Duration::from_secs(30) {
                broker.stop();
                bail!("tansu did not listen on {port} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(broker)
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        self.stop();
    }
}
