//! Findings: one type, a stable code, shown the same way as text and JSON. The config owns its
//! codes (MK0xx–MK2xx) here; the DNS checker owns its own (MK4xx) and uses the same type.

use std::fmt;

use serde::Serialize;

/// Every kind of problem the config layer can report. The code (`MK…`) and the name are stable:
/// scripts may match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// The file is not valid YAML.
    YamlSyntax,
    /// The file is too large, too deep, or expands too many aliases.
    InputLimit,
    /// The file is empty or not a mapping at the top.
    NotAMapping,
    /// A `--set path=value` argument that cannot be applied.
    InvalidSet,
    /// A key that the schema does not know.
    UnknownKey,
    /// A value of the wrong YAML type.
    WrongType,
    /// A required key is absent.
    MissingKey,
    /// A value outside an enumeration.
    InvalidEnumValue,
    /// A number outside its allowed range.
    OutOfRange,
    /// A list that must not be empty is empty.
    EmptyList,
    /// Not a valid DNS name.
    InvalidDnsName,
    /// Not a valid CIDR for its address family, or host bits set, or an unsafe prefix.
    InvalidCidr,
    /// Not a Kubernetes resource quantity.
    InvalidQuantity,
    /// A resource request larger than its limit.
    RequestExceedsLimit,
    /// Not a valid Kubernetes object name or Secret key.
    InvalidKubernetesName,
    /// Not an IANA time zone name.
    UnknownTimezone,
    /// A setting that needs another setting which is absent.
    MissingDependency,
    /// A value that is syntactically fine but not accepted here.
    InvalidValue,
}

impl Code {
    /// All codes, in documentation order.
    pub const ALL: [Code; 18] = [
        Code::YamlSyntax,
        Code::InputLimit,
        Code::NotAMapping,
        Code::InvalidSet,
        Code::UnknownKey,
        Code::WrongType,
        Code::MissingKey,
        Code::InvalidEnumValue,
        Code::OutOfRange,
        Code::EmptyList,
        Code::InvalidDnsName,
        Code::InvalidCidr,
        Code::InvalidQuantity,
        Code::RequestExceedsLimit,
        Code::InvalidKubernetesName,
        Code::UnknownTimezone,
        Code::MissingDependency,
        Code::InvalidValue,
    ];

    /// The stable short code, e.g. `MK101`.
    pub fn id(self) -> &'static str {
        match self {
            Code::YamlSyntax => "MK001",
            Code::InputLimit => "MK002",
            Code::NotAMapping => "MK003",
            Code::InvalidSet => "MK004",
            Code::UnknownKey => "MK101",
            Code::WrongType => "MK102",
            Code::MissingKey => "MK103",
            Code::InvalidEnumValue => "MK104",
            Code::OutOfRange => "MK105",
            Code::EmptyList => "MK106",
            Code::InvalidDnsName => "MK201",
            Code::InvalidCidr => "MK202",
            Code::InvalidQuantity => "MK203",
            Code::RequestExceedsLimit => "MK204",
            Code::InvalidKubernetesName => "MK205",
            Code::UnknownTimezone => "MK206",
            Code::MissingDependency => "MK207",
            Code::InvalidValue => "MK208",
        }
    }

    /// The stable kebab-case name, e.g. `unknown-key`.
    pub fn name(self) -> &'static str {
        match self {
            Code::YamlSyntax => "yaml-syntax",
            Code::InputLimit => "input-limit",
            Code::NotAMapping => "not-a-mapping",
            Code::InvalidSet => "invalid-set",
            Code::UnknownKey => "unknown-key",
            Code::WrongType => "wrong-type",
            Code::MissingKey => "missing-key",
            Code::InvalidEnumValue => "invalid-enum-value",
            Code::OutOfRange => "out-of-range",
            Code::EmptyList => "empty-list",
            Code::InvalidDnsName => "invalid-dns-name",
            Code::InvalidCidr => "invalid-cidr",
            Code::InvalidQuantity => "invalid-quantity",
            Code::RequestExceedsLimit => "request-exceeds-limit",
            Code::InvalidKubernetesName => "invalid-kubernetes-name",
            Code::UnknownTimezone => "unknown-timezone",
            Code::MissingDependency => "missing-dependency",
            Code::InvalidValue => "invalid-value",
        }
    }
}

/// A finding's code: a stable id (`MK…`) and kebab-case name. The config's codes ([`Code`],
/// MK0xx–MK2xx) implement it, and so do the DNS checker's (MK4xx, in mailu-k8s-dns): each crate
/// owns its codes, and both are one [`Diagnostic`], rendered the same way.
pub trait FindingCode: Copy {
    fn id(self) -> &'static str;
    fn name(self) -> &'static str;
}

impl FindingCode for Code {
    fn id(self) -> &'static str {
        Code::id(self)
    }

    fn name(self) -> &'static str {
        Code::name(self)
    }
}

/// A code is written as its id in JSON.
fn serialize_id<C: FindingCode, S: serde::Serializer>(code: &C, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(code.id())
}

/// How bad a finding is. Errors stop synthesis; warnings are shown and synthesis goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Line and column (both 1-based) in the config file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Location {
    pub line: u64,
    pub column: u64,
}

/// One finding: what is wrong, where (field path and, when known, line), the bad value, and how
/// to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(bound = "C: FindingCode")]
pub struct Diagnostic<C = Code> {
    #[serde(serialize_with = "serialize_id")]
    pub code: C,
    /// `code.name()`, repeated so JSON consumers need no table.
    pub name: &'static str,
    pub severity: Severity,
    /// Dotted field path such as `storage.dovecot.size`; `hostnames[0]` for list items; empty for
    /// the document as a whole.
    pub path: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// The file (or `--set ARG`) that set the value, when a config is made of several layers;
    /// `None` for a single file, whose name the report gives once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl<C: FindingCode> Diagnostic<C> {
    pub fn error(code: C, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            name: code.name(),
            severity: Severity::Error,
            path: path.into(),
            message: message.into(),
            value: None,
            hint: None,
            location: None,
            file: None,
        }
    }

    pub fn warning(code: C, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, path, message)
        }
    }

    pub fn with_value(mut self, value: impl Into<String>) -> Self {
        self.value = Some(value.into());
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Names the file (or `--set ARG`) the finding is about, for configs of several layers.
    pub fn with_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn with_location(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }

    /// The same finding under another crate's code type, e.g. a config finding among the DNS
    /// checker's.
    pub fn map_code<D: FindingCode>(self, f: impl FnOnce(C) -> D) -> Diagnostic<D> {
        let code = f(self.code);
        Diagnostic {
            code,
            name: code.name(),
            severity: self.severity,
            path: self.path,
            message: self.message,
            value: self.value,
            hint: self.hint,
            location: self.location,
            file: self.file,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Human-readable rendering, `source` naming the file (or `<stdin>`); the finding's own
    /// [`file`](Self::file), when it has one, names it instead.
    pub fn render(&self, source: &str) -> String {
        let source = self.file.as_deref().unwrap_or(source);
        let mut out = String::new();
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!("{severity}[{}]: ", self.code.id()));
        if !self.path.is_empty() {
            out.push_str(&format!("{}: ", self.path));
        }
        out.push_str(&self.message);
        out.push('\n');
        match self.location {
            Some(l) => out.push_str(&format!("  --> {source}:{}:{}\n", l.line, l.column)),
            None => out.push_str(&format!("  --> {source}\n")),
        }
        if let Some(value) = &self.value {
            out.push_str(&format!("  = value: {value}\n"));
        }
        if let Some(hint) = &self.hint {
            out.push_str(&format!("  = hint: {hint}\n"));
        }
        out
    }
}

impl<C: FindingCode> fmt::Display for Diagnostic<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render("config"))
    }
}

/// Joins a parent path and a key: `join("storage", "dovecot")` is `storage.dovecot`.
pub fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// Findings in the order of the text they are about (issue 20): by layer (`rank`, for a config
/// made of several files), line and column; findings without a position (about the document as
/// a whole) first. Stable: findings at one position keep the order the checks made them in.
pub fn sort_in_file_order<C>(
    findings: &mut [Diagnostic<C>],
    rank: impl Fn(&Diagnostic<C>) -> usize,
) {
    findings.sort_by_key(|d| {
        let position = d.location.map_or((0, 0), |l| (l.line, l.column));
        (rank(d), position)
    });
}

/// `index("hostnames", 2)` is `hostnames[2]`.
pub fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_and_names_are_unique() {
        let ids: HashSet<_> = Code::ALL.iter().map(|c| c.id()).collect();
        let names: HashSet<_> = Code::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(ids.len(), Code::ALL.len());
        assert_eq!(names.len(), Code::ALL.len());
    }

    #[test]
    fn text_rendering_names_path_value_and_hint() {
        let d = Diagnostic::error(
            Code::InvalidQuantity,
            "storage.dovecot.size",
            "not a quantity",
        )
        .with_value("50GB")
        .with_hint("write 50Gi")
        .with_location(Some(Location { line: 3, column: 9 }));
        let text = d.render("mailu.yaml");
        assert!(text.starts_with("error[MK203]: storage.dovecot.size: not a quantity\n"));
        assert!(text.contains("--> mailu.yaml:3:9"));
        assert!(text.contains("= value: 50GB"));
        assert!(text.contains("= hint: write 50Gi"));
    }
}
