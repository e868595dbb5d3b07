//! The one component table: every Mailu component mailu-k8s runs, with what each layer needs to
//! know about it per component: its YAML key, whether it reads Mailu's environment and override
//! files, whether it has a Service, its default CPU and memory, its volume's default size, and
//! why it must stay at one replica.
//!
//! [`component_table!`] holds the rows; it hands them to a generator macro. This module expands
//! them into [`Component`] and its accessors, `file.rs` into the per-component config structs
//! (`StorageFile`, `ResourcesFile`, `WorkloadsFile`, whose doc comments become the JSON Schema's
//! descriptions). A new row is a new variant, so every exhaustive `match` over [`Component`] in
//! the layers above stops compiling until it decides about it.

/// Prefix of every object name, so `kubectl get all` groups Mailu's objects.
pub const NAME_PREFIX: &str = "mailu-";

/// The table. Expands to `$generator! { rows }`; rows are in the order objects are written
/// ([`Component::ALL`]). Per row:
///
/// - `$(#[doc])* Variant => key`: the variant, its YAML key under `storage`, `resources` and
///   `workloads` (and its `app.kubernetes.io/component` label);
/// - `mailu`: the image is Mailu's and configures itself from Mailu's environment (`extraEnv`
///   names are checked against Mailu's list, `logLevel` applies);
/// - `overrides`: where in the image the files Mailu reads from `/overrides` go, if it reads any;
/// - `service`: it listens, so it has a Service (metadata under `serviceAnnotations`);
/// - `resources`: the schema's name for it, default requests and limits (cpu, memory), and a
///   note after them;
/// - `volume` (stateful components): the position of its key under `storage` (the schema's and
///   the checker's order, older than this table), its default size, and the description around
///   the size;
/// - `single_replica`: why it cannot run more than one replica, if so.
macro_rules! component_table {
    ($generator:ident) => {
        $generator! {
            /// nginx: the only entry point; terminates mail TLS, proxies to postfix and dovecot.
            Front => front {
                mailu: true,
                overrides: Some("nginx `*.conf`"),
                service: true,
                resources: ("front (nginx)", ["50m", "64Mi"], ["500m", "256Mi"], ""),
                volume: (0, "100Mi", "Front: certbot's account and certificates (`/certs`), only with the `letsencrypt`\nflavors. ", ""),
                single_replica: None,
            }
            /// The admin UI and the auth/lookup API every other component asks.
            Admin => admin {
                mailu: true,
                overrides: None,
                service: true,
                resources: ("admin", ["50m", "256Mi"], ["500m", "512Mi"], ""),
                volume: (1, "1Gi", "Admin: the SQLite database (`/data`) and DKIM private keys (`/dkim`). ", ""),
                single_replica: None,
            }
            /// postfix: SMTP in and out (Mailu calls it `smtp`).
            Postfix => postfix {
                mailu: true,
                overrides: Some("`postfix.cf`, `postfix.master`, `*.map`"),
                service: true,
                resources: ("postfix", ["50m", "64Mi"], ["500m", "256Mi"], ""),
                volume: (2, "2Gi", "Postfix: the mail queue (`/queue`). ", ""),
                single_replica: Some("its mail queue lives on one volume; a second postfix would corrupt it"),
            }
            /// dovecot: mailboxes, IMAP/POP3, LMTP delivery, sieve (Mailu calls it `imap`).
            Dovecot => dovecot {
                mailu: true,
                overrides: Some("`dovecot.conf`"),
                service: true,
                resources: ("dovecot", ["50m", "128Mi"], ["1", "512Mi"], ""),
                volume: (3, "10Gi", "Dovecot: the mailboxes, their indexes and Sieve scripts (`/mail`). ", ""),
                single_replica: Some("dovecot's indexes corrupt when two servers share the mailboxes"),
            }
            /// rspamd: spam filtering as a postfix milter (Mailu calls it `antispam`).
            Rspamd => rspamd {
                mailu: true,
                overrides: Some("`*.conf`"),
                service: true,
                resources: ("rspamd", ["100m", "192Mi"], ["1", "512Mi"], ""),
                volume: (4, "1Gi", "Rspamd: learned spam data (`/var/lib/rspamd`). ", ""),
                single_replica: Some("rspamd keeps learned data on one volume under a fixed host name"),
            }
            /// A bundled Redis for rspamd, rate limits and sessions.
            Redis => redis {
                mailu: false,
                overrides: None,
                service: true,
                resources: ("The bundled Redis", ["25m", "32Mi"], ["250m", "256Mi"], ""),
                volume: (5, "1Gi", "The bundled Redis (`/data`). ", " Ignored with an external `redis`."),
                single_replica: Some("the bundled Redis is one instance; point `redis` at a replicated Redis instead"),
            }
            /// Roundcube or SnappyMail, behind front at `/webmail`.
            Webmail => webmail {
                mailu: true,
                overrides: Some("Roundcube `*.inc.php`"),
                service: true,
                resources: ("webmail", ["25m", "128Mi"], ["500m", "512Mi"], ""),
                volume: (6, "1Gi", "Webmail: its settings and, without `webmail.roundcubeDatabase`, its SQLite database\n(`/data`). ", ""),
                single_replica: None,
            }
            /// ClamAV, asked by rspamd (Mailu calls it `antivirus`).
            Clamav => clamav {
                mailu: false,
                overrides: None,
                service: true,
                resources: ("clamav", ["100m", "1Gi"], ["1", "3Gi"], " (a signature reload briefly doubles\nclamd's memory)"),
                volume: (9, "2Gi", "ClamAV: virus signatures (`/var/lib/clamav`), one volume per replica, re-downloadable.\n", ""),
                single_replica: None,
            }
            /// Fetches mail from users' external accounts.
            Fetchmail => fetchmail {
                mailu: true,
                overrides: None,
                service: false,
                resources: ("fetchmail", ["10m", "32Mi"], ["200m", "128Mi"], ""),
                volume: (8, "100Mi", "Fetchmail: which messages were already fetched (`/data`). ", ""),
                single_replica: Some("two would fetch and deliver the same messages twice"),
            }
            /// Radicale CalDAV/CardDAV, behind front at `/webdav`.
            Webdav => webdav {
                mailu: false,
                overrides: None,
                service: true,
                resources: ("webdav (Radicale)", ["10m", "32Mi"], ["200m", "256Mi"], ""),
                volume: (7, "1Gi", "Radicale: calendars and address books (`/data`). ", ""),
                single_replica: Some("Radicale's storage takes one writer"),
            }
            /// Office-macro scanner asked by rspamd.
            Oletools => oletools {
                mailu: false,
                overrides: None,
                service: true,
                resources: ("oletools", ["10m", "64Mi"], ["500m", "256Mi"], ""),
                single_replica: None,
            }
            /// Apache Tika: attachment text for dovecot's full-text search.
            Tika => tika {
                mailu: false,
                overrides: None,
                service: true,
                resources: ("tika", ["100m", "640Mi"], ["1", "1536Mi"], ""),
                single_replica: None,
            }
            /// unbound: the DNSSEC-validating resolver every Mailu pod uses.
            Resolver => resolver {
                mailu: false,
                overrides: None,
                service: true,
                resources: ("resolver (unbound)", ["25m", "32Mi"], ["250m", "256Mi"], ""),
                single_replica: None,
            }
        }
    };
}
pub(crate) use component_table;

/// Generates [`Component`] and its per-component facts from the table's rows.
macro_rules! component_enum {
    ($(
        $(#[$doc:meta])*
        $variant:ident => $key:ident {
            mailu: $mailu:literal,
            overrides: $overrides:expr,
            service: $service:literal,
            resources: ($label:literal, [$req_cpu:literal, $req_mem:literal], [$lim_cpu:literal, $lim_mem:literal], $note:literal),
            $(volume: ($rank:literal, $size:literal, $before:literal, $after:literal),)?
            single_replica: $single:expr,
        }
    )*) => {
        /// A Mailu component that mailu-k8s runs as a workload: one row of the component table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Component {
            $($(#[$doc])* $variant,)*
        }

        impl Component {
            /// Every component, in the order objects are written.
            pub const ALL: [Component; [$(Component::$variant),*].len()] =
                [$(Component::$variant),*];

            /// The short name used in config keys and the `app.kubernetes.io/component` label.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Component::$variant => stringify!($key),)*
                }
            }

            /// Whether the container is a Mailu image that configures itself from Mailu's
            /// environment (the shared ConfigMap) and derives its keys from `SECRET_KEY`. Redis,
            /// ClamAV and Tika are upstream images; oletools and Radicale read neither; the
            /// resolver runs with our own unbound configuration.
            pub const fn is_mailu(self) -> bool {
                match self {
                    $(Component::$variant => $mailu,)*
                }
            }

            /// The files Mailu reads from `/overrides` in this image, if it reads any.
            pub const fn overrides(self) -> Option<&'static str> {
                match self {
                    $(Component::$variant => $overrides,)*
                }
            }

            /// Whether it listens, and so has a Service.
            pub const fn has_service(self) -> bool {
                match self {
                    $(Component::$variant => $service,)*
                }
            }

            /// Default requests and limits: `[[cpu, memory], [cpu, memory]]`. They fit a small
            /// install on a 2-CPU node: the core and the bundled Redis request 325m CPU and
            /// 736Mi in all.
            pub const fn default_resources(self) -> [[&'static str; 2]; 2] {
                match self {
                    $(Component::$variant => [[$req_cpu, $req_mem], [$lim_cpu, $lim_mem]],)*
                }
            }

            /// The default size of its volume; `None` for a component that keeps no state.
            pub const fn default_volume_size(self) -> Option<&'static str> {
                #[allow(unreachable_patterns)]
                match self {
                    $($(Component::$variant => Some($size),)?)*
                    _ => None,
                }
            }

            /// The position of its key under `storage` (the schema's and the checker's order);
            /// `None` for a component that keeps no state.
            pub const fn storage_rank(self) -> Option<u8> {
                #[allow(unreachable_patterns)]
                match self {
                    $($(Component::$variant => Some($rank),)?)*
                    _ => None,
                }
            }

            /// Why it cannot run more than one replica; `None` when it can.
            pub const fn single_replica_reason(self) -> Option<&'static str> {
                match self {
                    $(Component::$variant => $single,)*
                }
            }
        }
    };
}

component_table!(component_enum);

impl Component {
    /// The Kubernetes object name of its Deployment and Service.
    pub fn object_name(self) -> String {
        format!("{NAME_PREFIX}{}", self.name())
    }

    /// Whether the pod keeps one host name across restarts: rspamd keys its history on it.
    pub fn needs_stable_hostname(self) -> bool {
        self == Component::Rspamd
    }

    /// Whether the pod resolves names through Mailu's resolver (when it runs): every Mailu image,
    /// Radicale and oletools.
    pub fn uses_mailu_resolver(self) -> bool {
        match self {
            Component::Front
            | Component::Admin
            | Component::Postfix
            | Component::Dovecot
            | Component::Rspamd
            | Component::Webmail
            | Component::Fetchmail
            | Component::Webdav
            | Component::Oletools => true,
            Component::Redis | Component::Clamav | Component::Tika | Component::Resolver => false,
        }
    }

    /// The components that keep state, in the order of their keys under `storage`.
    pub fn stateful() -> Vec<Component> {
        let mut stateful: Vec<Component> = Component::ALL
            .into_iter()
            .filter(|c| c.storage_rank().is_some())
            .collect();
        stateful.sort_by_key(|c| c.storage_rank());
        stateful
    }

    /// The component whose YAML key is `key`.
    pub fn from_name(key: &str) -> Option<Component> {
        Component::ALL.into_iter().find(|c| c.name() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_stable_keys() {
        for c in Component::ALL {
            assert_eq!(Component::from_name(c.name()), Some(c));
            assert!(c.name().bytes().all(|b| b.is_ascii_lowercase()), "{c:?}");
        }
    }

    /// The storage ranks are the positions 0.. of the stateful components, each once.
    #[test]
    fn storage_ranks_are_positions() {
        let ranks: Vec<Option<u8>> = Component::stateful()
            .iter()
            .map(|c| c.storage_rank())
            .collect();
        let expected: Vec<Option<u8>> = (0..).take(ranks.len()).map(Some).collect();
        assert_eq!(ranks, expected);
    }

    /// The core and the bundled Redis request what `default_resources` says: 325m CPU and
    /// 736Mi in all.
    #[test]
    fn default_requests_fit_a_small_node() {
        use Component::*;
        let quantity = |s: &str| crate::Quantity::parse(s).expect("quantity").value();
        let (cpu, memory) = [Front, Admin, Postfix, Dovecot, Rspamd, Redis]
            .iter()
            .map(|c| c.default_resources()[0])
            .fold((0.0, 0.0), |(cpu, mem), [c, m]| {
                (cpu + quantity(c), mem + quantity(m))
            });
        assert!((cpu - 0.325).abs() < 1e-9, "{cpu}");
        assert!((memory - 736.0 * 1024.0 * 1024.0).abs() < 1.0, "{memory}");
    }

    /// The schema's `storage` keys follow the table's storage order, and the committed schema is
    /// the generated one byte for byte (the schema test compares values, which ignores order).
    #[test]
    fn storage_keys_keep_their_order_in_the_committed_schema() {
        let schema = crate::json_schema();
        let storage = &schema["definitions"]["StorageFile"]["properties"];
        let keys: Vec<&str> = storage
            .as_object()
            .expect("properties")
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = vec!["storageClass"];
        expected.extend(Component::stateful().iter().map(|c| c.name()));
        assert_eq!(keys, expected);
        let text = serde_json::to_string_pretty(&schema).expect("schema") + "\n";
        let committed = include_str!("../../../mailu-k8s.schema.json");
        assert!(
            text == committed,
            "run `cargo run -- schema > mailu-k8s.schema.json`"
        );
    }
}
