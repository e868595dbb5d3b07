//! Per-component Kubernetes details that the topology does not carry: images, probes, resources,
//! volume sizes. Ports always come from the topology.

use mailu_k8s_config::{Config, Volume};
use mailu_k8s_topology::{Component, ports};

use crate::k8s::{Probe, ProbeHandler};

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
        Component::Webmail => Some(&s.webmail),
        Component::Webdav => Some(&s.webdav),
        Component::Fetchmail => Some(&s.fetchmail),
        Component::Clamav => Some(&s.clamav),
        Component::Oletools | Component::Tika | Component::Resolver => None,
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
    // A shell only where a pipeline or `&&` is needed; `sh` is in every image used here.
    let shell = |script: &str| exec(&["sh", "-c", script]);
    Some(match component {
        // The image's own health check (core/nginx/Dockerfile line 32): nginx's /health on a
        // localhost-only port, and front's dovecot (IMAP/POP, submission and all inbound LMTP),
        // which nothing restarts when it dies. `curl -f` fails on any error status; `kill -0`
        // fails when the pid file is missing or names no process. Backticks, not `$(…)`, which
        // reads like a Kubernetes variable reference.
        Component::Front => shell(&format!(
            "curl --silent --fail --max-time 3 --output /dev/null http://127.0.0.1:{}/health \
             && kill -0 \"`cat /run/dovecot/master.pid`\"",
            ports::FRONT_HEALTH
        )),
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
        Component::Clamav => exec(&["clamdcheck.sh"]),
        Component::Webdav => ProbeHandler::TcpSocket {
            port: ports::RADICALE.name,
        },
        // olefy answers PING with PONG (Mailu's own health check).
        Component::Oletools => shell(&format!(
            "echo PING | nc -q1 127.0.0.1 {} | grep -q PONG",
            ports::OLETOOLS.number
        )),
        Component::Tika => ProbeHandler::HttpGet {
            path: "/tika",
            port: ports::TIKA.name,
        },
        // unbound answers `localhost` from its built-in zone: no dependency on the internet.
        // `dig` exits 0 on SERVFAIL or REFUSED, so the answer's status is checked.
        Component::Resolver => {
            shell("dig @127.0.0.1 +time=2 +tries=1 localhost A | grep -q 'status: NOERROR'")
        }
        Component::Fetchmail => return None,
    })
}

/// How long a component may take to start: dovecot and rspamd compile configs and fetch maps on
/// first start (Mailu's own health checks allow them 350 s).
fn startup_budget_seconds(component: Component) -> u32 {
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

const PERIOD: u32 = 10;

/// (startup, readiness, liveness) probes of a component, all using its health check.
pub fn probes(component: Component) -> Option<(Probe, Probe, Probe)> {
    let check = health_check(component)?;
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
    Some((startup, readiness, liveness))
}

#[cfg(test)]
mod tests {
    use super::*;

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
                let is_shell = command.first().is_some_and(|a| a == "sh") && command[1] == "-c";
                if !is_shell {
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
        assert!(front.contains("kill -0") && front.contains("/run/dovecot/master.pid"));
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
