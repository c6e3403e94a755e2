//! Calls into sled that cannot crash the process. sled 0.34 answers some damaged files with a
//! panic (`tried to serialize Uninitialized`, failed `expect`s while recovering its log) rather
//! than an error; every sled call of the store goes through [`call`], which turns such a panic
//! into the store's "damaged" error, and a process-wide panic hook keeps sled's panic message
//! off stderr (it is reported once, as that error, instead).

use std::any::Any;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Set while this thread is inside [`call`]: a panic here is caught and reported.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

/// What a guarded sled call ended in.
pub(crate) enum Outcome<T> {
    Done(T),
    Failed(sled::Error),
    /// sled panicked; the text of its panic.
    Panicked(String),
}

/// Runs `f`, catching a panic inside it.
pub(crate) fn call<T>(f: impl FnOnce() -> sled::Result<T>) -> Outcome<T> {
    install_hook();
    let outer = GUARDED.with(|g| g.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(outer));
    match result {
        Ok(Ok(value)) => Outcome::Done(value),
        Ok(Err(error)) => Outcome::Failed(error),
        Err(payload) => Outcome::Panicked(panic_text(payload.as_ref())),
    }
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// A panic raised in sled's own source (its background flusher included).
fn in_sled(file: &str) -> bool {
    file.contains("/sled-0.") || file.contains("\\sled-0.")
}

fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if GUARDED.with(Cell::get) {
                // The caller reports it as a damaged store.
                return;
            }
            if info.location().is_some_and(|l| in_sled(l.file())) {
                // One of sled's own threads: nobody will see an error from it, so say it here.
                tracing::error!(
                    "the store's storage engine failed ({}); the store may be damaged: if the \
                     next command says so, run `stagesync reset --yes`",
                    panic_text(info.payload())
                );
                return;
            }
            previous(info)
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_a_call_becomes_an_outcome() {
        let out: Outcome<()> = call(|| panic!("tried to serialize Uninitialized"));
        assert!(
            matches!(&out, Outcome::Panicked(text) if text.contains("Uninitialized")),
            "caught"
        );
        assert!(matches!(call(|| Ok(7)), Outcome::Done(7)));
        assert!(!GUARDED.with(Cell::get), "the flag is cleared afterwards");
    }
}
