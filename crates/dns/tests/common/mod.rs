//! An NSD server on 127.0.0.1 for tests: zones written to a temporary directory, a free port,
//! and a process that is killed when the handle is dropped (so it always stops by itself).

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian puts NSD.
const NSD: &str = "/usr/sbin/nsd";
const NSD_CHECKZONE: &str = "/usr/sbin/nsd-checkzone";

/// NSD when installed; otherwise prints a loud notice (or fails when `MAILU_K8S_REQUIRE_NSD` is
/// set, as `scripts/dns-tests` does) and returns `None`.
pub fn nsd_available(test: &str) -> bool {
    if Path::new(NSD).exists() && Path::new(NSD_CHECKZONE).exists() {
        return true;
    }
    if std::env::var_os("MAILU_K8S_REQUIRE_NSD").is_some() {
        panic!("{test}: NSD is required (MAILU_K8S_REQUIRE_NSD) but {NSD} is missing");
    }
    eprintln!(
        "\n*** SKIPPED {test}: NSD is not installed ({NSD}). Run scripts/dns-tests, which installs it. ***\n"
    );
    false
}

/// `nsd-checkzone <origin> <file>`: Ok, or its complaint.
pub fn checkzone(origin: &str, text: &str) -> Result<(), String> {
    let dir = tempdir();
    let file = dir.path.join("zone");
    std::fs::write(&file, text).map_err(|e| e.to_string())?;
    let out = Command::new(NSD_CHECKZONE)
        .arg(origin)
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A temporary directory removed on drop.
pub struct TempDir {
    pub path: PathBuf,
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

pub fn tempdir() -> TempDir {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let path = std::env::temp_dir().join(format!(
        "mailu-k8s-dns-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&path);
    std::fs::create_dir_all(&path).expect("temp dir");
    TempDir { path }
}

/// A port free for both UDP and TCP on 127.0.0.1 (NSD binds both).
fn free_port() -> u16 {
    for _ in 0..50 {
        let Ok(tcp) = TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(addr) = tcp.local_addr() else {
            continue;
        };
        if UdpSocket::bind(addr).is_ok() {
            return addr.port();
        }
    }
    panic!("no free port on 127.0.0.1");
}

/// A running NSD serving `zones` (origin, zone text). Killed on drop.
pub struct Nsd {
    child: Child,
    pub addr: SocketAddr,
    _dir: TempDir,
}

impl Drop for Nsd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Nsd {
    pub fn start(zones: &[(String, String)]) -> Nsd {
        for attempt in 0..3 {
            match Nsd::try_start(zones) {
                Ok(n) => return n,
                Err(e) if attempt < 2 => eprintln!("NSD did not start ({e}); retrying"),
                Err(e) => panic!("NSD did not start: {e}"),
            }
        }
        unreachable!()
    }

    fn try_start(zones: &[(String, String)]) -> Result<Nsd, String> {
        let dir = tempdir();
        let port = free_port();
        let d = dir.path.display();
        // Response rate limiting off: every query comes from 127.0.0.1, and NSD's default limit
        // (200 per second per source network) drops answers under a benchmark's load.
        let mut conf = format!(
            "server:\n  ip-address: 127.0.0.1@{port}\n  port: {port}\n  do-ip6: no\n  zonesdir: \"{d}\"\n  \
             username: \"\"\n  chroot: \"\"\n  pidfile: \"{d}/nsd.pid\"\n  xfrdfile: \"{d}/xfrd.state\"\n  \
             zonelistfile: \"{d}/zone.list\"\n  logfile: \"{d}/nsd.log\"\n  server-count: 1\n  \
             hide-version: yes\n  verbosity: 1\n  rrl-ratelimit: 0\n  rrl-whitelist-ratelimit: 0\nremote-control:\n  control-enable: no\n"
        );
        for (i, (origin, text)) in zones.iter().enumerate() {
            let file = format!("z{i}.zone");
            std::fs::write(dir.path.join(&file), text).map_err(|e| e.to_string())?;
            conf.push_str(&format!(
                "zone:\n  name: \"{origin}\"\n  zonefile: \"{file}\"\n"
            ));
        }
        let conf_path = dir.path.join("nsd.conf");
        std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
        let child = Command::new(NSD)
            .arg("-d")
            .arg("-c")
            .arg(&conf_path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut nsd = Nsd {
            child,
            addr,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = nsd.child.try_wait() {
                let log =
                    std::fs::read_to_string(nsd._dir.path.join("nsd.log")).unwrap_or_default();
                return Err(format!("nsd exited with {status}: {log}"));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok()
                && zones.iter().all(|(origin, _)| answers_soa(addr, origin))
            {
                return Ok(nsd);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("nsd did not open its port within 10s".into())
    }
}

/// Whether the server answers the zone's SOA with NOERROR and an answer (its zone is loaded).
fn answers_soa(addr: SocketAddr, origin: &str) -> bool {
    let Ok(sock) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let _ = sock.set_read_timeout(Some(Duration::from_millis(300)));
    let mut q = vec![0x4d, 0x4b, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in origin.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 6, 0, 1]);
    if sock.send_to(&q, addr).is_err() {
        return false;
    }
    let mut buf = [0u8; 512];
    match sock.recv(&mut buf) {
        Ok(n) if n >= 12 => {
            buf[0..2] == [0x4d, 0x4b] && buf[3] & 0x0f == 0 && (buf[6] != 0 || buf[7] != 0)
        }
        _ => false,
    }
}

/// A SOA + NS header for a zone the plan does not write (reverse zones, helpers).
pub fn zone_header(origin: &str) -> String {
    format!(
        "$ORIGIN {origin}.\n$TTL 300\n@ IN SOA ns1.example.com. hostmaster.example.com. 1 3600 900 1209600 300\n@ IN NS ns1.example.com.\n"
    )
}
