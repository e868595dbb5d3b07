//! `mailu-k8s`: see `mailu-k8s --help`. Exit codes: 0 success; 1 a live check found problems;
//! 2 bad input, bad usage or an I/O error (nothing was written).

mod app;
mod diff_cmd;
mod dns_cmd;
mod io;
mod krm_cmd;
mod secrets_cmd;
mod synth_cmd;

fn main() -> std::process::ExitCode {
    app::run()
}
