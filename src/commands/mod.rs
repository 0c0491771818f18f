//! The subcommands, one file each, and [`setup`]: what they share (loading config and
//! mapping, the API key, the client, the custom-field catalog).

pub mod check;
pub mod failures;
pub mod fields;
pub mod history;
pub mod restore;
pub mod saved_plan;
pub mod setup;
pub mod status;
pub mod sync;

/// `--output`: for people or for scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Output {
    #[default]
    Text,
    Json,
}

/// The start of the read-only commands (`status`, `history`, `failures`): the config, and
/// its mirror opened read-only (`None` when no sync has made it yet).
pub fn read_mirror(
    config_path: &std::path::Path,
) -> Result<(crate::config::Config, Option<crate::mirror::Mirror>), setup::Stop> {
    let config = crate::config::Config::load(config_path).map_err(|p| setup::Stop::config(&p))?;
    let mirror = crate::mirror::Mirror::open_read_only(&config.database, config.lock_timeout).map_err(mirror_stop)?;
    Ok((config, mirror))
}

/// A mirror that cannot be read stops a read-only command with exit 4.
pub fn mirror_stop(e: crate::mirror::MirrorError) -> setup::Stop {
    setup::Stop::new(crate::exit::Exit::Unavailable, e.to_string())
}

/// The end of the read-only commands: prints what they found (as JSON, or as `text` writes
/// it) and exits 0, or prints why they stopped.
pub fn print<T: serde::Serialize>(
    found: Result<T, setup::Stop>,
    output: Output,
    text: impl FnOnce(&mut std::io::StdoutLock<'static>, &T) -> std::io::Result<()>,
) -> crate::exit::Exit {
    let found = match found {
        Ok(f) => f,
        Err(stop) => return sync::fail(stop),
    };
    let mut out = std::io::stdout().lock();
    let _ = match output {
        Output::Json => serde_json::to_writer_pretty(&mut out, &found)
            .map_err(std::io::Error::from)
            .and_then(|()| std::io::Write::write_all(&mut out, b"\n")),
        Output::Text => text(&mut out, &found),
    };
    crate::exit::Exit::Ok
}
