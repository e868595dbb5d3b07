//! How each image can be confined, read from its Dockerfile and start scripts (Mailu/Mailu at
//! 2024.06.57, Cisco-Talos/clamav-docker 1.4, apache/tika-docker 2.9.2.1, valkey-container 8.1).
//! The manifests translate this; the README's "Pod security" table says the same per component.
//!
//! What holds for every container: the runtime's default seccomp profile; no `NET_RAW` (nothing
//! here sends raw packets); no privilege escalation — Mailu's images start as root and only
//! *drop* privileges (socrate's `drop_privs_to`, nginx/dovecot/postfix/rspamd/unbound's own
//! users), and no non-root process in them runs a setuid or setgid program, so
//! `no_new_privs` takes nothing they use.

use crate::Component;

/// The confinement an image allows beyond the common settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hardening {
    /// The fixed non-root user (uid = gid) the image's `USER` names; the pod then runs with
    /// `runAsNonRoot`, that user, and no capabilities at all. `None`: the image starts as root
    /// and drops privileges itself, so it keeps the runtime's default capabilities (it needs
    /// `CHOWN`, `SETUID`, `SETGID`, `NET_BIND_SERVICE` and others) minus `NET_RAW`.
    pub non_root_user: Option<i64>,
    /// The image writes nothing outside its volumes and `/tmp`.
    pub read_only_root: bool,
    /// An `emptyDir` at `/tmp`, for a read-only root whose program writes temporary files.
    pub writable_tmp: bool,
    /// Why, for the README and the reader of the generated objects.
    pub why: &'static str,
}

/// Each component's confinement; an exhaustive `match`, so a new component must decide.
pub trait Confinement {
    fn hardening(self) -> Hardening;
}

impl Confinement for Component {
    fn hardening(self) -> Hardening {
        let root_writes = |why| Hardening {
            non_root_user: None,
            read_only_root: false,
            writable_tmp: false,
            why,
        };
        match self {
            Component::Front => root_writes(
                "renders /etc/nginx and /etc/dovecot at start (config.py); nginx and dovecot drop to their users",
            ),
            Component::Admin => root_writes(
                "chowns /data and /dkim, then drops to `mailu` (start.py); Flask and gunicorn write temporary files",
            ),
            Component::Postfix => root_writes(
                "renders /etc/postfix and runs postmap there (start.py); the master must start as root",
            ),
            Component::Dovecot => root_writes(
                "renders /etc/dovecot and /conf/bin (start.py); the master must start as root",
            ),
            Component::Rspamd => {
                root_writes("renders /etc/rspamd/local.d (start.py), then runs as `rspamd`")
            }
            Component::Webmail => root_writes(
                "renders PHP, nginx and Roundcube configuration into the image (start.py); php-fpm drops to `mailu`",
            ),
            Component::Resolver => root_writes(
                "unbound rewrites its trust anchor in /etc/unbound, then runs as `unbound`",
            ),
            Component::Clamav => root_writes(
                "the entrypoint writes /run, /var/lock and /etc/clamav; clamd and freshclam run as `clamav`",
            ),
            Component::Fetchmail => Hardening {
                non_root_user: None,
                read_only_root: true,
                writable_tmp: true,
                why: "drops to `fetchmail` (fetchmail.py); writes only /data, its rc file in /tmp and its pid in /dev/shm",
            },
            Component::Webdav => Hardening {
                non_root_user: None,
                read_only_root: true,
                writable_tmp: true,
                why: "Radicale writes only /data; it runs as root (the image has no other user)",
            },
            Component::Redis => Hardening {
                non_root_user: None,
                read_only_root: true,
                writable_tmp: false,
                why: "the entrypoint chowns /data, then drops to `valkey` with setpriv; writes only /data",
            },
            // core/oletools/Dockerfile: `USER nobody:nobody` (Alpine's 65534); temporary files in
            // /dev/shm (OLEFY_TMPDIR).
            Component::Oletools => Hardening {
                non_root_user: Some(65534),
                read_only_root: true,
                writable_tmp: false,
                why: "runs as `nobody` (its Dockerfile's USER); scratch files in /dev/shm",
            },
            // tika-docker full/Dockerfile: `USER $UID_GID` = 35002.
            Component::Tika => Hardening {
                non_root_user: Some(35002),
                read_only_root: true,
                writable_tmp: true,
                why: "runs as uid 35002 (its Dockerfile's USER); the JVM writes /tmp",
            },
        }
    }
}
