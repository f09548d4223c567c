//! Giving freed memory back to the system.
//!
//! glibc's allocator keeps what a burst of work freed (a hundred pods created, a namespace
//! deleted): one arena per thread that ever allocated, and free chunks below a live one are
//! never returned. Measured with 100 pods, k2d held about 95 MB of heap that way while 7.5 MB
//! was in use. So, on glibc: one arena, large buffers in their own mappings (returned at
//! once when freed), and, once k2d has been quiet for [`QUIET`] after some work, one
//! `malloc_trim`, which returns every free page of the heap. Nothing runs while nothing
//! happens. Other C libraries (musl) return memory on their own and get none of this.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// How long k2d must be quiet before freed memory is returned.
pub const QUIET: Duration = Duration::from_secs(2);

static PENDING: AtomicBool = AtomicBool::new(false);
static WAKE: Notify = Notify::const_new();

/// Sets the allocator up; call first thing in `main`, before any thread starts.
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
        // A fixed threshold also stops glibc from raising it after large frees, which is
        // what lets big freed buffers stay in the heap.
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 * 1024);
    }
}

/// Records that work happened: freed memory is returned once k2d is quiet again. Cheap
/// enough to call on every request and every write.
pub fn activity() {
    if !PENDING.swap(true, Ordering::AcqRel) {
        WAKE.notify_one();
    }
}

/// Returns freed memory after each burst of work; sleeps while nothing happens. Spawn once.
pub async fn trim_when_quiet() {
    loop {
        WAKE.notified().await;
        if !PENDING.load(Ordering::Acquire) {
            // A wake-up left over from a burst already trimmed.
            continue;
        }
        while PENDING.swap(false, Ordering::AcqRel) {
            tokio::time::sleep(QUIET).await;
        }
        trim();
    }
}

fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim is thread-safe and only releases free memory.
    unsafe {
        libc::malloc_trim(0);
    }
}
