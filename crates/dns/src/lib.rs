//! The mail DNS of a Mailu installation: the records it needs, planned from the same model as
//! the manifests (`plan`), written as a zone file, JSON or external-dns `DNSEndpoint`s
//! (`write`), and compared with the live DNS (`check`).

pub mod caa;
pub mod check;
pub mod dkim;
pub mod keygen;
pub mod lookup;
pub mod plan;
pub mod spf;
#[cfg(test)]
mod testing;
pub mod write;
