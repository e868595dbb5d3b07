//! `mailu-k8s dns plan`, `mailu-k8s dns check` and `mailu-k8s dkim keygen`: argument handling,
//! files and exit codes; the records and checks live in the `mailu-k8s-dns` crate.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use mailu_k8s_config::{Config, Diagnostic};
use mailu_k8s_dns::dkim::PublicKey;
use mailu_k8s_dns::plan::{self, DkimKeys, Plan};
use mailu_k8s_dns::write;
use mailu_k8s_topology::Topology;

use crate::app::{
    Access, Failure, MessageFormat, Outcome, load, report, stage, writable_target,
    write_atomically, write_stdout,
};

#[derive(Subcommand, Debug)]
pub enum DnsCommand {
    /// Print every DNS record the installation needs (zone file, JSON or external-dns objects).
    Plan {
        /// The config file (`-` for standard input).
        #[arg(default_value = "mailu.yaml")]
        config: PathBuf,
        /// `zone`: a BIND zone file per mail domain (SOA and NS included, so a server loads it);
        /// `json`: every record, the PTR instructions and the notes, for tools; `external-dns`:
        /// a `DNSEndpoint` (A, AAAA, MX, SRV, CNAME; TXT only with `--with-txt`).
        #[arg(long, value_enum, default_value_t = PlanFormat::Zone)]
        format: PlanFormat,
        /// Where to write: a file or `-` (standard output, the default). With `--format zone`
        /// a directory gets one `<domain>.zone` per mail domain.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// With `--format zone` to a file or standard output: which mail domain's zone (default:
        /// `domain`, with a warning naming the others: a zone file holds one zone).
        #[arg(long)]
        zone: Option<String>,
        /// The SOA serial of `--format zone`.
        #[arg(long, default_value_t = 1)]
        serial: u32,
        /// With `--format external-dns`: include the TXT records (SPF, DKIM, DMARC, MTA-STS,
        /// TLS-RPT). Off by default: see the README on external-dns and TXT records.
        #[arg(long)]
        with_txt: bool,
    },
    /// Query the live DNS and compare it with the plan. Exit 0: all good; 1: problems found.
    Check {
        /// The config file (`-` for standard input).
        #[arg(default_value = "mailu.yaml")]
        config: PathBuf,
        /// Ask this server (`IP` or `IP:PORT`) instead of the system's resolvers.
        #[arg(long)]
        nameserver: Option<String>,
        /// How findings are printed (standard output).
        #[arg(long, value_enum, default_value_t = MessageFormat::Text)]
        format: MessageFormat,
    },
}

#[derive(Subcommand, Debug)]
pub enum DkimCommand {
    /// Generate DKIM keys for every mail domain: an RSA-2048 key for `dns.dkim.selector`, and
    /// an Ed25519 key when `dns.dkim.ed25519Selector` is set. Writes the private keys as a
    /// Secret manifest (never into the main output) and the public keys where the DNS plan
    /// reads them (`dns.dkim.publicKeys`).
    Keygen {
        /// The config file.
        #[arg(default_value = "mailu.yaml")]
        config: PathBuf,
        /// Where to write the Secret manifest (mode 0600), or `-` for standard output (to pipe
        /// it into `kubectl apply -f -`, `kubeseal` or `sops`).
        #[arg(short, long, default_value = "dkim-secret.yaml")]
        output: PathBuf,
        /// Replace existing keys (the published DNS records must then change too).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Zone,
    Json,
    ExternalDns,
}

/// The public keys' directory: `dns.dkim.publicKeys`, relative to the config file.
fn key_dir(config_path: &Path, config: &Config) -> PathBuf {
    let base = if config_path == Path::new("-") {
        PathBuf::from(".")
    } else {
        config_path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    };
    base.join(&config.dns.dkim.public_keys)
}

fn key_file(dir: &Path, domain: &str, selector: &str) -> PathBuf {
    dir.join(format!("{domain}.{selector}.pub"))
}

/// Reads the public keys that exist; a key file that cannot be read or parsed is an error.
fn read_keys(config_path: &Path, config: &Config) -> Result<DkimKeys, String> {
    let dir = key_dir(config_path, config);
    let mut keys = DkimKeys::new();
    for domain in &config.dns.domains {
        for (selector, key_type) in config.dns.dkim.selectors() {
            let path = key_file(&dir, domain.as_str(), selector);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
            };
            let key = PublicKey::parse(&text, key_type)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            keys.insert((domain.as_str().to_owned(), selector.to_owned()), key);
        }
    }
    Ok(keys)
}

fn build_plan(
    config_path: &Path,
    format: MessageFormat,
) -> Result<(String, Config, Plan), (String, Failure)> {
    let (source, loaded) = load(config_path)?;
    report(&source, &loaded.warnings, format);
    let config = loaded.config;
    let keys = read_keys(config_path, &config).map_err(|e| (source.clone(), Failure::Io(e)))?;
    let topology = Topology::from_config(&config);
    let plan = plan::build(&config, &topology, &keys)
        .map_err(|errors| (source.clone(), Failure::Invalid(errors)))?;
    Ok((source, config, plan))
}

pub fn dns(command: DnsCommand, format: MessageFormat) -> Outcome {
    match command {
        DnsCommand::Plan {
            config,
            format: out,
            output,
            zone,
            serial,
            with_txt,
        } => {
            let (source, cfg, plan) = build_plan(&config, format)?;
            report(&source, &plan.notes, format);
            let io = |e: String| (source.clone(), Failure::Io(e));
            let text = match out {
                PlanFormat::Zone => {
                    if let Some(dir) = output.as_deref().filter(|p| p.is_dir()) {
                        for (z, text) in write::zones(&plan, serial) {
                            write_atomically(&dir.join(format!("{z}.zone")), text.as_bytes())
                                .map_err(io)?;
                        }
                        return Ok(());
                    }
                    if zone.is_none() {
                        report(&source, &only_one_zone(&plan), format);
                    }
                    let wanted = chosen_zone(&plan, zone.as_deref()).map_err(io)?;
                    write::zone(&plan, &wanted, serial)
                }
                PlanFormat::Json => write::json(&plan),
                PlanFormat::ExternalDns => {
                    let object = write::dns_endpoint(&plan, &cfg.namespace, with_txt);
                    let mut text = String::new();
                    if !with_txt {
                        text.push_str(
                            "# TXT records are not included (pass --with-txt to include them):\n",
                        );
                        for line in textwrap(write::EXTERNAL_DNS_TXT_NOTE, 96) {
                            text.push_str(&format!("# {line}\n"));
                        }
                    }
                    text.push_str(&mailu_k8s_manifests::yaml_documents_with_header(
                        write::EXTERNAL_DNS_HEADER,
                        &[object],
                    ));
                    text
                }
            };
            match output.as_deref() {
                None => write_stdout(&text).map_err(io),
                Some(p) if p == Path::new("-") => write_stdout(&text).map_err(io),
                Some(p) => write_atomically(p, text.as_bytes()).map_err(io),
            }
        }
        DnsCommand::Check {
            config,
            nameserver,
            format: out,
        } => {
            let (source, cfg, plan) = build_plan(&config, format)?;
            let server = match nameserver.as_deref() {
                None => None,
                Some(raw) => Some(parse_server(raw).map_err(|e| (source.clone(), Failure::Io(e)))?),
            };
            let findings = mailu_k8s_dns::check::run(&cfg, &plan, server)
                .map_err(|e| (source.clone(), Failure::Io(e)))?;
            let target = match server {
                Some(s) => format!("DNS at {s}"),
                None => "DNS (system resolver)".to_owned(),
            };
            print_findings(&target, &findings.findings, findings.checked, out)
                .map_err(|e| (source.clone(), Failure::Io(e)))?;
            if findings.findings.iter().any(Diagnostic::is_error) {
                Err((source, Failure::Problems))
            } else {
                Ok(())
            }
        }
    }
}

/// The zone `--zone` names (the primary domain's without it), which must be a mail domain.
fn chosen_zone(plan: &Plan, zone: Option<&str>) -> Result<String, String> {
    let wanted = match zone {
        Some(z) => z.trim_end_matches('.').to_ascii_lowercase(),
        None => plan
            .domains
            .first()
            .map(|d| d.domain.clone())
            .unwrap_or_default(),
    };
    if plan.zone_of(&wanted) == Some(wanted.as_str()) {
        return Ok(wanted);
    }
    let zones: Vec<&str> = plan.domains.iter().map(|d| d.domain.as_str()).collect();
    Err(format!(
        "`{wanted}` is not a mail domain of this config (they are: {})",
        zones.join(", ")
    ))
}

/// A zone file holds one zone, so a file or standard output gets the primary domain's unless
/// `--zone` picks another: said as a warning when the config has more, so nobody publishes one
/// zone believing it is the whole plan.
fn only_one_zone(plan: &Plan) -> Vec<Diagnostic> {
    let [first, rest @ ..] = plan.domains.as_slice() else {
        return Vec::new();
    };
    if rest.is_empty() {
        return Vec::new();
    }
    let others: Vec<&str> = rest.iter().take(5).map(|d| d.domain.as_str()).collect();
    let more = rest.len().saturating_sub(others.len());
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    vec![
        Diagnostic::warning(
            mailu_k8s_config::Code::PlanIncomplete,
            "dns.domains",
            format!(
                "printed the zone of {} only; {} other mail domain(s) have zones of their own: {}{tail}",
                first.domain,
                rest.len(),
                others.join(", ")
            ),
        )
        .with_hint("`-o DIR` writes every zone as `<domain>.zone`; `--zone DOMAIN` prints one"),
    ]
}

/// `IP` or `IP:PORT` (`[v6]:PORT`); port 53 by default.
fn parse_server(raw: &str) -> Result<SocketAddr, String> {
    if let Ok(ip) = raw.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    raw.parse::<SocketAddr>().map_err(|_| {
        format!("`{raw}` is not a name server address: write `IP` or `IP:PORT` (`[::1]:5353`)")
    })
}

fn print_findings(
    target: &str,
    findings: &[Diagnostic],
    checked: usize,
    format: MessageFormat,
) -> Result<(), String> {
    let text = match format {
        MessageFormat::Text => {
            let mut out: String = findings.iter().map(|d| d.render(target)).collect();
            let errors = findings.iter().filter(|d| d.is_error()).count();
            out.push_str(&format!(
                "{target}: {checked} checks, {errors} problem(s), {} warning(s)\n",
                findings.len() - errors
            ));
            out
        }
        MessageFormat::Json => {
            let doc =
                serde_json::json!({ "source": target, "checks": checked, "findings": findings });
            serde_json::to_string(&doc).unwrap_or_default() + "\n"
        }
    };
    write_stdout(&text)
}

/// Splits text into lines of at most `width` characters at spaces.
fn textwrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

pub fn dkim(command: DkimCommand, format: MessageFormat) -> Outcome {
    match command {
        DkimCommand::Keygen {
            config,
            output,
            force,
        } => {
            let (source, loaded) = load(&config)?;
            report(&source, &loaded.warnings, format);
            let cfg = loaded.config;
            keygen(&config, &cfg, &output, force).map_err(|e| (source, Failure::Io(e)))
        }
    }
}

/// Generates the keys and writes both halves or neither: every target is checked before a key
/// is made, every file is written completely beside its target (the Secret only its owner may
/// read, whatever the file it replaces allowed) and only then renamed into place; with `-o -`
/// the Secret goes to standard output before the public keys are renamed, and a failure
/// there (a closed pipe: the keys would be lost) leaves the public keys as they were.
fn keygen(config_path: &Path, cfg: &Config, output: &Path, force: bool) -> Result<(), String> {
    let to_stdout = output == Path::new("-");
    let dir = key_dir(config_path, cfg);
    let public: Vec<PathBuf> = cfg
        .dns
        .domains
        .iter()
        .flat_map(|d| {
            cfg.dns
                .dkim
                .selectors()
                .map(|(s, _)| key_file(&dir, d.as_str(), s))
                .collect::<Vec<_>>()
        })
        .collect();
    let targets: Vec<&Path> = public
        .iter()
        .map(PathBuf::as_path)
        .chain((!to_stdout).then_some(output))
        .collect();
    check_key_targets(&targets, force)?;
    let generated = mailu_k8s_dns::keygen::generate(cfg)?;
    let (secret_name, manifest) = secret_manifest(cfg, &generated);
    let mut staged = Vec::new();
    for (k, path) in generated.iter().zip(&public) {
        staged.push(stage(path, k.public_pem.as_bytes(), Access::Shared)?);
    }
    if to_stdout {
        // Not `write_stdout`: a closed pipe is a failure here, the private keys would be lost.
        let mut out = std::io::stdout().lock();
        std::io::Write::write_all(&mut out, manifest.as_bytes())
            .and_then(|()| std::io::Write::flush(&mut out))
            .map_err(|e| {
                format!(
                    "cannot write the Secret to standard output: {e} (no public key was changed)"
                )
            })?;
    } else {
        staged.push(stage(output, manifest.as_bytes(), Access::Owner)?);
    }
    for file in staged {
        file.commit()?;
    }
    let secret_at = if to_stdout {
        "the Secret to standard output (private keys: pipe it to kubectl, kubeseal or sops)"
            .to_owned()
    } else {
        format!(
            "{} (private keys: apply it with kubectl, keep it out of git)",
            output.display()
        )
    };
    let hint = match cfg.dns.dkim.secret_name {
        None => format!(" and set `dns.dkim.secretName: {secret_name}` so admin uses them"),
        Some(_) => String::new(),
    };
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        format!(
            "wrote {secret_at} and {} public key(s) in {}; publish them with `mailu-k8s dns plan`{hint}\n",
            generated.len(),
            dir.display()
        )
        .as_bytes(),
    );
    Ok(())
}

/// The Secret of the private keys (its name, and the YAML under its own header).
fn secret_manifest(
    cfg: &Config,
    generated: &[mailu_k8s_dns::keygen::Generated],
) -> (String, String) {
    let secret_name = cfg
        .dns
        .dkim
        .secret_name
        .clone()
        .unwrap_or_else(|| mailu_k8s_dns::keygen::DEFAULT_SECRET.to_owned());
    let secret = mailu_k8s_manifests::mail_dns::dkim_secret(
        &secret_name,
        &cfg.namespace,
        mailu_k8s_dns::keygen::private_files(generated),
    );
    let manifest = mailu_k8s_manifests::yaml_documents_with_header(
        mailu_k8s_manifests::mail_dns::DKIM_SECRET_HEADER,
        &mailu_k8s_manifests::Manifest {
            objects: vec![secret.into()],
        }
        .values(),
    );
    (secret_name, manifest)
}

/// Before a key is made: nothing at any target without `--force` (`symlink_metadata`, so a
/// dangling symlink counts), and nothing but a regular file with it.
fn check_key_targets(targets: &[&Path], force: bool) -> Result<(), String> {
    if !force
        && let Some(p) = targets
            .iter()
            .find(|p| std::fs::symlink_metadata(p).is_ok())
    {
        return Err(format!(
            "{} exists; pass --force to replace the keys (and then publish the new DNS records)",
            p.display()
        ));
    }
    for p in targets {
        writable_target(p)?;
    }
    Ok(())
}
