//! Per-component Kubernetes details that the topology does not carry yet: images and probes.
//! Ports, volumes and resources come from the topology.

use mailu_k8s_config::Config;
use mailu_k8s_topology::{Component, ports};

use k8s_openapi::api::core::v1::{ExecAction, HTTPGetAction, Probe, TCPSocketAction};
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
    (format!("{repository}:{tag}"), tag)
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
    let exec = |argv: &[&str]| ProbeHandler::Exec {
        command: argv.iter().map(|a| (*a).to_owned()).collect(),
    };
    Some(match component {
        // front's /health is on a localhost-only port; curl -f fails on any error status.
        Component::Front => ProbeHandler::Exec {
            command: [
                "curl",
                "--silent",
                "--fail",
                "--max-time",
                "3",
                "--output",
                "/dev/null",
            ]
            .map(String::from)
            .into_iter()
            .chain([format!("http://127.0.0.1:{}/health", ports::FRONT_HEALTH)])
            .collect(),
        },
        Component::Admin => ProbeHandler::HttpGet {
            path: "/ping",
            port: ports::ADMIN_HTTP.name,
        },
        Component::Postfix => ProbeHandler::TcpSocket {
            port: ports::SMTP.name,
        },
        // LMTP is how mail reaches the mailboxes: ready means deliverable.
        Component::Dovecot => ProbeHandler::TcpSocket {
            port: ports::LMTP.name,
        },
        Component::Rspamd => ProbeHandler::HttpGet {
            path: "/",
            port: ports::RSPAMD_CONTROLLER.name,
        },
        Component::Redis => ProbeHandler::TcpSocket {
            port: ports::REDIS.name,
        },
        // Mailu's webmail image answers /ping from its nginx once PHP is up.
        Component::Webmail => ProbeHandler::HttpGet {
            path: "/ping",
            port: ports::WEBMAIL_HTTP.name,
        },
        // The ClamAV image's own check: clamd must answer PING with PONG.
        Component::Clamav => exec(&["clamdcheck.sh"]),
        Component::Webdav => ProbeHandler::TcpSocket {
            port: ports::RADICALE.name,
        },
        // olefy answers PING with PONG (Mailu's own health check).
        Component::Oletools => ProbeHandler::Exec {
            command: vec![
                "sh".to_owned(),
                "-c".to_owned(),
                format!(
                    "echo PING | nc -q1 127.0.0.1 {} | grep -q PONG",
                    ports::OLETOOLS.number
                ),
            ],
        },
        Component::Tika => ProbeHandler::HttpGet {
            path: "/tika",
            port: ports::TIKA.name,
        },
        // unbound answers `localhost` from its built-in zone: no dependency on the internet.
        Component::Resolver => {
            exec(&["dig", "@127.0.0.1", "+time=2", "+tries=1", "localhost", "A"])
        }
        Component::Fetchmail => return None,
    })
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
