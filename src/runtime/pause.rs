//! The sandbox helper image `k2d/pause:<version>`: a tiny static program that holds a pod's
//! namespaces, built by k2d itself and imported into the engine, so pods work offline.
//!
//! The program is a hand-written minimal static ELF (no crate provides a pause binary and no
//! image may be pulled): it sets SIGCHLD to SIG_IGN, so the kernel reaps zombies when the PID
//! namespace is shared, then waits for signals forever (`pause`, or `ppoll` where there is no
//! `pause` syscall). Machine code for x86_64, aarch64 and 32-bit ARM (EABI, hard-float).

use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt;

use crate::engine::Engine;

/// The repository of the pause image.
pub const REPOSITORY: &str = "k2d/pause";

/// The pause image of this k2d version.
pub fn image() -> String {
    format!("{REPOSITORY}:{}", env!("CARGO_PKG_VERSION"))
}

/// The machine a program is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arch {
    /// x86_64.
    X86_64,
    /// aarch64.
    Aarch64,
    /// 32-bit ARM, EABI5, hard-float.
    Armv7,
}

impl Arch {
    /// The machine k2d runs on (containers run on the same one), by `std::env::consts::ARCH`.
    pub fn current() -> Option<Arch> {
        match std::env::consts::ARCH {
            "x86_64" => Some(Arch::X86_64),
            "aarch64" => Some(Arch::Aarch64),
            "arm" => Some(Arch::Armv7),
            _ => None,
        }
    }
}

/// Signal numbers (the same on all three machines).
const SIGCHLD: u32 = 17;
const SIGTERM: u32 = 15;
const SIGINT: u32 = 2;
/// `sa_flags`: the handler comes with its own return path (the handler exits, so it is never
/// used; x86_64 refuses to deliver a signal without it).
const SA_RESTORER: u64 = 0x0400_0000;

/// The two `struct sigaction`s the program installs, as the kernel reads them (`handler`,
/// `flags`, `restorer`, `mask`, in words of `word` bytes, the mask 8 bytes): SIG_IGN for
/// SIGCHLD, and `handler` (which exits) for SIGTERM and SIGINT.
fn actions(word: usize, handler: u64) -> (Vec<u8>, Vec<u8>) {
    let put = |v: &mut Vec<u8>, x: u64| v.extend_from_slice(&x.to_le_bytes()[..word]);
    let mut ignore = Vec::new();
    put(&mut ignore, 1); // SIG_IGN
    put(&mut ignore, 0);
    put(&mut ignore, 0);
    ignore.extend_from_slice(&[0; 8]);
    let mut exit = Vec::new();
    put(&mut exit, handler);
    put(&mut exit, SA_RESTORER);
    put(&mut exit, handler);
    exit.extend_from_slice(&[0; 8]);
    (ignore, exit)
}

/// x86_64 machine code loaded at `at`: rt_sigaction (13) for SIGCHLD, SIGTERM and SIGINT, then
/// a loop on pause (34); the handler calls exit_group (231) with 0.
fn code_x86_64(at: u64) -> Vec<u8> {
    let mut c: Vec<u8> = Vec::new();
    // (offset of a rip-relative displacement, offset its instruction ends at, which action)
    let mut fixups: Vec<(usize, usize, bool)> = Vec::new();
    for (signal, ignore) in [(SIGCHLD, true), (SIGTERM, false), (SIGINT, false)] {
        c.push(0xbf); // mov edi, signal
        c.extend_from_slice(&signal.to_le_bytes());
        c.extend_from_slice(&[0x48, 0x8d, 0x35]); // lea rsi, [rip + action]
        fixups.push((c.len(), c.len() + 4, ignore));
        c.extend_from_slice(&[0; 4]);
        c.extend_from_slice(&[0x31, 0xd2]); // xor edx, edx (no old action)
        c.extend_from_slice(&[0x41, 0xba, 0x08, 0x00, 0x00, 0x00]); // mov r10d, 8 (sigset size)
        c.extend_from_slice(&[0xb8, 0x0d, 0x00, 0x00, 0x00]); // mov eax, 13 (rt_sigaction)
        c.extend_from_slice(&[0x0f, 0x05]); // syscall
    }
    c.extend_from_slice(&[0xb8, 0x22, 0x00, 0x00, 0x00]); // loop: mov eax, 34 (pause)
    c.extend_from_slice(&[0x0f, 0x05]); // syscall
    c.extend_from_slice(&[0xeb, 0xf7]); // jmp loop
    let handler = c.len();
    c.extend_from_slice(&[0xb8, 0xe7, 0x00, 0x00, 0x00]); // mov eax, 231 (exit_group)
    c.extend_from_slice(&[0x31, 0xff]); // xor edi, edi
    c.extend_from_slice(&[0x0f, 0x05]); // syscall
    while !c.len().is_multiple_of(8) {
        c.push(0x90); // nop
    }
    let (ignore, exit) = actions(8, at + handler as u64);
    let ignore_at = c.len();
    c.extend_from_slice(&ignore);
    let exit_at = c.len();
    c.extend_from_slice(&exit);
    for (at, end, ignore) in fixups {
        let target = if ignore { ignore_at } else { exit_at };
        c[at..at + 4].copy_from_slice(&((target - end) as u32).to_le_bytes());
    }
    c
}

/// aarch64 `adr xd, pc + offset`.
fn adr(rd: u32, offset: usize) -> u32 {
    let imm = offset as u32;
    0x1000_0000 | ((imm & 3) << 29) | (((imm >> 2) & 0x7ffff) << 5) | rd
}

/// aarch64 `movz xd, #imm`.
fn movz(rd: u32, imm: u32) -> u32 {
    0xd280_0000 | ((imm & 0xffff) << 5) | rd
}

/// aarch64 machine code loaded at `at`: rt_sigaction is syscall 134; there is no pause, so
/// ppoll (73) with no descriptors and no timeout waits for a signal; exit_group is 94.
fn code_aarch64(at: u64) -> Vec<u8> {
    const SVC: u32 = 0xd400_0001;
    let mut w: Vec<u32> = Vec::new();
    // (word index of an adr, which action)
    let mut fixups: Vec<(usize, bool)> = Vec::new();
    for (signal, ignore) in [(SIGCHLD, true), (SIGTERM, false), (SIGINT, false)] {
        w.push(movz(0, signal));
        fixups.push((w.len(), ignore));
        w.push(0); // adr x1, action
        w.extend([movz(2, 0), movz(3, 8), movz(8, 134), SVC]);
    }
    let top = w.len();
    w.extend([
        movz(0, 0),
        movz(1, 0),
        movz(2, 0),
        movz(3, 0),
        movz(8, 73),
        SVC,
    ]);
    let back = (top as i64 - w.len() as i64) as u32 & 0x03ff_ffff;
    w.push(0x1400_0000 | back); // b loop
    let handler = w.len() * 4;
    w.extend([movz(0, 0), movz(8, 94), SVC]);
    if !w.len().is_multiple_of(2) {
        w.push(0xd503_201f); // nop
    }
    let ignore_at = w.len() * 4;
    let exit_at = ignore_at + 32;
    for (i, ignore) in fixups {
        let target = if ignore { ignore_at } else { exit_at };
        w[i] = adr(1, target - i * 4);
    }
    let mut c: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
    let (ignore, exit) = actions(8, at + handler as u64);
    c.extend_from_slice(&ignore);
    c.extend_from_slice(&exit);
    c
}

/// 32-bit ARM (ARM state, EABI) machine code loaded at `at`: rt_sigaction is syscall 174,
/// pause 29, exit_group 248; the number goes in r7.
fn code_armv7(at: u64) -> Vec<u8> {
    const SVC: u32 = 0xef00_0000;
    let mov = |rd: u32, imm: u32| 0xe3a0_0000 | (rd << 12) | (imm & 0xff);
    let mut w: Vec<u32> = Vec::new();
    let mut fixups: Vec<(usize, bool)> = Vec::new();
    for (signal, ignore) in [(SIGCHLD, true), (SIGTERM, false), (SIGINT, false)] {
        w.push(mov(0, signal));
        fixups.push((w.len(), ignore));
        w.push(0); // add r1, pc, #offset (pc reads 8 ahead)
        w.extend([mov(2, 0), mov(3, 8), mov(7, 174), SVC]);
    }
    let top = w.len();
    w.extend([mov(7, 29), SVC]);
    let back = (top as i64 - (w.len() as i64 + 2)) as u32 & 0x00ff_ffff;
    w.push(0xea00_0000 | back); // b loop
    let handler = w.len() * 4;
    w.extend([mov(0, 0), mov(7, 248), SVC]);
    let ignore_at = w.len() * 4;
    let exit_at = ignore_at + 20;
    for (i, ignore) in fixups {
        let target = if ignore { ignore_at } else { exit_at };
        let offset = (target - (i * 4 + 8)) as u32;
        debug_assert!(offset < 256, "fits an ARM immediate");
        w[i] = 0xe28f_1000 | offset;
    }
    let mut c: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
    let (ignore, exit) = actions(4, at + handler as u64);
    c.extend_from_slice(&ignore);
    c.extend_from_slice(&exit);
    c
}

/// The whole executable for `arch`: an ELF header, one loadable read+execute segment holding
/// the file, and the code right after the headers.
pub fn elf(arch: Arch) -> Vec<u8> {
    match arch {
        Arch::X86_64 => elf64(62, 0, &code_x86_64(ELF64_ENTRY)),
        Arch::Aarch64 => elf64(183, 0, &code_aarch64(ELF64_ENTRY)),
        // EF_ARM_EABI_VER5 | EF_ARM_ABI_FLOAT_HARD.
        Arch::Armv7 => elf32(40, 0x0500_0400, &code_armv7(ELF32_ENTRY)),
    }
}

/// Where the code of a 64-bit program is loaded: right after its headers.
const ELF64_ENTRY: u64 = 0x40_0000 + 64 + 56;
/// Where the code of a 32-bit program is loaded.
const ELF32_ENTRY: u64 = 0x1_0000 + 52 + 32;

const PT_LOAD: u32 = 1;
const PF_R_X: u32 = 5;

fn ident(class: u8) -> [u8; 16] {
    // Magic, class, little-endian, version 1, System V ABI.
    [
        0x7f, b'E', b'L', b'F', class, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]
}

fn elf64(machine: u16, flags: u32, code: &[u8]) -> Vec<u8> {
    const EHDR: u64 = 64;
    const PHDR: u64 = 56;
    const BASE: u64 = 0x40_0000;
    let size = EHDR + PHDR + code.len() as u64;
    let mut f = Vec::with_capacity(size as usize);
    f.extend_from_slice(&ident(2));
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&machine.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes()); // version
    f.extend_from_slice(&(BASE + EHDR + PHDR).to_le_bytes()); // entry
    f.extend_from_slice(&EHDR.to_le_bytes()); // phoff
    f.extend_from_slice(&0u64.to_le_bytes()); // shoff
    f.extend_from_slice(&flags.to_le_bytes());
    f.extend_from_slice(&(EHDR as u16).to_le_bytes());
    f.extend_from_slice(&(PHDR as u16).to_le_bytes());
    f.extend_from_slice(&1u16.to_le_bytes()); // phnum
    f.extend_from_slice(&64u16.to_le_bytes()); // shentsize
    f.extend_from_slice(&0u16.to_le_bytes()); // shnum
    f.extend_from_slice(&0u16.to_le_bytes()); // shstrndx
    f.extend_from_slice(&PT_LOAD.to_le_bytes());
    f.extend_from_slice(&PF_R_X.to_le_bytes());
    f.extend_from_slice(&0u64.to_le_bytes()); // offset
    f.extend_from_slice(&BASE.to_le_bytes()); // vaddr
    f.extend_from_slice(&BASE.to_le_bytes()); // paddr
    f.extend_from_slice(&size.to_le_bytes()); // filesz
    f.extend_from_slice(&size.to_le_bytes()); // memsz
    f.extend_from_slice(&0x1000u64.to_le_bytes()); // align
    f.extend_from_slice(code);
    f
}

fn elf32(machine: u16, flags: u32, code: &[u8]) -> Vec<u8> {
    const EHDR: u32 = 52;
    const PHDR: u32 = 32;
    const BASE: u32 = 0x1_0000;
    let size = EHDR + PHDR + code.len() as u32;
    let mut f = Vec::with_capacity(size as usize);
    f.extend_from_slice(&ident(1));
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&machine.to_le_bytes());
    f.extend_from_slice(&1u32.to_le_bytes()); // version
    f.extend_from_slice(&(BASE + EHDR + PHDR).to_le_bytes()); // entry
    f.extend_from_slice(&EHDR.to_le_bytes()); // phoff
    f.extend_from_slice(&0u32.to_le_bytes()); // shoff
    f.extend_from_slice(&flags.to_le_bytes());
    f.extend_from_slice(&(EHDR as u16).to_le_bytes());
    f.extend_from_slice(&(PHDR as u16).to_le_bytes());
    f.extend_from_slice(&1u16.to_le_bytes()); // phnum
    f.extend_from_slice(&40u16.to_le_bytes()); // shentsize
    f.extend_from_slice(&0u16.to_le_bytes()); // shnum
    f.extend_from_slice(&0u16.to_le_bytes()); // shstrndx
    f.extend_from_slice(&PT_LOAD.to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes()); // offset
    f.extend_from_slice(&BASE.to_le_bytes()); // vaddr
    f.extend_from_slice(&BASE.to_le_bytes()); // paddr
    f.extend_from_slice(&size.to_le_bytes()); // filesz
    f.extend_from_slice(&size.to_le_bytes()); // memsz
    f.extend_from_slice(&PF_R_X.to_le_bytes());
    f.extend_from_slice(&0x1000u32.to_le_bytes()); // align
    f.extend_from_slice(code);
    f
}

/// A tar archive holding `/pause` (mode 0755).
pub fn rootfs(arch: Arch) -> std::io::Result<Vec<u8>> {
    let program = elf(arch);
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(program.len() as u64);
    h.set_mode(0o755);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_entry_type(tar::EntryType::Regular);
    b.append_data(&mut h, "pause", program.as_slice())?;
    b.into_inner()
}

/// Makes sure the pause image exists in the engine, importing it when missing.
pub async fn ensure(engine: &Engine) -> Result<String, String> {
    let docker = engine.docker();
    let name = image();
    let arch = Arch::current().ok_or_else(|| {
        format!(
            "no pause program for {}: pods need x86_64, aarch64 or arm",
            std::env::consts::ARCH
        )
    })?;
    let program = digest(arch);
    if let Ok(found) = docker.inspect_image(&name).await {
        let current = found
            .config
            .as_ref()
            .and_then(|c| c.labels.as_ref())
            .and_then(|l| l.get(PROGRAM_LABEL))
            .is_some_and(|d| *d == program);
        if current {
            return Ok(name);
        }
    }
    let tar = rootfs(arch).map_err(|e| format!("building the pause image: {e}"))?;
    // Written so that Docker and Podman 4.x read it alike: Podman ignores `tag` (the tag goes
    // in `repo`, which Docker accepts too) and takes the `changes` value (bollard joins the
    // list with newlines) as one instruction whose LABEL holds one key. So: one change, one
    // label; the sandbox names the command itself (`CMD_LINE`).
    let opts = CreateImageOptions {
        from_src: Some("-".into()),
        repo: Some(name.clone()),
        changes: vec![format!("LABEL {PROGRAM_LABEL}={program}")],
        ..Default::default()
    };
    let mut stream = docker.create_image(Some(opts), Some(bollard::body_full(tar.into())), None);
    while let Some(step) = stream.next().await {
        step.map_err(|e| format!("importing {name}: {e}"))?;
    }
    tracing::info!("imported the pod sandbox image {name}");
    Ok(name)
}

/// The label holding the digest of the pause program in the image: an image of the same
/// version with another program (a development build) is imported again. It also marks the
/// image as k2d's own.
const PROGRAM_LABEL: &str = "io.k2d.pause.sha256";

/// The command of a sandbox container: the pause program (the image has no CMD of its own).
pub const CMD_LINE: &str = "/pause";

/// The SHA-256 of the program for `arch`, in hex.
fn digest(arch: Arch) -> String {
    ring::digest::digest(&ring::digest::SHA256, &elf(arch))
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }
    fn u64_at(b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
    }

    #[test]
    fn elf64_headers() {
        for (arch, machine) in [(Arch::X86_64, 62), (Arch::Aarch64, 183)] {
            let f = elf(arch);
            assert_eq!(&f[..8], &[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
            assert_eq!(u16_at(&f, 16), 2, "ET_EXEC");
            assert_eq!(u16_at(&f, 18), machine);
            assert_eq!(
                u64_at(&f, 24),
                0x40_0000 + 120,
                "entry right after the headers"
            );
            assert_eq!(u64_at(&f, 32), 64, "program headers follow the ELF header");
            assert_eq!(u16_at(&f, 54), 56);
            assert_eq!(u16_at(&f, 56), 1);
            assert_eq!(u32_at(&f, 64), 1, "PT_LOAD");
            assert_eq!(u32_at(&f, 68), 5, "readable and executable");
            assert_eq!(u64_at(&f, 96), f.len() as u64, "the whole file is loaded");
        }
    }

    #[test]
    fn elf32_arm_hard_float_headers() {
        let f = elf(Arch::Armv7);
        assert_eq!(&f[..8], &[0x7f, b'E', b'L', b'F', 1, 1, 1, 0]);
        assert_eq!(u16_at(&f, 18), 40);
        assert_eq!(u32_at(&f, 24), 0x1_0000 + 84);
        assert_eq!(u32_at(&f, 36), 0x0500_0400);
        assert_eq!(u32_at(&f, 52), 1, "PT_LOAD");
        assert_eq!(u32_at(&f, 68), f.len() as u32);
    }

    #[test]
    fn code_points_at_the_actions() {
        // x86_64: the first lea lands on SIG_IGN (1); the second on the exit handler, whose
        // address is that of `mov eax, 231`.
        let at = 0x1000;
        let c = code_x86_64(at);
        assert_eq!(&c[..5], &[0xbf, 17, 0, 0, 0]);
        let disp = u32_at(&c, 8) as usize;
        assert_eq!(u64_at(&c, 12 + disp), 1);
        let disp = u32_at(&c, 35) as usize;
        let handler = u64_at(&c, 39 + disp) - at;
        assert_eq!(
            &c[handler as usize..handler as usize + 5],
            &[0xb8, 0xe7, 0, 0, 0]
        );
        assert_eq!(u64_at(&c, 39 + disp + 8), SA_RESTORER);
        // aarch64: the first adr (word 1) points at SIG_IGN; the handler sets x8 to 94.
        let c = code_aarch64(at);
        let word = u32_at(&c, 4);
        assert_eq!(word & 0x9f00_001f, 0x1000_0001, "adr x1");
        let offset = (((word >> 5) & 0x7ffff) << 2 | ((word >> 29) & 3)) as usize;
        assert_eq!(u64_at(&c, 4 + offset), 1);
        let exit = 4 + offset + 32;
        let handler = (u64_at(&c, exit) - at) as usize;
        assert_eq!(u32_at(&c, handler + 4), movz(8, 94));
        // arm: add r1, pc, #imm at offset 4 (pc reads 12).
        let c = code_armv7(at);
        let imm = (u32_at(&c, 4) & 0xff) as usize;
        assert_eq!(u32_at(&c, 12 + imm), 1);
        let handler = (u32_at(&c, 12 + imm + 20) as u64 - at) as usize;
        assert_eq!(u32_at(&c, handler + 4), 0xe3a0_70f8, "mov r7, #248");
        // The loops branch back to their start.
        assert_eq!(u32_at(&c, handler - 4), 0xeaff_fffc);
    }

    #[test]
    fn rootfs_holds_an_executable_pause() {
        let tar = rootfs(Arch::X86_64).unwrap();
        let mut archive = tar::Archive::new(tar.as_slice());
        let entries: Vec<_> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().to_string_lossy().to_string(),
                    e.header().mode().unwrap(),
                )
            })
            .collect();
        assert_eq!(entries, vec![("pause".to_string(), 0o755)]);
    }

    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    #[test]
    fn the_program_runs_and_waits() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("k2d-pause-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pause");
        std::fs::write(&path, elf(Arch::X86_64)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut child = std::process::Command::new(&path).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(child.try_wait().unwrap().is_none(), "pause exited early");
        // SIGTERM ends it at once, with status 0.
        let pid = child.id().to_string();
        let killed = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "pause ignored SIGTERM"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(0));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Runs the aarch64 and arm programs under qemu-user (`qemu-aarch64`, `qemu-arm`): they
    /// must wait, then exit 0 on SIGTERM. Run with `cargo test -- --ignored` where qemu-user
    /// is installed.
    #[cfg(target_os = "linux")]
    #[test]
    #[ignore = "needs qemu-user (qemu-aarch64, qemu-arm)"]
    fn foreign_programs_run_under_qemu() {
        use std::os::unix::fs::PermissionsExt;
        for (arch, emulator) in [(Arch::Aarch64, "qemu-aarch64"), (Arch::Armv7, "qemu-arm")] {
            let dir =
                std::env::temp_dir().join(format!("k2d-pause-{emulator}-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("pause");
            std::fs::write(&path, elf(arch)).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            let mut child = std::process::Command::new(emulator)
                .arg(&path)
                .spawn()
                .unwrap_or_else(|e| panic!("{emulator}: {e}"));
            std::thread::sleep(std::time::Duration::from_millis(500));
            assert!(
                child.try_wait().unwrap().is_none(),
                "{emulator}: exited early"
            );
            let pid = child.id().to_string();
            std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            let status = loop {
                if let Some(s) = child.try_wait().unwrap() {
                    break s;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "{emulator}: SIGTERM ignored"
                );
                std::thread::sleep(std::time::Duration::from_millis(20));
            };
            assert_eq!(status.code(), Some(0), "{emulator}");
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
