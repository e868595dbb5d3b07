//! The mail DNS of a Mailu installation: the records it needs, planned from the same model as
//! the manifests (`plan`), written as a zone file, JSON or external-dns `DNSEndpoint`s
//! (`write`), and compared with the live DNS (`check`).

pub mod lookup;
pub mod spf;
#[cfg(test)]
mod testing;
