//! Per-component Kubernetes details that the topology does not carry yet: images and probes.
//! Ports, volumes and resources come from the topology.

use mailu_k8s_config::Config;
use mailu_k8s_topology::{Component, Port, ports};

use k8s_openapi::api::core::v1::{
    ExecAction, HTTPGetAction, Lifecycle, LifecycleHandler, Probe, TCPSocketAction,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The bundled Redis: Valkey, the BSD-licensed Redis fork, pinned to a minor version.
pub const BUNDLED_REDIS_IMAGE: &str = "docker.io/valkey/valkey";
pub const BUNDLED_REDIS_TAG: &str = "8.1-alpine";
/// The ClamAV image Mailu 2024.06 uses.
pub const CLAMAV_IMAGE: &str = "docker.io/clamav/clamav-debian";
pub const CLAMAV_TAG: &str = "1.4";
/// The Tika image Mailu 2024.06 uses (the `-full` variant has OCR and all parsers).
pub const TIKA_IMAGE: &str = "docker.io/apache/tika";
pub const TIKA_TAG: &str = "2.9.2.1-full";

/// The container image of a component, and the version for its `app.kubernetes.io/version`:
/// the default, with `workloads.<component>.image` applied.
pub fn image(component: Component, config: &Config) -> (String, String) {
    let (default_repository, default_tag) = default_image(component, config);
    let settings = config.workloads.get(component.name());
    let repository = settings
        .and_then(|s| s.image_repository.clone())
        .unwrap_or(default_repository);
    let tag = settings
        .and_then(|s| s.image_tag.clone())
        .unwrap_or(default_tag);
    // A digest pins the bytes; the tag stays for people reading the manifest.
    let digest = settings
        .and_then(|s| s.image_digest.as_deref())
        .map(|d| format!("@{d}"))
        .unwrap_or_default();
    (format!("{repository}:{tag}{digest}"), tag)
}

/// (repository, tag) of a component's default image.
fn default_image(component: Component, config: &Config) -> (String, String) {
    let mailu = |name: &str| {
        (
            format!("{}/{name}", config.images.registry),
            config.images.tag.clone(),
        )
    };
    match component {
        Component::Front => mailu("nginx"),
        Component::Admin => mailu("admin"),
        Component::Postfix => mailu("postfix"),
        Component::Dovecot => mailu("dovecot"),
        Component::Rspamd => mailu("rspamd"),
        Component::Webmail => mailu("webmail"),
        Component::Fetchmail => mailu("fetchmail"),
        Component::Webdav => mailu("radicale"),
        Component::Oletools => mailu("oletools"),
        Component::Resolver => mailu("unbound"),
        Component::Redis => upstream(BUNDLED_REDIS_IMAGE, BUNDLED_REDIS_TAG),
        Component::Clamav => upstream(CLAMAV_IMAGE, CLAMAV_TAG),
        Component::Tika => upstream(TIKA_IMAGE, TIKA_TAG),
    }
}

fn upstream(repository: &str, tag: &str) -> (String, String) {
    (repository.to_owned(), tag.to_owned())
}

/// How a probe checks a component: one of Kubernetes' probe handlers. Ports are container port
/// names, so a probe can only name a port the container declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeHandler {
    Exec {
        command: Vec<String>,
    },
    HttpGet {
        path: &'static str,
        port: &'static str,
    },
    TcpSocket {
        port: &'static str,
    },
}

impl ProbeHandler {
    /// A Kubernetes probe with this handler.
    fn probe(&self, period_seconds: i32, timeout_seconds: i32, failure_threshold: i32) -> Probe {
        let mut probe = Probe {
            period_seconds: Some(period_seconds),
            timeout_seconds: Some(timeout_seconds),
            failure_threshold: Some(failure_threshold),
            ..Probe::default()
        };
        match self {
            ProbeHandler::Exec { command } => {
                probe.exec = Some(ExecAction {
                    command: Some(command.clone()),
                });
            }
            ProbeHandler::HttpGet { path, port } => {
                probe.http_get = Some(HTTPGetAction {
                    path: Some((*path).to_owned()),
                    port: IntOrString::String((*port).to_owned()),
                    ..HTTPGetAction::default()
                });
            }
            ProbeHandler::TcpSocket { port } => {
                probe.tcp_socket = Some(TCPSocketAction {
                    port: IntOrString::String((*port).to_owned()),
                    host: None,
                });
            }
        }
        probe
    }
}

/// The check that tells whether a component serves, or `None` for fetchmail, which listens on
/// nothing (the kubelet restarts it when it exits). Each check fails when the service is down: an
/// exec probe runs its argv directly (a shell only where a pipeline is needed, spelled out with
/// `sh -c`), an HTTP probe needs a 2xx/3xx answer, a TCP probe needs a listening socket.
pub fn health_check(component: Component) -> Option<ProbeHandler> {
    Some(match component {
        // What the image's own health check means (core/nginx/Dockerfile line 32): nginx's
        // /health on a localhost-only port, and front's dovecot (IMAP/POP, submission and all
        // inbound LMTP), which start.py launches detached and nothing restarts. Not Mailu's
        // `kill -0 $(cat master.pid)`: Mailu deletes pid files whenever config.py reruns
        // (socrate system.py line 103, on every certificate change), and a dead dovecot stays a
        // zombie that `kill -0` still finds. A live dovecot master's cmdline starts with its
        // full path (it re-executes itself); a zombie's is empty.
        Component::Front => shell(&format!(
            "curl --silent --fail --max-time 3 --output /dev/null http://127.0.0.1:{}/health \
             && grep -qs '^/usr/sbin/dovecot' /proc/[0-9]*/cmdline",
            ports::FRONT_HEALTH
        )),
        Component::Admin => http_get("/ping", ports::ADMIN_HTTP),
        // A 220 greeting, not just a listening socket (a hung or 421-ing smtpd passes a TCP
        // check); the connect/QUIT pair from localhost is dropped by Mailu's own log filter
        // (core/postfix/start.py line 14).
        Component::Postfix => greeting("SMTP", ports::SMTP),
        // LMTP is how mail reaches the mailboxes: ready means deliverable (a greeting, not just
        // a socket).
        Component::Dovecot => greeting("LMTP", ports::LMTP),
        Component::Rspamd => http_get("/", ports::RSPAMD_CONTROLLER),
        // `valkey-cli ping` exits 0 on an error reply (e.g. LOADING): require PONG.
        Component::Redis => shell(&format!(
            "valkey-cli -h 127.0.0.1 -p {} ping | grep -qx PONG",
            ports::REDIS.number
        )),
        // webmail's nginx answers /ping only from 127.0.0.1/::1 (webmails/nginx-webmail.conf):
        // the kubelet's httpGet would get 403, so ask from inside, as the image's own health
        // check does (webmails/Dockerfile line 97).
        Component::Webmail => exec(&[
            "curl",
            "--silent",
            "--fail",
            "--max-time",
            "3",
            "--output",
            "/dev/null",
            &format!("http://127.0.0.1:{}/ping", ports::WEBMAIL_HTTP.number),
        ]),
        // The ClamAV image's own check: clamd must answer PING with PONG.
        // (clamav-docker 1.4 Dockerfile: copied to /usr/local/bin; the entrypoint keeps the
        // container alive when clamd dies, so this probe is its only watchdog.)
        Component::Clamav => exec(&["/usr/local/bin/clamdcheck.sh"]),
        // Radicale serves its web page without authentication (3.1.9, app/get.py).
        Component::Webdav => http_get("/.web/", ports::RADICALE),
        // olefy answers PING with PONG (Mailu's own health check).
        Component::Oletools => shell(&format!(
            "echo PING | nc -q1 127.0.0.1 {} | grep -q PONG",
            ports::OLETOOLS.number
        )),
        Component::Tika => http_get("/tika", ports::TIKA),
        // unbound answers `localhost` from its built-in zone: no dependency on the internet.
        // `dig` exits 0 on SERVFAIL or REFUSED, so the answer's status is checked.
        Component::Resolver => {
            shell("dig @127.0.0.1 +time=2 +tries=1 localhost A | grep -q 'status: NOERROR'")
        }
        Component::Fetchmail => return None,
    })
}

/// argv run directly, no shell.
fn exec(argv: &[&str]) -> ProbeHandler {
    ProbeHandler::Exec {
        command: argv.iter().map(|a| (*a).to_owned()).collect(),
    }
}

/// A shell only where a pipeline or `&&` is needed; `sh` is in every image used here.
fn shell(script: &str) -> ProbeHandler {
    exec(&["sh", "-c", script])
}

/// Python's smtplib connects to `port` as an `SMTP` or `LMTP` client, reads the greeting and
/// quits.
fn greeting(client: &str, port: Port) -> ProbeHandler {
    let script = format!(
        "import smtplib; smtplib.{client}('127.0.0.1', {}, timeout=3).quit()",
        port.number
    );
    exec(&["python3", "-c", &script])
}

fn http_get(path: &'static str, port: Port) -> ProbeHandler {
    ProbeHandler::HttpGet {
        path,
        port: port.name,
    }
}

/// How long a component may take to start: dovecot and rspamd compile configs and fetch maps on
/// first start (Mailu's own health checks allow them 350 s).
fn startup_budget_seconds(component: Component) -> i32 {
    match component {
        Component::Dovecot | Component::Rspamd => 360,
        Component::Admin => 300,
        Component::Front | Component::Postfix | Component::Webmail | Component::Tika => 180,
        // freshclam downloads the signatures (hundreds of MB) before clamd starts.
        Component::Clamav => 900,
        Component::Redis
        | Component::Webdav
        | Component::Oletools
        | Component::Resolver
        | Component::Fetchmail => 60,
    }
}

const PERIOD: i32 = 10;

/// The startup, readiness and liveness probes of a component, all using its health check.
#[derive(Debug, Clone, PartialEq)]
pub struct Probes {
    pub startup: Probe,
    pub readiness: Probe,
    pub liveness: Probe,
}

/// A component's probes, or `None` when it has no health check.
pub fn probes(component: Component) -> Option<Probes> {
    let check = health_check(component)?;
    Some(Probes {
        startup: check.probe(PERIOD, 5, startup_budget_seconds(component) / PERIOD),
        readiness: check.probe(PERIOD, 5, 3),
        liveness: check.probe(30, 5, 4),
    })
}

/// How front stops (issue 19): its dovecot proxy's mail sessions drain first (bounded), then
/// nginx quits gracefully.
///
/// Front's PID 1 is Mailu's `/start.py` (core/nginx/Dockerfile:36). It starts a dovecot proxy
/// (start.py:21, core/nginx/dovecot/proxy.conf) and then runs nginx as a child until nginx exits
/// (start.py:22-23). Its `system.set_env` (start.py:7) installs a SIGTERM handler that only exits
/// (core/base/libs/socrate/socrate/system.py:74-83). When a PID namespace's init exits, the
/// kernel SIGKILLs every other process in it (pid_namespaces(7)). So the container, with every
/// session its dovecot proxy holds, ends the moment nginx exits or the SIGTERM arrives, even
/// while the hook still runs. A message whose reply was on its way back through front is sent
/// again: by its sender (SMTP), or by postfix when the cut LMTP session's message had been stored
/// by dovecot (the load mode's `front-restart` counted both).
///
/// 1. `sleep` [`ENDPOINT_SECONDS`]: the pod leaves its Services' endpoints as it starts
///    terminating, and kube-proxy needs a moment to stop sending it new connections.
/// 2. Wait while a session is established on one of [`FRONT_DRAINED_PORTS`] (`/proc/net/tcp` and
///    `tcp6`, state `01`; a kernel without IPv6 has no `tcp6`), at most [`DRAIN_SECONDS`]. These
///    are the dovecot proxy's: postfix's LMTP deliveries (main.cf:86
///    `lmtp:inet:FRONT_ADDRESS:2525`) and the submissions. The proxy cannot be drained by a
///    signal: stopping its master (SIGTERM or SIGKILL) ends its lmtp processes and their sessions
///    at once (seen in the behaviour suite's Debian build). postfix closes an idle cached LMTP
///    session after `lmtp_connection_cache_time_limit` (2 s, postconf(5)). IMAP and POP3 sessions
///    are not waited for: a client reconnects and nothing is sent twice.
/// 3. `nginx -s quit` closes nginx's listeners (port 25, HTTP) and lets each session finish;
///    nginx removes its pid file (`pid /var/run/nginx.pid`, core/nginx/conf/nginx.conf:6) as it
///    exits, and the container ends with it.
pub fn front_pre_stop() -> String {
    format!(
        "{}; nginx -s quit; while [ -f /var/run/nginx.pid ]; do sleep 1; done",
        drain(&FRONT_DRAINED_PORTS)
    )
}

/// How dovecot stops (issue 19): its LMTP sessions drain first (bounded), as front's do.
///
/// dovecot's PID 1 is Mailu's `/start.py` (core/dovecot/Dockerfile:23), which runs
/// `dovecot -F` as a child (start.py:38-39) under socrate's exit-on-SIGTERM handler
/// (start.py:10): the SIGTERM ends every lmtp process at once. A delivery whose message dovecot
/// had stored but not yet confirmed is then delivered again by postfix (the load mode's
/// `dovecot-stop` counted one in 240: `451 4.4.0 Proxy failed (connection lost) … in reply to end
/// of DATA`, stored once before and once after). front's proxy opens no new session once the pod
/// has left its Service's endpoints; IMAP sessions are not waited for.
pub fn dovecot_pre_stop() -> String {
    drain(&[ports::LMTP])
}

/// The shell that gives kube-proxy [`ENDPOINT_SECONDS`] to take the terminating pod out of its
/// Services, then waits while a session is established on one of `drained` (`/proc/net/tcp` and
/// `tcp6`, state `01`; a kernel without IPv6 has no `tcp6`), at most [`DRAIN_SECONDS`].
fn drain(drained: &[Port]) -> String {
    let ports = drained
        .iter()
        .map(|p| format!("{:04X}", p.number.get()))
        .collect::<Vec<_>>()
        .join("|");
    format!(
        "sleep {ENDPOINT_SECONDS}; \
         n=0; while [ $n -lt {DRAIN_SECONDS} ] && \
         cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | \
         awk '$4 == \"01\" && $2 ~ /:({ports})$/ {{ f = 1 }} END {{ exit !f }}'; \
         do sleep 1; n=$((n + 1)); done"
    )
}

/// front's ports whose sessions carry mail through its dovecot proxy (proxy.conf:156 LMTP,
/// :162 submission, :169 submissions, :177 the internal submission for webmail and dovecot).
pub const FRONT_DRAINED_PORTS: [Port; 4] = [
    ports::LMTP,
    ports::SUBMISSION,
    ports::SUBMISSIONS,
    ports::SUBMISSION_INTERNAL,
];

/// How long a preStop lets kube-proxy take the terminating pod out of its Services.
pub const ENDPOINT_SECONDS: u32 = 3;

/// The longest a preStop waits for mail sessions: with [`ENDPOINT_SECONDS`] and nginx's own
/// drain, within the pod's default 30 s grace period.
pub const DRAIN_SECONDS: u32 = 20;

/// A component's lifecycle hooks, or `None`.
pub fn lifecycle(component: Component) -> Option<Lifecycle> {
    let pre_stop = match component {
        Component::Front => front_pre_stop(),
        Component::Dovecot => dovecot_pre_stop(),
        _ => return None,
    };
    Some(Lifecycle {
        pre_stop: Some(LifecycleHandler {
            exec: Some(ExecAction {
                command: Some(vec!["sh".to_owned(), "-c".to_owned(), pre_stop]),
            }),
            ..LifecycleHandler::default()
        }),
        ..Lifecycle::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Front drains instead of being killed at the end of the grace period (issue 19): its
    /// preStop quits nginx gracefully and waits for it; no other component has a hook.
    #[test]
    fn front_stops_gracefully() {
        let hook = lifecycle(Component::Front)
            .and_then(|l| l.pre_stop)
            .and_then(|h| h.exec)
            .and_then(|e| e.command)
            .expect("front has a preStop exec hook");
        assert_eq!(hook[..2], ["sh", "-c"]);
        // It waits for the dovecot proxy's mail sessions (LMTP 2525 = 0x09DD, 587 = 0x024B,
        // 465 = 0x01D1, 10025 = 0x2729) before nginx quits: nginx's exit ends the container.
        let drain = hook[2]
            .find("09DD|024B|01D1|2729")
            .expect("drains LMTP and submission");
        let quit = hook[2].find("nginx -s quit;").expect("quits nginx");
        assert!(drain < quit, "{}", hook[2]);
        assert!(
            hook[2].ends_with("while [ -f /var/run/nginx.pid ]; do sleep 1; done"),
            "{}",
            hook[2]
        );
        assert!(
            hook[2].contains("cat /proc/net/tcp /proc/net/tcp6"),
            "{}",
            hook[2]
        );
        // The shell can parse it (a syntax error would make the hook fail and drain nothing).
        let sh = std::process::Command::new("sh")
            .args(["-n", "-c", &hook[2]])
            .status();
        assert!(sh.expect("sh runs").success(), "{}", hook[2]);
        for c in Component::ALL {
            if ![Component::Front, Component::Dovecot].contains(&c) {
                assert!(lifecycle(c).is_none(), "{c:?}");
            }
        }
    }

    /// dovecot drains its LMTP sessions (2525 = 0x09DD) before the SIGTERM ends them (issue 19).
    #[test]
    fn dovecot_drains_lmtp() {
        let hook = lifecycle(Component::Dovecot)
            .and_then(|l| l.pre_stop)
            .and_then(|h| h.exec)
            .and_then(|e| e.command)
            .expect("dovecot has a preStop exec hook");
        assert_eq!(hook[..2], ["sh", "-c"]);
        assert!(hook[2].contains("$2 ~ /:(09DD)$/"), "{}", hook[2]);
        let sh = std::process::Command::new("sh")
            .args(["-n", "-c", &hook[2]])
            .status();
        assert!(sh.expect("sh runs").success(), "{}", hook[2]);
    }

    fn argv(c: Component) -> Vec<String> {
        match health_check(c) {
            Some(ProbeHandler::Exec { command }) => command,
            other => panic!("{c:?}: {other:?}"),
        }
    }

    /// An exec probe runs its argv without a shell: shell syntax must be inside `sh -c`, or
    /// the probe passes `|` to the first program and cannot fail.
    #[test]
    fn shell_syntax_only_inside_sh_c() {
        for c in Component::ALL {
            if let Some(ProbeHandler::Exec { command }) = health_check(c) {
                let interpreted = command.first().is_some_and(|a| a == "sh" || a == "python3")
                    && command.get(1).is_some_and(|a| a == "-c");
                if !interpreted {
                    for arg in &command {
                        assert!(
                            !["|", "&&", "$(", ";"].iter().any(|t| arg.contains(t)),
                            "{c:?}: {arg}"
                        );
                    }
                }
            }
        }
    }

    /// The probes that once could not fail (issue 7): each checks what the image's own health
    /// check checks.
    #[test]
    fn probes_fail_when_the_service_is_down() {
        let front = argv(Component::Front).join(" ");
        assert!(front.contains("http://127.0.0.1:10204/health"), "{front}");
        assert!(front.contains("grep -qs '^/usr/sbin/dovecot' /proc/[0-9]*/cmdline"));
        // postfix and dovecot must greet, not just accept a connection.
        for c in [Component::Postfix, Component::Dovecot] {
            assert!(argv(c)[2].contains("smtplib"), "{c:?}");
        }
        assert!(argv(Component::Redis)[2].contains("grep -qx PONG"));
        // webmail answers /ping only from localhost: an httpGet from the kubelet gets 403.
        assert!(
            argv(Component::Webmail)
                .iter()
                .any(|a| a == "http://127.0.0.1:80/ping")
        );
        assert!(argv(Component::Webmail).iter().any(|a| a == "--fail"));
        // dig exits 0 on SERVFAIL: the status must be checked.
        assert!(argv(Component::Resolver)[2].contains("grep -q 'status: NOERROR'"));
    }
}
