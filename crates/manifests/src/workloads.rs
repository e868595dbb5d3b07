//! Per-component Kubernetes details that the topology does not carry: images, probes, resources,
//! volume sizes. Ports always come from the topology.

use mailu_k8s_config::{Compute, Config, Volume};
use mailu_k8s_topology::{Component, ports};

use crate::k8s::{Probe, ProbeHandler};

/// The bundled Redis: Valkey, the BSD-licensed Redis fork, pinned to a minor version.
pub const BUNDLED_REDIS_IMAGE: &str = "docker.io/valkey/valkey";
pub const BUNDLED_REDIS_TAG: &str = "8.1-alpine";

/// The container image of a component, and the version for its `app.kubernetes.io/version`.
pub fn image(component: Component, config: &Config) -> (String, String) {
    let mailu = |name: &str| {
        (
            format!("{}/{name}:{}", config.images.registry, config.images.tag),
            config.images.tag.clone(),
        )
    };
    match component {
        Component::Front => mailu("nginx"),
        Component::Admin => mailu("admin"),
        Component::Postfix => mailu("postfix"),
        Component::Dovecot => mailu("dovecot"),
        Component::Rspamd => mailu("rspamd"),
        Component::Redis => (
            format!("{BUNDLED_REDIS_IMAGE}:{BUNDLED_REDIS_TAG}"),
            BUNDLED_REDIS_TAG.to_owned(),
        ),
    }
}

pub fn resources(component: Component, config: &Config) -> &Compute {
    let r = &config.resources;
    match component {
        Component::Front => &r.front,
        Component::Admin => &r.admin,
        Component::Postfix => &r.postfix,
        Component::Dovecot => &r.dovecot,
        Component::Rspamd => &r.rspamd,
        Component::Redis => &r.redis,
    }
}

/// The volume settings of a component that keeps state.
pub fn volume(component: Component, config: &Config) -> Option<&Volume> {
    let s = &config.storage;
    match component {
        Component::Front => Some(&s.front),
        Component::Admin => Some(&s.admin),
        Component::Postfix => Some(&s.postfix),
        Component::Dovecot => Some(&s.dovecot),
        Component::Rspamd => Some(&s.rspamd),
        Component::Redis => Some(&s.redis),
    }
}

/// The check that tells whether a component serves. Each one fails when the service is down:
/// an exec probe runs its argv directly (no shell), an HTTP probe needs a 2xx/3xx answer, a TCP
/// probe needs a listening socket.
pub fn health_check(component: Component) -> ProbeHandler {
    match component {
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
    }
}

/// How long a component may take to start: dovecot and rspamd compile configs and fetch maps on
/// first start (Mailu's own health checks allow them 350 s).
fn startup_budget_seconds(component: Component) -> u32 {
    match component {
        Component::Dovecot | Component::Rspamd => 360,
        Component::Admin => 300,
        Component::Front | Component::Postfix => 180,
        Component::Redis => 60,
    }
}

const PERIOD: u32 = 10;

/// (startup, readiness, liveness) probes of a component, all using its health check.
pub fn probes(component: Component) -> (Probe, Probe, Probe) {
    let check = health_check(component);
    let startup = Probe {
        handler: check.clone(),
        period_seconds: PERIOD,
        timeout_seconds: 5,
        failure_threshold: startup_budget_seconds(component) / PERIOD,
    };
    let readiness = Probe {
        handler: check.clone(),
        period_seconds: PERIOD,
        timeout_seconds: 5,
        failure_threshold: 3,
    };
    let liveness = Probe {
        handler: check,
        period_seconds: 30,
        timeout_seconds: 5,
        failure_threshold: 4,
    };
    (startup, readiness, liveness)
}
