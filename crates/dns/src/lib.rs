//! The mail DNS of a Mailu installation: the records it needs, planned from the same model as
//! the manifests (`plan`), written as a zone file, JSON or external-dns `DNSEndpoint`s
//! (`write`), and compared with the live DNS (`check`) and the live mail host (`connected`: the
//! MTA-STS policy over HTTPS, DANE over SMTP STARTTLS).

pub mod caa;
pub mod check;
pub mod connected;
pub mod dane;
pub mod dane_check;
pub mod dkim;
pub mod finding;
pub mod keygen;
pub mod lookup;
pub mod mta_sts_fetch;
pub mod plan;
pub mod spf;
#[cfg(test)]
mod testing;
pub mod tls;
pub mod write;
