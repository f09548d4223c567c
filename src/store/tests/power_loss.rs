//! Power loss: a simulated disk keeps only what was synced, plus a random
//! subset of the 512-byte sectors written since the last sync (in any
//! order, as a disk cache or an SD card's controller may persist them).
//! The store is cut at a random moment, in the middle of a write or not, and
//! the image left behind must open with every acknowledged write intact.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};

use super::{Rng, TempDir, cm, name, rv};
use crate::store::{STORE_FILE, Store, StoreOptions};

const SECTOR: usize = 512;
const NAMESPACE: &str = "power";

/// What the disk holds for sure, what the process sees, and what was written
/// in between.
#[derive(Debug)]
struct Disk {
    durable: Vec<u8>,
    volatile: Vec<u8>,
    pending: Vec<Pending>,
    /// The disk operation at which the power goes off.
    cut_at: u64,
    operations: u64,
    /// The image left on the platter when the power went off.
    image: Option<Vec<u8>>,
    /// Whether unsynced writes were pending when the power went off.
    cut_mid_write: bool,
    rng: Rng,
}

#[derive(Debug)]
enum Pending {
    Write(u64, Vec<u8>),
    SetLen(u64),
}

impl Disk {
    fn tick(&mut self) {
        self.operations += 1;
        if self.operations == self.cut_at && self.image.is_none() {
            self.cut_mid_write = !self.pending.is_empty();
            self.image = Some(self.cut());
        }
    }

    /// What survives a power cut now: the durable image, with each pending
    /// sector kept or lost at random.
    fn cut(&mut self) -> Vec<u8> {
        let mut image = self.durable.clone();
        for op in &self.pending {
            match op {
                Pending::SetLen(len) => image.resize(*len as usize, 0),
                Pending::Write(offset, data) => {
                    for (i, sector) in data.chunks(SECTOR).enumerate() {
                        if self.rng.below(2) == 0 {
                            continue;
                        }
                        let at = *offset as usize + i * SECTOR;
                        if image.len() < at + sector.len() {
                            image.resize(at + sector.len(), 0);
                        }
                        image[at..at + sector.len()].copy_from_slice(sector);
                    }
                }
            }
        }
        image
    }
}

/// The redb storage backend over a shared [`Disk`].
#[derive(Debug, Clone)]
struct PowerLossBackend(Arc<Mutex<Disk>>);

impl PowerLossBackend {
    fn disk(&self) -> MutexGuard<'_, Disk> {
        self.0.lock().unwrap()
    }
}

impl redb::StorageBackend for PowerLossBackend {
    fn len(&self) -> Result<u64, io::Error> {
        Ok(self.disk().volatile.len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), io::Error> {
        let disk = self.disk();
        let start = offset as usize;
        let bytes = disk
            .volatile
            .get(start..start + out.len())
            .ok_or_else(|| io::Error::from(io::ErrorKind::UnexpectedEof))?;
        out.copy_from_slice(bytes);
        Ok(())
    }

    fn set_len(&self, len: u64) -> Result<(), io::Error> {
        let mut disk = self.disk();
        disk.tick();
        disk.volatile.resize(len as usize, 0);
        disk.pending.push(Pending::SetLen(len));
        Ok(())
    }

    fn sync_data(&self) -> Result<(), io::Error> {
        let mut disk = self.disk();
        disk.tick();
        disk.durable = disk.volatile.clone();
        disk.pending.clear();
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), io::Error> {
        let mut disk = self.disk();
        disk.tick();
        let start = offset as usize;
        if disk.volatile.len() < start + data.len() {
            disk.volatile.resize(start + data.len(), 0);
        }
        disk.volatile[start..start + data.len()].copy_from_slice(data);
        disk.pending.push(Pending::Write(offset, data.to_vec()));
        Ok(())
    }
}

/// What a run acknowledged: name to revision and data (`None` once
/// deleted), and the last acknowledged revision. `None` when the power went
/// off while the store was being created: the real file is built under
/// another name and renamed only once complete, so nothing would be left.
type Acked = Option<(BTreeMap<String, Option<(u64, Value)>>, u64)>;

/// Writes (creates, updates, deletes) until the power goes off.
fn run_until_cut(disk: &Arc<Mutex<Disk>>, writes: u64) -> Acked {
    let backend = PowerLossBackend(disk.clone());
    let cut = || backend.disk().image.is_some();
    let store = Store::open_backend(backend.clone(), StoreOptions::default()).unwrap();
    if cut() {
        return None;
    }
    let mut acked = BTreeMap::new();
    let mut last = store.current_revision();
    for n in 0..writes {
        let target = cm(NAMESPACE, &format!("o{}", n / 3));
        let data = json!({"n": n, "pad": "q".repeat((n as usize * 97) % 1500)});
        let obj = json!({"metadata": {"name": target.name}, "data": data});
        let result = match n % 3 {
            0 => store.create(&target, obj),
            1 => store.update(&target, obj, None),
            _ if n % 2 == 0 => store.delete(&target, None),
            _ => store.update(&target, obj, None),
        };
        // A write during which the power went off was never acknowledged.
        if cut() {
            break;
        }
        let stored = result.unwrap();
        last = rv(&stored);
        let state = (n % 3 != 2 || n % 2 != 0).then_some((last, data));
        acked.insert(target.name, state);
    }
    Some((acked, last))
}

#[test]
fn every_acknowledged_write_survives_power_loss() {
    const WRITES: u64 = 40;
    const TRIALS: u64 = 100;
    // How many disk operations a whole run takes.
    let total_ops = {
        let disk = new_disk(u64::MAX, 1);
        run_until_cut(&disk, WRITES);
        disk.lock().unwrap().operations
    };
    let mut rng = Rng::from_clock();
    let dir = TempDir::new("power");
    let mut cuts_mid_write = 0;
    let mut cuts_at_creation = 0;
    for trial in 0..TRIALS {
        let cut_at = 1 + rng.below(total_ops);
        let disk = new_disk(cut_at, rng.below(u64::MAX - 1) + 1);
        let Some((acked, last)) = run_until_cut(&disk, WRITES) else {
            cuts_at_creation += 1;
            continue;
        };
        let image = disk.lock().unwrap().image.take();
        let Some(image) = image else {
            panic!("trial {trial}: the power cut at {cut_at} never came");
        };
        if disk.lock().unwrap().cut_mid_write {
            cuts_mid_write += 1;
        }
        std::fs::write(dir.path().join(STORE_FILE), &image).unwrap();
        let store = Store::open(dir.path()).unwrap_or_else(|e| {
            panic!("trial {trial} (cut at {cut_at}/{total_ops}): the store does not open: {e}")
        });
        let current = store.current_revision();
        assert!(current >= last, "trial {trial}: {current} < {last}");
        let (items, _) = store.list("", "configmaps", Some(NAMESPACE)).unwrap();
        let found: BTreeMap<String, (u64, Value)> = items
            .iter()
            .map(|o| (name(o).to_owned(), (rv(o), o["data"].clone())))
            .collect();
        for (name, state) in &acked {
            match (state, found.get(name)) {
                (Some(expected), Some(got)) if got == expected => {}
                // The one write in flight at the cut may have landed.
                (_, Some((rev, _))) if *rev > last => {}
                (None, None) => {}
                (Some(_), None) if current > last => {}
                (state, got) => panic!(
                    "trial {trial} (cut at {cut_at}): {name} acknowledged as {state:?}, found {got:?}"
                ),
            }
        }
        assert!(
            found.len() <= acked.len() + 1,
            "trial {trial}: unknown objects appeared"
        );
        drop(store);
    }
    eprintln!(
        "{TRIALS} power cuts over {total_ops} disk operations: {cuts_at_creation} while creating \
         the store, {cuts_mid_write} with unsynced writes lost or torn"
    );
    assert!(cuts_mid_write > 0);
}

fn new_disk(cut_at: u64, seed: u64) -> Arc<Mutex<Disk>> {
    Arc::new(Mutex::new(Disk {
        durable: Vec::new(),
        volatile: Vec::new(),
        pending: Vec::new(),
        cut_at,
        operations: 0,
        image: None,
        cut_mid_write: false,
        rng: Rng(seed),
    }))
}
