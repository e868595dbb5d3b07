//! What every command shares: the message format and the run's failures, reading the config,
//! reporting findings (escaped for a terminal), and writing standard output and files
//! atomically. `app` (the command line) and `dns_cmd` both use it; it uses neither.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use mailu_k8s_config::{Diagnostic, FindingCode, Loaded, layers};
use mailu_k8s_dns::finding::{Code, Finding};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum MessageFormat {
    Text,
    Json,
}

/// A failure that ends the run with exit code 2, or 1 for problems a live check found.
pub(crate) enum Failure {
    /// The config (or the DNS plan made from it) has errors (already collected).
    Invalid(Vec<Finding>),
    /// Reading or writing failed.
    Io(String),
    /// A live check found problems (exit code 1); the findings are already reported.
    Problems,
    /// Bad input already reported (exit code 2), e.g. by `synth --each` for each config.
    Reported,
}

/// How a command ends: `Err` carries the source it was about (for the message) and why.
pub(crate) type Outcome = Result<(), (String, Failure)>;

/// The config a command reads: one file, or several layered (later files win), then `--set`.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct ConfigArgs {
    /// The config file (`-` for standard input). Several are layered, later ones winning:
    /// mappings merge, lists are replaced, `null` removes a key.
    #[arg(default_value = "mailu.yaml", num_args = 1..)]
    pub config: Vec<PathBuf>,
    /// Set a value after the files: `path.to.key=value`, typed by the schema (`[N]` is a list
    /// item, `null` removes the key, `\.` is a dot inside a key). Repeatable.
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
}

impl ConfigArgs {
    /// The first file: paths in the config (`dns.dkim.publicKeys`) are relative to it.
    pub(crate) fn primary(&self) -> &Path {
        self.config
            .first()
            .map_or(Path::new("mailu.yaml"), PathBuf::as_path)
    }
}

/// Loads the config `args` names; the source names its file (or files, joined with ` + `).
pub(crate) fn load(args: &ConfigArgs) -> Result<(String, Loaded), (String, Failure)> {
    load_layers(&args.config, &args.set)
}

/// Loads `paths` as layers (later ones win), then `sets`.
pub(crate) fn load_layers(
    paths: &[PathBuf],
    sets: &[String],
) -> Result<(String, Loaded), (String, Failure)> {
    let names: Vec<String> = paths.iter().map(|p| source_name(p)).collect();
    let source = names.join(" + ");
    if paths.iter().filter(|p| *p == Path::new("-")).count() > 1 {
        let message = "standard input (`-`) can be read once: name it once among the configs";
        return Err((source, Failure::Io(message.to_owned())));
    }
    let mut contents = Vec::with_capacity(paths.len());
    for (path, name) in paths.iter().zip(&names) {
        let bytes = read_input(path).map_err(|e| (name.clone(), Failure::Io(e)))?;
        contents.push(bytes);
    }
    let files: Vec<layers::File<'_>> = names
        .iter()
        .zip(&contents)
        .map(|(name, bytes)| layers::File { name, bytes })
        .collect();
    match layers::load(&files, sets) {
        Ok(loaded) => Ok((source, loaded)),
        Err(findings) => {
            let findings = findings.into_iter().map(|d| d.map_code(Code::Config));
            Err((source, Failure::Invalid(findings.collect())))
        }
    }
}

fn source_name(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Reads at most one byte past the config size limit, so a huge or endless input fails fast.
fn read_input(path: &Path) -> Result<Vec<u8>, String> {
    let limit = mailu_k8s_config::MAX_CONFIG_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        io::stdin()
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
    } else {
        let file = std::fs::File::open(path).map_err(|e| {
            let hint = if e.kind() == io::ErrorKind::NotFound {
                " (run `mailu-k8s init` to create a starter config)"
            } else {
                ""
            };
            format!("cannot read {}: {e}{hint}", path.display())
        })?;
        file.take(limit)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    }
    Ok(bytes)
}

/// Reports how a run (or one config of `synth --each`) failed; returns the exit code.
pub(crate) fn report_failure(
    source: &str,
    failure: Failure,
    format: MessageFormat,
) -> std::process::ExitCode {
    use std::process::ExitCode;
    match failure {
        Failure::Invalid(findings) => {
            report(source, &findings, format);
            ExitCode::from(2)
        }
        Failure::Io(message) => {
            let text = match format {
                MessageFormat::Text => {
                    colored(&format!("error: {}", printable(&message)), style().color).into_owned()
                }
                MessageFormat::Json => {
                    let doc = serde_json::json!({ "source": source, "error": message });
                    serde_json::to_string(&doc).unwrap_or_default()
                }
            };
            let _ = writeln!(io::stderr(), "{text}");
            ExitCode::from(2)
        }
        Failure::Reported => ExitCode::from(2),
        Failure::Problems => ExitCode::from(1),
    }
}

/// How findings are shown for the whole run, set once from the command line.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct Style {
    /// `--quiet`: errors only; no warnings, no summary of a run without errors.
    pub(crate) quiet: bool,
    /// Colour the severity of findings on standard error.
    pub(crate) color: bool,
}

static STYLE: std::sync::OnceLock<Style> = std::sync::OnceLock::new();

pub(crate) fn set_style(style: Style) {
    let _ = STYLE.set(style);
}

fn style() -> Style {
    STYLE.get().copied().unwrap_or_default()
}

/// `--color`: when findings on standard error are coloured.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set (to anything but the empty string).
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour: `always`/`never` as said (a flag beats the environment), `auto` only
    /// on a terminal without `NO_COLOR`.
    pub(crate) fn colors(self, terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && no_color.is_none_or(|v| v.is_empty()),
        }
    }
}

/// Reports findings met during a run (warnings, notes) on standard error: nothing when there
/// are none (or, with `--quiet`, no errors).
pub(crate) fn report<C: FindingCode>(
    source: &str,
    findings: &[Diagnostic<C>],
    format: MessageFormat,
) {
    let quiet = style().quiet;
    if findings.iter().all(|d| quiet && !d.is_error()) {
        return;
    }
    summarize(source, findings, format, "");
}

/// Every finding (errors only with `--quiet`) and one summary: a line of text ending in
/// `note` (`SOURCE: 2 error(s), 1 warning(s)`, `SOURCE: no errors, 1 warning(s)`), or one JSON
/// object `{source, findings, errors, warnings}`, printed even when there is nothing to report
/// (a clean run's JSON says so; its text is `SOURCE: no errors`, which `--quiet` leaves out).
pub(crate) fn summarize<C: FindingCode>(
    source: &str,
    findings: &[Diagnostic<C>],
    format: MessageFormat,
    note: &str,
) {
    let style = style();
    let shown: Vec<&Diagnostic<C>> = findings
        .iter()
        .filter(|d| d.is_error() || !style.quiet)
        .collect();
    let errors = shown.iter().filter(|d| d.is_error()).count();
    let warnings = shown.len() - errors;
    let mut err = io::stderr().lock();
    match format {
        MessageFormat::Text => {
            for d in &shown {
                let _ = write!(err, "{}", colored(&render_text(d, source), style.color));
            }
            let source = printable(source);
            if shown.is_empty() {
                if !style.quiet {
                    let _ = writeln!(err, "{source}: no errors{note}");
                }
            } else if errors == 0 {
                let _ = writeln!(err, "{source}: no errors, {warnings} warning(s){note}");
            } else {
                let _ = writeln!(
                    err,
                    "{source}: {errors} error(s), {warnings} warning(s){note}"
                );
            }
        }
        MessageFormat::Json => {
            let _ = writeln!(err, "{}", summary_json(source, &shown));
        }
    }
}

/// What a command wrote: where, and how many objects.
pub(crate) struct Wrote<'a> {
    pub path: &'a Path,
    pub objects: usize,
}

/// The findings of a run that wrote files, and what it wrote, in one summary (issue 20: one
/// summary line, not two): the findings, then `SOURCE: no errors, 1 warning(s); wrote N
/// objects to PATH` (just `wrote N objects to PATH` without findings), or one JSON object
/// `{source, findings, errors, warnings, wrote, objects}`. `--quiet` says only errors.
pub(crate) fn report_wrote<C: FindingCode>(
    source: &str,
    findings: &[Diagnostic<C>],
    wrote: &Wrote<'_>,
    format: MessageFormat,
) {
    if style().quiet {
        return report(source, findings, format);
    }
    let (path, objects) = (wrote.path.display().to_string(), wrote.objects);
    match format {
        MessageFormat::Text if findings.is_empty() => {
            let _ = writeln!(
                io::stderr(),
                "wrote {objects} objects to {}",
                printable(&path)
            );
        }
        MessageFormat::Text => {
            let note = format!("; wrote {objects} objects to {}", printable(&path));
            summarize(source, findings, format, &note);
        }
        MessageFormat::Json => {
            let mut doc = summary_json(source, &findings.iter().collect::<Vec<_>>());
            doc["wrote"] = path.into();
            doc["objects"] = objects.into();
            let _ = writeln!(io::stderr(), "{doc}");
        }
    }
}

/// `{source, findings, errors, warnings}`.
fn summary_json<C: FindingCode>(source: &str, shown: &[&Diagnostic<C>]) -> serde_json::Value {
    let errors = shown.iter().filter(|d| d.is_error()).count();
    serde_json::json!({
        "source": source,
        "findings": shown,
        "errors": errors,
        "warnings": shown.len() - errors,
    })
}

/// A rendered finding with its severity word in colour (bold red, bold yellow).
fn colored(text: &str, color: bool) -> std::borrow::Cow<'_, str> {
    let paint = |word: &str, code: &str| {
        text.strip_prefix(word)
            .map(|rest| format!("\x1b[{code}m{word}\x1b[0m{rest}"))
    };
    match color.then(|| paint("error", "1;31").or_else(|| paint("warning", "1;33"))) {
        Some(Some(painted)) => std::borrow::Cow::Owned(painted),
        _ => std::borrow::Cow::Borrowed(text),
    }
}

/// Text for a terminal: control characters (C0, DEL, C1) and the invisible bidirectional
/// marks written as escapes (`\u{1b}`, `\r`, `\n`), so what a config file or a DNS server holds
/// can neither move the cursor, recolour or retitle the terminal, nor forge a line of output.
/// JSON output needs none of this: serde escapes control characters.
pub(crate) fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    fn escaped(c: char) -> bool {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !s.chars().any(escaped) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if escaped(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A finding as text, every part of it [`printable`].
pub(crate) fn render_text<C: FindingCode>(d: &Diagnostic<C>, source: &str) -> String {
    let mut safe = d.clone();
    safe.path = printable(&d.path).into_owned();
    safe.message = printable(&d.message).into_owned();
    safe.value = d.value.as_deref().map(|v| printable(v).into_owned());
    safe.hint = d.hint.as_deref().map(|h| printable(h).into_owned());
    safe.render(&printable(source))
}

/// Writes stdout; a closed pipe (`| head`) is a normal end, not an error.
pub(crate) fn write_stdout(text: &str) -> Result<(), String> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(format!("cannot write standard output: {e}")),
    }
}

/// Who may read a file we write.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// As `File::create` makes it (0666 before the umask); a replaced file keeps its mode.
    Shared,
    /// Only the owner (0600), whatever the file it replaces allowed: key material.
    Owner,
}

/// Writes through a temporary file in the same directory and renames it into place, so the
/// target is either the old file or the complete new one, never a partial write.
///
/// The temporary file is created exclusively (`O_EXCL`) under an unpredictable name, so a
/// symlink planted in the directory is never followed. A target that exists and is not a
/// regular file (a FIFO, a socket, a device) is refused: the rename would replace it, and
/// `-o /dev/stdout` would not mean standard output.
pub(crate) fn write_atomically(target: &Path, bytes: &[u8]) -> Result<(), String> {
    stage(target, bytes, Access::Shared)?.commit()
}

/// A file written completely beside its target, not yet renamed into place: several files are
/// staged first and committed only when all of them were written, so a failure while writing
/// leaves every target as it was. Dropped uncommitted, the temporary file is removed.
pub(crate) struct Staged {
    temp: tempfile::NamedTempFile,
    target: PathBuf,
}

impl Staged {
    /// Renames the file into place. A symlink at the target is replaced, never followed.
    pub(crate) fn commit(self) -> Result<(), String> {
        let target = self.target;
        self.temp
            .persist(&target)
            .map_err(|e| format!("cannot write {}: {}", target.display(), e.error))?;
        Ok(())
    }
}

/// The permissions of the regular file at `target` (none there: `None`); anything else there
/// is refused.
pub(crate) fn writable_target(target: &Path) -> Result<Option<std::fs::Permissions>, String> {
    match std::fs::metadata(target) {
        Ok(meta) if meta.is_file() => Ok(Some(meta.permissions())),
        Ok(meta) => Err(format!(
            "cannot write {}: it is {}, not a regular file (write to a file or a directory, \
             or `-o -` for standard output)",
            target.display(),
            describe(&meta.file_type())
        )),
        Err(_) => Ok(None),
    }
}

/// Writes `bytes` to a temporary file beside `target` (see [`write_atomically`]).
pub(crate) fn stage(target: &Path, bytes: &[u8], access: Access) -> Result<Staged, String> {
    let existing = writable_target(target)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| format!("{} is not a file path", target.display()))?;
    let cannot = |e: &dyn std::fmt::Display| format!("cannot write {}: {e}", target.display());
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".tmp").rand_bytes(16);
    // Shared: created as `File::create` would (0666 before the umask), not tempfile's 0600.
    // Owner: tempfile's 0600 from the start, so the key is never readable by others.
    #[cfg(unix)]
    if access == Access::Shared {
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    }
    let mut temp = builder.tempfile_in(&dir).map_err(|e| cannot(&e))?;
    if let (Access::Shared, Some(permissions)) = (access, existing) {
        // A replaced file keeps its mode.
        temp.as_file()
            .set_permissions(permissions)
            .map_err(|e| cannot(&e))?;
    }
    temp.write_all(bytes).map_err(|e| cannot(&e))?;
    Ok(Staged {
        temp,
        target: target.to_path_buf(),
    })
}

/// A file type in words, for the refusal above.
fn describe(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_char_device() || kind.is_block_device() {
            return "a device";
        }
    }
    if kind.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color_unless_a_flag_says() {
        use std::ffi::OsStr;
        let set = Some(OsStr::new("1"));
        let empty = Some(OsStr::new(""));
        let table = [
            (ColorChoice::Auto, true, None, true),
            (ColorChoice::Auto, false, None, false),
            (ColorChoice::Auto, true, set, false),
            // NO_COLOR set to the empty string does not count (no-color.org).
            (ColorChoice::Auto, true, empty, true),
            // A flag beats the environment.
            (ColorChoice::Always, false, set, true),
            (ColorChoice::Never, true, None, false),
        ];
        for (choice, terminal, no_color, want) in table {
            assert_eq!(
                choice.colors(terminal, no_color),
                want,
                "{choice:?} {terminal} {no_color:?}"
            );
        }
        assert_eq!(
            colored("error[MK001]: x", true),
            "\x1b[1;31merror\x1b[0m[MK001]: x"
        );
        assert_eq!(
            colored("warning[MK407]: x", true),
            "\x1b[1;33mwarning\x1b[0m[MK407]: x"
        );
        assert_eq!(colored("error[MK001]: x", false), "error[MK001]: x");
    }

    #[test]
    fn findings_print_control_characters_escaped() {
        let d = Diagnostic::error(
            Code::DmarcInvalid,
            "_dmarc.example.com TXT (DMARC)",
            "bad\r\n",
        )
        .with_value("v=DMARC1; p=none\u{1b}]0;title\u{7}\r\nerror[MK000]: forged\u{0}\u{9b}31m")
        .with_hint("\u{202e}fix it");
        let text = render_text(&d, "DNS\n");
        assert!(
            !text.contains(['\u{1b}', '\u{7}', '\r', '\u{0}', '\u{9b}', '\u{202e}']),
            "{text:?}"
        );
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.contains("= value: v=DMARC1; p=none\\u{1b}]0;title\\u{7}\\r\\nerror[MK000]: forged\\u{0}\\u{9b}31m\n"), "{text}");
        assert_eq!(printable("plain é text"), "plain é text");
    }
}
