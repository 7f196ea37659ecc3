//! Pure work spread over the machine's cores.

/// `f` over `items` on every core, in order; small inputs stay on this thread.
/// Each core's results are handed out in turn and freed once consumed, so
/// the results are never held twice.
pub(crate) fn map<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> R + Sync,
) -> std::iter::Flatten<std::vec::IntoIter<Vec<R>>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let parts: Vec<Vec<R>> = if threads < 2 || items.len() < 4_096 {
        vec![items.iter().map(f).collect()]
    } else {
        let size = items.len().div_ceil(threads);
        let f = &f;
        std::thread::scope(|s| {
            let handles: Vec<_> = items
                .chunks(size)
                .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    parts.into_iter().flatten()
}
