//! `mailu-k8s synth`: one config to one file (or standard output) or a split directory, and
//! `--each`: many configs, each its own installation, rendered in one run on every core.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use mailu_k8s_manifests::{Manifest, split};

use mailu_k8s_config::Config;
use mailu_k8s_dns::finding::{Code, Finding};

use crate::io::{
    Access, ConfigArgs, Failure, MessageFormat, Outcome, Staged, Wrote, load, load_layers, report,
    report_wrote, stage, write_atomically, write_stdout,
};

/// Where rendered output goes.
pub(crate) enum Target {
    /// A file, a directory, `-` or the default `dist/`; JSON (`v1 List`) or YAML.
    File { output: Option<PathBuf>, json: bool },
    /// One file per component plus a kustomization, in this directory.
    Split(PathBuf),
}

impl Target {
    pub(crate) fn of(output: Option<PathBuf>, json: bool, split: Option<PathBuf>) -> Target {
        match split {
            Some(dir) => Target::Split(dir),
            None => Target::File { output, json },
        }
    }
}

pub(crate) fn synth(input: &ConfigArgs, target: &Target, format: MessageFormat) -> Outcome {
    let (source, loaded) = load(input)?;
    let findings = warnings(loaded.warnings, &loaded.config);
    let manifest = mailu_k8s_manifests::synthesize(&loaded.config);
    let written = match target {
        Target::Split(dir) => write_dir(dir, split_files(&manifest)).map(|()| Some(dir.clone())),
        Target::File { output, json } => {
            let (ext, text) = render(&manifest, *json);
            write_output(output.as_deref(), ext, &text)
        }
    };
    match written {
        Ok(Some(path)) => {
            let objects = manifest.objects.len();
            report_wrote(
                &source,
                &findings,
                &Wrote {
                    path: &path,
                    objects,
                },
                format,
            );
        }
        Ok(None) => report(&source, &findings, format),
        Err(e) => {
            report(&source, &findings, format);
            return Err((source, Failure::Io(e)));
        }
    }
    // The process ends right after this command: freeing the objects and the config one
    // allocation at a time would cost a few percent of the run for memory the exit returns anyway.
    std::mem::forget(manifest);
    std::mem::forget(loaded.config);
    Ok(())
}

/// The config's warnings and MK407 when outbound mail has no predictable address (which
/// `dns plan` and `check` report too).
fn warnings(config_warnings: Vec<mailu_k8s_config::Diagnostic>, config: &Config) -> Vec<Finding> {
    let topology = mailu_k8s_topology::Topology::from_config(config);
    (config_warnings.into_iter())
        .map(|d| d.map_code(Code::Config))
        .chain(mailu_k8s_dns::plan::egress_warning(&topology))
        .collect()
}

fn render(manifest: &Manifest, json: bool) -> (&'static str, String) {
    if json {
        ("json", manifest.to_json())
    } else {
        ("yaml", manifest.to_yaml())
    }
}

/// The split's files, by name: `shared.yaml`, one per component, `kustomization.yaml`.
fn split_files(manifest: &Manifest) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = split::split(manifest)
        .into_iter()
        .map(|(name, part)| (name, part.to_yaml()))
        .collect();
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    files.push((
        split::KUSTOMIZATION_FILE.to_owned(),
        split::kustomization(&names),
    ));
    files
}

/// Writes a split directory: every file staged before any is renamed into place, then the
/// files an earlier split wrote that this one lacks are removed (see [`remove_stale`]).
fn write_dir(dir: &Path, files: Vec<(String, String)>) -> Result<(), String> {
    let staged = stage_dir(dir, &files)?;
    commit(staged)?;
    remove_stale(dir, &names(&files))
}

fn stage_dir(dir: &Path, files: &[(String, String)]) -> Result<Vec<Staged>, String> {
    files
        .iter()
        .map(|(name, text)| stage(&dir.join(name), text.as_bytes(), Access::Shared))
        .collect()
}

fn commit(staged: Vec<Staged>) -> Result<(), String> {
    staged.into_iter().try_for_each(Staged::commit)
}

fn names(files: &[(String, String)]) -> Vec<String> {
    files.iter().map(|(n, _)| n.clone()).collect()
}

/// Removes `*.yaml` files in `dir` that an earlier `synth --split` wrote (they start with the
/// generator's header) and `keep` lacks, so the directory holds exactly this output; files the
/// user put there stay.
fn remove_stale(dir: &Path, keep: &[String]) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".yaml") || keep.contains(&name) {
            continue;
        }
        let ours = std::fs::read_to_string(entry.path())
            .is_ok_and(|t| t.starts_with(mailu_k8s_manifests::HEADER));
        if ours {
            std::fs::remove_file(entry.path())
                .map_err(|e| format!("cannot remove {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// Writes the rendered text; the path written, `None` for standard output.
fn write_output(output: Option<&Path>, ext: &str, text: &str) -> Result<Option<PathBuf>, String> {
    let file_name = format!("mailu.k8s.{ext}");
    let target = match output {
        Some(p) if p == Path::new("-") => return write_stdout(text).map(|()| None),
        Some(p) if p.is_dir() || p.as_os_str().to_string_lossy().ends_with('/') => {
            p.join(file_name)
        }
        Some(p) => p.to_path_buf(),
        None => Path::new("dist").join(file_name),
    };
    write_atomically(&target, text.as_bytes())?;
    Ok(Some(target))
}

/// One config's rendering under `--each`: its output files (relative to the target directory),
/// or why it failed.
type Rendered = Result<Vec<(PathBuf, String)>, (String, Failure)>;

/// What `--each` adds: the files under every config, the `--set` values over each, and whether
/// to write the valid ones when some fail.
pub(crate) struct Each {
    pub(crate) base: Vec<PathBuf>,
    pub(crate) set: Vec<String>,
    pub(crate) keep_going: bool,
}

/// `synth --each`: renders every config (on every core), reports each failure, and writes all
/// outputs only when none failed (with `keep_going`, the valid ones anyway; exit 2 still).
pub(crate) fn synth_each(
    configs: &[PathBuf],
    target: Target,
    each: &Each,
    format: MessageFormat,
) -> Outcome {
    let (dir, json, split) = match &target {
        Target::Split(dir) => (dir.clone(), false, true),
        Target::File {
            output: Some(dir),
            json,
        } if dir != Path::new("-") => (dir.clone(), *json, false),
        Target::File { .. } => {
            return Err(usage("--each writes files: pass -o DIR or --split DIR"));
        }
    };
    let stems = unique_stems(configs)?;
    let rendered = render_all(configs, |config| {
        let mut layers = each.base.clone();
        layers.push(config.clone());
        render_one(&layers, &each.set, json, split, format)
    });
    let mut good = Vec::new();
    let mut failed = false;
    for (stem, result) in stems.iter().zip(rendered) {
        match result {
            Ok(files) => good.push((stem, files)),
            Err((source, failure)) => {
                failed = true;
                crate::io::report_failure(&source, failure, format);
            }
        }
    }
    if failed && !each.keep_going {
        return Err((String::new(), Failure::Reported));
    }
    write_instances(&dir, &good, split).map_err(io_failure)?;
    if failed {
        return Err((String::new(), Failure::Reported));
    }
    Ok(())
}

/// Stages every instance's files, then renames them all into place; a split instance's
/// directory then loses the files an earlier split wrote that this one lacks.
fn write_instances(
    dir: &Path,
    instances: &[(&String, Vec<(PathBuf, String)>)],
    split: bool,
) -> Result<(), String> {
    let mut staged = Vec::new();
    for (stem, files) in instances {
        for (name, text) in files {
            let path = instance_path(dir, stem, name, split);
            staged.push(stage(&path, text.as_bytes(), Access::Shared)?);
        }
    }
    commit(staged)?;
    if split {
        for (stem, files) in instances {
            let keep: Vec<String> = files.iter().map(|(n, _)| n.display().to_string()).collect();
            remove_stale(&dir.join(stem), &keep)?;
        }
    }
    Ok(())
}

fn render_one(
    layers: &[PathBuf],
    sets: &[String],
    json: bool,
    split: bool,
    format: MessageFormat,
) -> Rendered {
    let (source, loaded) = load_layers(layers, sets)?;
    report(&source, &warnings(loaded.warnings, &loaded.config), format);
    let manifest = mailu_k8s_manifests::synthesize(&loaded.config);
    Ok(if split {
        split_files(&manifest)
            .into_iter()
            .map(|(n, t)| (PathBuf::from(n), t))
            .collect()
    } else {
        let (ext, text) = render(&manifest, json);
        vec![(PathBuf::from(ext), text)]
    })
}

/// Where an instance's file goes: `DIR/<stem>/<name>` for a split, `DIR/<stem>.<ext>` else.
fn instance_path(dir: &Path, stem: &str, name: &Path, split: bool) -> PathBuf {
    if split {
        dir.join(stem).join(name)
    } else {
        dir.join(format!("{stem}.{}", name.display()))
    }
}

/// Renders on every core; results in the order of `items`.
fn render_all<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let mut out: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.min(items.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, work(item)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Each config's file stem, which names its output; two configs with one stem are refused.
fn unique_stems(configs: &[PathBuf]) -> Result<Vec<String>, (String, Failure)> {
    let mut seen = BTreeSet::new();
    configs
        .iter()
        .map(|c| {
            let stem = c
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .filter(|s| !s.is_empty() && c != Path::new("-"))
                .ok_or_else(|| usage(&format!("--each needs config files, not {}", c.display())))?;
            if !seen.insert(stem.clone()) {
                return Err(usage(&format!(
                    "two configs named {stem}: --each names each output after its file, so rename one"
                )));
            }
            Ok(stem)
        })
        .collect()
}

fn usage(message: &str) -> (String, Failure) {
    (String::new(), Failure::Io(message.to_owned()))
}

fn io_failure(e: String) -> (String, Failure) {
    (String::new(), Failure::Io(e))
}
