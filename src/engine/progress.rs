//! The progress bar of an apply run: on stderr for a person at a terminal; nothing in JSON
//! mode or when stderr is not a terminal (a pipe, a file, the journal).

use super::apply::Progress;

pub(super) struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    /// A bar when `wanted` and stderr is a terminal; else one that draws nothing.
    pub(super) fn new(wanted: bool) -> Bar {
        let show = wanted && std::io::IsTerminal::is_terminal(&std::io::stderr());
        Bar(show.then(|| {
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} {pos}/{len} records [{wide_bar}] {per_sec} ETA {eta}",
            )
            .expect("a valid template");
            let bar = indicatif::ProgressBar::new(0).with_style(style);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar
        }))
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        if let Some(b) = &self.0 {
            b.set_length(total);
        }
    }
    fn advance(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
