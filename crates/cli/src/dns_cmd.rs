//! `mailu-k8s dns plan`, `mailu-k8s dns check` and `mailu-k8s dkim keygen`: argument handling,
//! files and exit codes; the records and checks live in the `mailu-k8s-dns` crate.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Subcommand, ValueEnum};

use mailu_k8s_config::Config;
use mailu_k8s_dns::check::{Check, Options, Scope};
use mailu_k8s_dns::dkim::PublicKey;
use mailu_k8s_dns::finding::{Code, Finding};
use mailu_k8s_dns::plan::{self, DkimKeys, Plan};
use mailu_k8s_dns::write;
use mailu_k8s_topology::Topology;

use crate::io::{
    Access, ConfigArgs, Failure, MessageFormat, Outcome, load, printable, render_text, report,
    stage, writable_target, write_atomically, write_stdout,
};

#[derive(Subcommand, Debug)]
pub enum DnsCommand {
    /// Print every DNS record the installation needs (zone file, JSON or external-dns objects).
    #[command(
        after_help = "Examples:\n  mailu-k8s dns plan mailu.yaml                       # the zone of `domain` on stdout\n  mailu-k8s dns plan mailu.yaml -o zones/             # one <domain>.zone per mail domain\n  mailu-k8s dns plan mailu.yaml --format external-dns -o dnsendpoint.yaml"
    )]
    Plan {
        #[command(flatten)]
        input: ConfigArgs,
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
        /// With `dns.dane`: a PEM file with front's certificate (or a public key, `BEGIN PUBLIC
        /// KEY`) whose key the TLSA record names. Repeat it during a key rollover: the current
        /// and the next key are both published.
        #[arg(long, value_name = "PEM")]
        tls_cert: Vec<PathBuf>,
    },
    /// Query the live DNS and compare it with the plan. Exit 0: all good; 1: problems found
    /// (a server that does not answer, and queries unanswered within `--timeout`, are problems
    /// too); 2: a bad config or bad usage.
    #[command(
        after_help = "Examples:\n  mailu-k8s dns check mailu.yaml\n  mailu-k8s dns check mailu.yaml --authoritative 198.51.100.53 --only spf,dkim,dmarc"
    )]
    Check {
        #[command(flatten)]
        input: ConfigArgs,
        /// Ask this server (`IP` or `IP:PORT`) instead of the system's resolvers.
        #[arg(long, value_name = "IP[:PORT]")]
        nameserver: Option<String>,
        /// Ask this server, authoritative for the mail domains, for every name in them; the
        /// names outside them (reverse DNS, report domains, other domains' includes) go to
        /// `--nameserver` or the system's resolvers. For checking a server before (or right
        /// after) it is published.
        #[arg(long, value_name = "IP[:PORT]")]
        authoritative: Option<String>,
        /// The longest the whole check takes: `30s`, `2m`, `1500ms` (a bare number is seconds).
        /// Queries unanswered by then are findings (MK460); all else is reported as found.
        #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
        timeout: Duration,
        /// Run only these checks (comma-separated): mx, addresses, spf, dkim, dmarc,
        /// report-auth, ptr, mta-sts, tls-rpt, srv, caa, dane (`mta-sts` also
        /// covers fetching the policy over HTTPS; `dane` connects to port 25).
        #[arg(long, value_name = "CHECKS", value_delimiter = ',', value_parser = parse_check, conflicts_with = "skip")]
        only: Vec<Check>,
        /// Leave these checks out (comma-separated, names as for `--only`), e.g.
        /// `--skip ptr,report-auth` against a server holding only your zones.
        #[arg(long, value_name = "CHECKS", value_delimiter = ',', value_parser = parse_check)]
        skip: Vec<Check>,
        /// How findings are printed on standard output (default: as `--message-format`).
        #[arg(long, value_enum)]
        format: Option<MessageFormat>,
        #[command(flatten)]
        tls: TlsArgs,
    },
}

/// The checks that connect to the mail host (the MTA-STS policy over HTTPS, DANE over SMTP).
#[derive(clap::Args, Debug)]
pub struct TlsArgs {
    /// Trust the CA certificates in this PEM file instead of the system's store when verifying
    /// `mta-sts.<domain>` (a private CA, or a test).
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// `HOST:PORT:ADDR:PORT`: connect to `ADDR:PORT` when a check connects to `HOST:PORT` (as
    /// curl's `--connect-to`; an empty `ADDR` keeps the host's own addresses). The certificate
    /// must still be valid for `HOST`. Repeatable.
    #[arg(long, value_name = "HOST:PORT:ADDR:PORT")]
    connect_to: Vec<String>,
    /// Only ask DNS: skip the checks that connect to the mail host.
    #[arg(long)]
    no_connect: bool,
}

/// The parsed `TlsArgs`: `None` with `--no-connect`.
struct Connect(Option<mailu_k8s_dns::tls::TlsOptions>);

impl Connect {
    /// Runs the connecting checks and adds what they find to the DNS check's findings.
    fn run(
        &self,
        config: &Config,
        plan: &Plan,
        server: Option<SocketAddr>,
        scope: &Scope,
        into: &mut mailu_k8s_dns::check::Outcome,
    ) -> Result<(), String> {
        let Some(options) = &self.0 else {
            return Ok(());
        };
        let more = mailu_k8s_dns::connected::run(config, plan, server, options, scope)?;
        into.checked += more.checked;
        into.findings.extend(more.findings);
        Ok(())
    }
}

/// `--tls-cert`'s keys as TLSA records in the plan (with `dns.dane`).
fn add_tls_keys(plan: &mut Plan, config: &Config, files: &[PathBuf]) -> Result<(), Failure> {
    let digests = read_tls_keys(files).map_err(Failure::Io)?;
    mailu_k8s_dns::dane::add_to_plan(plan, config, &digests).map_err(Failure::Invalid)
}

impl TlsArgs {
    fn options(&self) -> Result<Connect, String> {
        if self.no_connect {
            return Ok(Connect(None));
        }
        let connect_to = self
            .connect_to
            .iter()
            .map(|c| c.parse().map_err(|e| format!("--connect-to: {e}")))
            .collect::<Result<_, String>>()?;
        let options = mailu_k8s_dns::tls::TlsOptions {
            ca_file: self.ca_file.clone(),
            connect_to,
            timeout: None,
        };
        // A bad CA file is bad input: refused before any query is sent.
        if options.ca_file.is_some() {
            mailu_k8s_dns::tls::roots(&options)?;
        }
        Ok(Connect(Some(options)))
    }
}

#[derive(Subcommand, Debug)]
pub enum DkimCommand {
    /// Generate DKIM keys for every mail domain: an RSA-2048 key for `dns.dkim.selector`, and
    /// an Ed25519 key when `dns.dkim.ed25519Selector` is set. Writes the private keys as a
    /// Secret manifest (never into the main output) and the public keys where the DNS plan
    /// reads them (`dns.dkim.publicKeys`).
    #[command(
        after_help = "Examples:\n  mailu-k8s dkim keygen mailu.yaml                    # dkim-secret.yaml, mode 0600\n  mailu-k8s dkim keygen mailu.yaml -o - | kubeseal -o yaml > dkim-sealed.yaml"
    )]
    Keygen {
        #[command(flatten)]
        input: ConfigArgs,
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

/// A config and its DNS plan, with the config's warnings (for the caller to report with its
/// own, in one summary).
pub(crate) struct Planned {
    pub(crate) source: String,
    pub(crate) config: Config,
    pub(crate) plan: Plan,
    pub(crate) warnings: Vec<Finding>,
}

/// The config and its DNS plan; a refused plan's errors come with the config's warnings.
pub(crate) fn build_plan(input: &ConfigArgs) -> Result<Planned, (String, Failure)> {
    let config_path = input.primary();
    let (source, loaded) = load(input)?;
    let warnings: Vec<Finding> = (loaded.warnings.into_iter())
        .map(|d| d.map_code(Code::Config))
        .collect();
    let config = loaded.config;
    let keys = read_keys(config_path, &config).map_err(|e| (source.clone(), Failure::Io(e)))?;
    let topology = Topology::from_config(&config);
    match plan::build(&config, &topology, &keys) {
        Ok(plan) => Ok(Planned {
            source,
            config,
            plan,
            warnings,
        }),
        Err(errors) => {
            let all = warnings.into_iter().chain(errors).collect();
            Err((source, Failure::Invalid(all)))
        }
    }
}

pub fn dns(command: DnsCommand, format: MessageFormat) -> Outcome {
    match command {
        DnsCommand::Plan {
            input,
            format: out,
            output,
            zone,
            serial,
            with_txt,
            tls_cert,
        } => {
            let Planned {
                source,
                config: cfg,
                plan,
                warnings: mut findings,
            } = plan_with_keys(&input, &tls_cert, format)?;
            let io = |e: String| (source.clone(), Failure::Io(e));
            let to_dir = output.as_deref().filter(|p| p.is_dir());
            if out == PlanFormat::Zone && to_dir.is_none() && zone.is_none() {
                findings.extend(only_one_zone(&plan));
            }
            report(&source, &findings, format);
            let text = match out {
                PlanFormat::Zone => {
                    if let Some(dir) = to_dir {
                        return write_zone_files(&plan, dir, serial).map_err(io);
                    }
                    let wanted = chosen_zone(&plan, zone.as_deref()).map_err(io)?;
                    write::zone(&plan, &wanted, serial)
                }
                PlanFormat::Json => write::json(&plan),
                PlanFormat::ExternalDns => external_dns_text(&plan, &cfg, with_txt),
            };
            write_output(output.as_deref(), &text).map_err(io)
        }
        DnsCommand::Check {
            input,
            nameserver,
            authoritative,
            timeout,
            only,
            skip,
            format: out,
            tls,
        } => {
            let out = out.unwrap_or(format);
            let Planned {
                source,
                config: cfg,
                plan,
                warnings,
            } = build_plan(&input)?;
            report(&source, &warnings, format);
            let usage = |e: String| (source.clone(), Failure::Io(e));
            let options =
                check_options(nameserver, authoritative, timeout, &only, &skip).map_err(usage)?;
            let tls = tls.options().map_err(usage)?;
            let mut found = mailu_k8s_dns::check::run_with(&plan, &options).map_err(usage)?;
            // The policy host and the TLSA records are names in the mail domains. When the DNS
            // check is incomplete (a server that does not answer, the time limit), connecting
            // would only wait on the same server again, past `--timeout`.
            if found.incomplete.is_none() {
                let server = options.authoritative.or(options.nameserver);
                tls.run(&cfg, &plan, server, &options.scope, &mut found)
                    .map_err(usage)?;
            }
            let zones: Vec<&str> = plan.domains.iter().map(|d| d.domain.as_str()).collect();
            let target = describe_target(&options, &zones);
            print_findings(&target, &found, out).map_err(usage)?;
            if found.findings.iter().any(Finding::is_error) {
                Err((source, Failure::Problems))
            } else {
                Ok(())
            }
        }
    }
}

/// `dns plan`'s plan: with `--tls-cert`'s keys, and its notes after the config's warnings.
fn plan_with_keys(
    input: &ConfigArgs,
    tls_cert: &[PathBuf],
    format: MessageFormat,
) -> Result<Planned, (String, Failure)> {
    let mut planned = build_plan(input)?;
    if let Err(failure) = add_tls_keys(&mut planned.plan, &planned.config, tls_cert) {
        let findings = std::mem::take(&mut planned.warnings);
        return Err((planned.source, with_findings(findings, failure, format)));
    }
    let notes = planned.plan.notes.iter().cloned();
    planned.warnings.extend(notes);
    Ok(planned)
}

/// A failure with the findings met before it: errors join them in one report; otherwise they
/// are reported first.
fn with_findings(findings: Vec<Finding>, failure: Failure, format: MessageFormat) -> Failure {
    match failure {
        Failure::Invalid(errors) => Failure::Invalid(findings.into_iter().chain(errors).collect()),
        other => {
            report("", &findings, format);
            other
        }
    }
}

/// `--format zone -o DIR`: one `<domain>.zone` per mail domain, each written atomically.
fn write_zone_files(plan: &Plan, dir: &Path, serial: u32) -> Result<(), String> {
    for (z, text) in write::zones(plan, serial) {
        write_atomically(&dir.join(format!("{z}.zone")), text.as_bytes())?;
    }
    Ok(())
}

/// `--format external-dns`: the `DNSEndpoint`, after a comment saying why the TXT records are
/// left out (unless `--with-txt`).
fn external_dns_text(plan: &Plan, cfg: &Config, with_txt: bool) -> String {
    let object = write::dns_endpoint(plan, &cfg.namespace, with_txt);
    let mut text = String::new();
    if !with_txt {
        text.push_str("# TXT records are not included (pass --with-txt to include them):\n");
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

/// `-o FILE` (written atomically), or standard output without `-o` or with `-o -`.
fn write_output(output: Option<&Path>, text: &str) -> Result<(), String> {
    match output {
        None => write_stdout(text),
        Some(p) if p == Path::new("-") => write_stdout(text),
        Some(p) => write_atomically(p, text.as_bytes()),
    }
}

/// The check's options from `dns check`'s flags: `--only` when given, else `--skip`.
fn check_options(
    nameserver: Option<String>,
    authoritative: Option<String>,
    timeout: Duration,
    only: &[Check],
    skip: &[Check],
) -> Result<Options, String> {
    let server = |raw: Option<String>| raw.as_deref().map(parse_server).transpose();
    Ok(Options {
        nameserver: server(nameserver)?,
        authoritative: server(authoritative)?,
        timeout,
        scope: if only.is_empty() {
            Scope::skip(skip)
        } else {
            Scope::only(only)
        },
    })
}

/// Whom the check asked, for the report.
fn describe_target(options: &Options, zones: &[&str]) -> String {
    match (options.authoritative, options.nameserver) {
        (None, Some(s)) => format!("DNS at {s}"),
        (None, None) => "DNS (system resolver)".to_owned(),
        (Some(a), Some(s)) => format!(
            "DNS at {a} (authoritative for {}), at {s} for other names",
            zones.join(", ")
        ),
        (Some(a), None) => format!(
            "DNS at {a} (authoritative for {}), the system resolver for other names",
            zones.join(", ")
        ),
    }
}

/// `30s`, `2m`, `1500ms`, or a bare number of seconds; more than 0, at most an hour.
fn parse_timeout(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (number, unit) = match raw.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => raw.split_at(i),
        None => (raw, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{raw}` is not a duration: write `30s`, `2m` or `1500ms`"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("`{raw}`: the unit is `ms`, `s` or `m`")),
    };
    if !(seconds > 0.0 && seconds <= 3600.0) {
        return Err(format!(
            "`{raw}`: the time limit is more than 0 and at most 1h"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

fn parse_check(raw: &str) -> Result<Check, String> {
    Check::parse(raw)
}

/// The SPKI SHA-256 of every certificate and public key in the `--tls-cert` files.
fn read_tls_keys(files: &[PathBuf]) -> Result<Vec<[u8; 32]>, String> {
    let mut out = Vec::new();
    for f in files {
        let pem =
            std::fs::read(f).map_err(|e| format!("cannot read --tls-cert {}: {e}", f.display()))?;
        let found = mailu_k8s_dns::tls::pem_spki_digests(&pem)
            .map_err(|e| format!("--tls-cert {}: {e}", f.display()))?;
        // A chain file: only its first certificate is the server's (RFC 8446 §4.4.2).
        out.push(found[0]);
    }
    Ok(out)
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
fn only_one_zone(plan: &Plan) -> Vec<Finding> {
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
        Finding::warning(
            Code::PlanIncomplete,
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

/// The check's report on standard output: the findings (text escaped for the terminal), then a
/// summary; or one JSON object.
fn print_findings(
    target: &str,
    found: &mailu_k8s_dns::check::Outcome,
    format: MessageFormat,
) -> Result<(), String> {
    let findings = &found.findings;
    let skipped: Vec<&str> = found.skipped.iter().map(|c| c.name()).collect();
    let text = match format {
        MessageFormat::Text => {
            let mut out: String = findings.iter().map(|d| render_text(d, target)).collect();
            let errors = findings.iter().filter(|d| d.is_error()).count();
            out.push_str(&format!(
                "{}: {} checks, {errors} problem(s), {} warning(s)",
                printable(target),
                found.checked,
                findings.len() - errors
            ));
            if !skipped.is_empty() {
                out.push_str(&format!(" (skipped: {})", skipped.join(", ")));
            }
            out.push('\n');
            if let Some(why) = &found.incomplete {
                out.push_str(&format!(
                    "{}: incomplete: {}\n",
                    printable(target),
                    printable(why)
                ));
            }
            out
        }
        MessageFormat::Json => {
            let mut doc = serde_json::json!({
                "source": target,
                "checks": found.checked,
                "findings": findings,
                "skipped": skipped,
                "complete": found.incomplete.is_none(),
            });
            if let Some(why) = &found.incomplete {
                doc["incomplete"] = serde_json::Value::from(why.as_str());
            }
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
            input,
            output,
            force,
        } => {
            let (source, loaded) = load(&input)?;
            report(&source, &loaded.warnings, format);
            let cfg = loaded.config;
            keygen(input.primary(), &cfg, &output, force).map_err(|e| (source, Failure::Io(e)))
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
