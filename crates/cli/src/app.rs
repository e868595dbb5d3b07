use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::io::{
    Access, ColorChoice, ConfigArgs, Failure, MessageFormat, Outcome, Style, load, report, stage,
    summarize, write_stdout,
};

/// Turn one validated config file into everything needed to run Mailu on Kubernetes.
///
/// Exit codes: 0 success; 1 a live check found problems; 2 invalid config, bad usage or an I/O
/// error. On exit code 2 no output file is written or changed.
#[derive(Parser, Debug)]
#[command(name = "mailu-k8s", version, about, long_about)]
struct Cli {
    /// How findings are printed (on standard error).
    #[arg(long, value_enum, global = true, default_value_t = MessageFormat::Text)]
    message_format: MessageFormat,

    /// Show errors only: no warnings, and no summary when there is no error.
    #[arg(long, short, global = true)]
    quiet: bool,

    /// Colour findings on standard error: `auto` on a terminal unless `NO_COLOR` is set.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Validate a config and write the Kubernetes manifests.
    #[command(
        after_help = "Examples:\n  mailu-k8s synth mailu.yaml                  # writes dist/mailu.k8s.yaml\n  mailu-k8s synth mailu.yaml -o - | kubectl apply -f -\n  mailu-k8s synth mailu.yaml --split deploy/mailu && kubectl apply -k deploy/mailu"
    )]
    Synth {
        #[command(flatten)]
        input: ConfigArgs,
        /// Where to write: a file, an existing directory (or a path ending in `/`), or `-` for
        /// standard output. Default: `dist/mailu.k8s.yaml` (`.json` with `--format json`).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Output format: multi-document YAML, or a JSON `v1 List`.
        #[arg(long, value_enum, default_value_t = Format::Yaml)]
        format: Format,
        /// Write one YAML file per component, `shared.yaml` (cluster-scoped and shared objects)
        /// and a `kustomization.yaml` into DIR, for `kubectl apply -k DIR` and overlays.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["output", "format"])]
        split: Option<PathBuf>,
        /// Render each config as an installation of its own, in one run: `-o DIR` gets
        /// `DIR/<file stem>.yaml` (`.json`), `--split DIR` gets `DIR/<file stem>/`. Nothing is
        /// written when any config fails, unless `--keep-going`. Each config is layered over
        /// the `--base` files, then `--set`.
        #[arg(long)]
        each: bool,
        /// With `--each`: a file every config is layered over (repeatable; the first is the
        /// bottom layer).
        #[arg(long, value_name = "FILE", requires = "each")]
        base: Vec<PathBuf>,
        /// With `--each`: write every config that is valid, report each that is not (exit 2).
        #[arg(long, requires = "each")]
        keep_going: bool,
    },
    /// Validate a config and report every problem; write nothing.
    #[command(
        after_help = "Examples:\n  mailu-k8s check mailu.yaml\n  mailu-k8s check mailu.yaml --message-format json   # for CI and editors"
    )]
    Check {
        #[command(flatten)]
        input: ConfigArgs,
        /// Warnings fail the check too (exit 2), reported as errors: for CI gates.
        #[arg(long)]
        strict: bool,
    },
    /// Print the config file's JSON Schema (draft-07, for yaml-language-server and editors).
    #[command(after_help = "Examples:\n  mailu-k8s schema > mailu-k8s.schema.json")]
    Schema,
    /// The DNS records the installation needs: print the plan, or check the live DNS against it.
    #[command(
        after_help = "Examples:\n  mailu-k8s dns plan mailu.yaml -o zones/\n  mailu-k8s dns check mailu.yaml"
    )]
    Dns {
        #[command(subcommand)]
        command: crate::dns_cmd::DnsCommand,
    },
    /// DKIM keys.
    #[command(
        after_help = "Examples:\n  mailu-k8s dkim keygen mailu.yaml -o dkim-secret.yaml && kubectl apply -f dkim-secret.yaml"
    )]
    Dkim {
        #[command(subcommand)]
        command: crate::dns_cmd::DkimCommand,
    },
    /// Write a commented starter config and its schema next to it.
    #[command(
        after_help = "Examples:\n  mailu-k8s init                                # mailu.yaml + mailu-k8s.schema.json here"
    )]
    Init {
        /// Where to write the config: a file, or a directory (existing, or a path ending in `/`)
        /// to hold `mailu.yaml`. The schema goes beside it.
        #[arg(default_value = "mailu.yaml")]
        path: PathBuf,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
    },
    /// List every Secret the manifests reference: its keys, who reads each, the characters Mailu
    /// cannot take, and the `kubectl create secret` command with placeholders (never a value).
    #[command(
        after_help = "Examples:\n  mailu-k8s secrets mailu.yaml\n  mailu-k8s secrets mailu.yaml --format json | jq -r '.secrets[].command // empty'"
    )]
    Secrets {
        #[command(flatten)]
        input: ConfigArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = crate::secrets_cmd::SecretsFormat::Text)]
        format: crate::secrets_cmd::SecretsFormat,
    },
    /// Compare two configs, two rendered outputs, or one of each, object by object: what is
    /// added, removed (needs pruning), changed (field paths), and which workloads roll.
    /// Exit 0: the same; 1: different; 2: an input is unreadable or invalid.
    #[command(
        after_help = "Examples:\n  mailu-k8s diff dist/mailu.k8s.yaml mailu.yaml   # what applying the new config changes\n  mailu-k8s diff old.yaml new.yaml --format json"
    )]
    Diff {
        /// The current config or rendered output (YAML documents or a JSON `List`).
        old: PathBuf,
        /// The new one; several files are the new config's layers (later ones win).
        #[arg(num_args = 1..)]
        new: Vec<PathBuf>,
        /// Set a value of the new config after its files: `path.to.key=value` (as for `synth`).
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        #[arg(long, value_enum, default_value_t = crate::diff_cmd::DiffFormat::Text)]
        format: crate::diff_cmd::DiffFormat,
    },
    /// Draw the deployment from the topology model: components and ports, connections, the
    /// edge, the egress path and its address, and what the NetworkPolicies allow.
    #[command(
        after_help = "Examples:\n  mailu-k8s graph mailu.yaml                  # Mermaid, for a README or a pull request\n  mailu-k8s graph mailu.yaml --format dot | dot -Tsvg > mailu.svg"
    )]
    Graph {
        #[command(flatten)]
        input: ConfigArgs,
        /// Mermaid (renders in GitHub and GitLab Markdown) or Graphviz DOT.
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
    },
    /// Run as a KRM function (kustomize, kpt): a ResourceList on standard input whose
    /// `functionConfig.spec` is the config; the list with the installation's objects added, and
    /// the findings as `results`, on standard output.
    #[command(
        after_help = "Examples:\n  mailu-k8s krm < resource-list.yaml > output.yaml   # kustomize runs it as mailu-k8s-krm (README: GitOps)"
    )]
    Krm,
    /// Print a shell completion script.
    ///
    /// bash: `mailu-k8s completions bash > ~/.local/share/bash-completion/completions/mailu-k8s`;
    /// zsh: `mailu-k8s completions zsh > "${fpath[1]}/_mailu-k8s"`;
    /// fish: `mailu-k8s completions fish > ~/.config/fish/completions/mailu-k8s.fish`.
    #[command(
        after_help = "Examples:\n  mailu-k8s completions bash > ~/.local/share/bash-completion/completions/mailu-k8s"
    )]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum GraphFormat {
    Mermaid,
    Dot,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

/// The name under which the binary is a KRM function with no arguments: kustomize's exec
/// functions run a path without arguments (kustomize 4), so `ln -s mailu-k8s mailu-k8s-krm`.
const KRM_NAME: &str = "mailu-k8s-krm";

pub fn run() -> ExitCode {
    let invoked_as = std::env::args_os().next().map(PathBuf::from);
    if invoked_as.and_then(|p| p.file_name().map(|n| n == KRM_NAME)) == Some(true) {
        return match crate::krm_cmd::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err((source, failure)) => {
                crate::io::report_failure(&source, failure, MessageFormat::Text)
            }
        };
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are successes; usage errors exit 2 (clap's convention),
            // as JSON when JSON was asked for.
            if e.use_stderr() && json_requested() {
                let doc = serde_json::json!({ "source": "", "error": e.to_string().trim_end() });
                let _ = writeln!(
                    io::stderr(),
                    "{}",
                    serde_json::to_string(&doc).unwrap_or_default()
                );
            } else {
                let _ = e.print();
            }
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let format = cli.message_format;
    let terminal = std::io::IsTerminal::is_terminal(&io::stderr());
    let no_color = std::env::var_os("NO_COLOR");
    crate::io::set_style(Style {
        quiet: cli.quiet,
        color: cli.color.colors(terminal, no_color.as_deref()),
    });
    match execute(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err((source, failure)) => crate::io::report_failure(&source, failure, format),
    }
}

/// Whether the command line asks for `--message-format json`, read from the raw arguments for
/// the errors found before they are parsed.
fn json_requested() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().enumerate().any(|(i, a)| {
        a == "--message-format=json"
            || (a == "--message-format" && args.get(i + 1).is_some_and(|v| v == "json"))
    })
}

fn execute(cli: Cli) -> Outcome {
    let format = cli.message_format;
    match cli.command {
        Command::Synth {
            input,
            output,
            format: out_format,
            split,
            each,
            base,
            keep_going,
        } => {
            let target = crate::synth_cmd::Target::of(output, out_format == Format::Json, split);
            if each {
                let each = crate::synth_cmd::Each {
                    base,
                    set: input.set,
                    keep_going,
                };
                return crate::synth_cmd::synth_each(&input.config, target, &each, format);
            }
            crate::synth_cmd::synth(&input, &target, format)
        }
        Command::Check { input, strict } => check(&input, strict, format),
        Command::Schema => {
            let schema = mailu_k8s_config::json_schema();
            let text = serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n";
            write_stdout(&text).map_err(|e| (String::new(), Failure::Io(e)))
        }
        Command::Dns { command } => crate::dns_cmd::dns(command, format),
        Command::Dkim { command } => crate::dns_cmd::dkim(command, format),
        Command::Init { path, force } => {
            init(&path, force).map_err(|e| (String::new(), Failure::Io(e)))
        }
        Command::Secrets { input, format: out } => crate::secrets_cmd::secrets(&input, out, format),
        Command::Diff {
            old,
            new,
            set,
            format: out,
        } => crate::diff_cmd::run(&old, &new, &set, out, format),
        Command::Graph { input, format: out } => {
            let (source, loaded) = load(&input)?;
            report(&source, &loaded.warnings, format);
            let topology = mailu_k8s_topology::Topology::from_config(&loaded.config);
            let graph = mailu_k8s_topology::graph::Graph::of(&loaded.config, &topology);
            let text = match out {
                GraphFormat::Mermaid => graph.to_mermaid(),
                GraphFormat::Dot => graph.to_dot(),
            };
            write_stdout(&text).map_err(|e| (source, Failure::Io(e)))
        }
        Command::Krm => crate::krm_cmd::run(),
        Command::Completions { shell } => {
            write_stdout(&completions(shell)).map_err(|e| (String::new(), Failure::Io(e)))
        }
    }
}

/// `check`: every problem in one pass. The DNS plan is built from the same config, so what
/// `dns plan` would refuse is this config's problem too; of its notes, the one about outbound
/// mail (MK407, no predictable sending address) is shown, the others stay with `dns plan`.
/// With `strict`, warnings are errors.
fn check(input: &ConfigArgs, strict: bool, format: MessageFormat) -> Outcome {
    let crate::dns_cmd::Planned {
        source,
        config,
        warnings: mut findings,
        ..
    } = crate::dns_cmd::build_plan(input)?;
    let topology = mailu_k8s_topology::Topology::from_config(&config);
    findings.extend(mailu_k8s_dns::plan::egress_warning(&topology));
    if strict {
        for f in &mut findings {
            f.severity = mailu_k8s_config::Severity::Error;
        }
    }
    let note = if strict {
        " (--strict: warnings fail)"
    } else {
        ""
    };
    summarize(&source, &findings, format, note);
    if findings.is_empty() {
        Ok(())
    } else if strict {
        Err((source, Failure::Reported))
    } else {
        Ok(())
    }
}

/// The completion script clap_complete writes for `shell`, from the same definition that
/// parses the arguments (so it cannot fall behind a new flag).
fn completions(shell: clap_complete::Shell) -> String {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "mailu-k8s", &mut out);
    let script = String::from_utf8_lossy(&out).into_owned();
    match shell {
        // clap_complete 4.6 names bash's per-subcommand cases `mailu__subcmd__k8s__…` while it
        // tracks the command as `mailu__k8s__…` when the binary's name has a hyphen, so nothing
        // after the first word completes (clap-rs/clap#6421, open). One spelling makes them
        // meet; a no-op once upstream is fixed. tests/cli.rs runs the script in bash.
        clap_complete::Shell::Bash => script.replace("mailu__subcmd__k8s", "mailu__k8s"),
        _ => script,
    }
}

/// The schema file `init` writes beside the config, named in the config's modeline.
const SCHEMA_FILE: &str = "mailu-k8s.schema.json";

/// The commented starter config `init` writes. A test loads it, so it stays valid.
pub const STARTER_CONFIG: &str = include_str!("starter.yaml");

fn init(path: &Path, force: bool) -> Result<(), String> {
    let path = init_target(path);
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let schema_path = dir.join(SCHEMA_FILE);
    let schema =
        serde_json::to_string_pretty(&mailu_k8s_config::json_schema()).unwrap_or_default() + "\n";
    let config = format!("# yaml-language-server: $schema=./{SCHEMA_FILE}\n{STARTER_CONFIG}");
    if path.exists() && !force {
        return Err(format!(
            "{} exists; pass --force to overwrite it",
            path.display()
        ));
    }
    // A second config beside the schema of this very version shares it.
    let same_schema = std::fs::read(&schema_path).is_ok_and(|s| s == schema.as_bytes());
    if schema_path.exists() && !same_schema && !force {
        return Err(format!(
            "{} exists and differs from this version's schema; pass --force to overwrite it",
            schema_path.display()
        ));
    }
    // Both are written completely before either is renamed into place.
    let mut staged = vec![stage(&path, config.as_bytes(), Access::Shared)?];
    if !same_schema {
        staged.push(stage(&schema_path, schema.as_bytes(), Access::Shared)?);
    }
    for s in staged {
        s.commit()?;
    }
    let _ = writeln!(
        io::stderr(),
        "wrote {} and {}; edit it, then run `mailu-k8s synth {}`",
        path.display(),
        schema_path.display(),
        path.display()
    );
    Ok(())
}

/// `init DIR` (an existing directory, or a path ending in `/`) means `DIR/mailu.yaml`.
fn init_target(path: &Path) -> PathBuf {
    if path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/') {
        path.join("mailu.yaml")
    } else {
        path.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starter_config_is_valid() {
        let loaded =
            mailu_k8s_config::load(STARTER_CONFIG.as_bytes()).expect("starter config loads");
        assert!(loaded.warnings.is_empty());
    }

    #[test]
    fn completions_cover_every_command_and_flag() {
        use clap::ValueEnum;
        for shell in clap_complete::Shell::value_variants() {
            let script = completions(*shell);
            for word in ["synth", "keygen", "message-format", "authoritative"] {
                assert!(script.contains(word), "{shell}: {word} missing");
            }
        }
    }

    /// Every command's `--help` ends with examples, and each example parses as written (up to
    /// its first pipe, `&&`, redirection or comment).
    #[test]
    fn every_command_shows_examples_that_parse() {
        use clap::CommandFactory;
        fn leaves(c: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
            let subs: Vec<&clap::Command> = c
                .get_subcommands()
                .filter(|s| s.get_name() != "help")
                .collect();
            if subs.is_empty() {
                let help = c
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                out.push((path.clone(), help));
            }
            for s in subs {
                let mut p = path.clone();
                p.push(s.get_name().to_owned());
                leaves(s, p, out);
            }
        }
        let mut all = Vec::new();
        leaves(&Cli::command(), Vec::new(), &mut all);
        assert!(all.len() >= 11, "{all:?}");
        for (path, help) in all {
            assert!(help.starts_with("Examples:\n"), "{path:?} has no examples");
            for line in help.lines().skip(1) {
                let cut = line.find(['|', '#', '>', '<']).unwrap_or(line.len());
                let cut = line[..cut].find("&&").unwrap_or(cut);
                let words: Vec<&str> = line[..cut].split_whitespace().collect();
                assert_eq!(&words[1..=path.len()], path.as_slice(), "{line}");
                if let Err(e) = Cli::try_parse_from(&words) {
                    panic!("{line}: {e}");
                }
            }
        }
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
