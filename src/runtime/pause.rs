//! The sandbox helper image `k2d/pause:<version>`: a tiny static program that holds a pod's
//! namespaces, built by k2d itself and imported into the engine, so pods work offline.
//!
//! The program is a hand-written minimal static ELF (no crate provides a pause binary and no
//! image may be pulled): it sets SIGCHLD to SIG_IGN, so the kernel reaps zombies when the PID
//! namespace is shared, then waits for signals forever (`pause`, or `ppoll` where there is no
//! `pause` syscall). Machine code for x86_64, aarch64 and 32-bit ARM (EABI, hard-float).

use bollard::query_parameters::CreateImageOptions;
use futures_util::StreamExt;

use crate::engine::{Engine, labels};

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

/// Machine code: set SIGCHLD (17) to SIG_IGN with rt_sigaction, then loop on pause (x86_64:
/// syscall 13 and 34). The `struct sigaction` follows the code: handler 1 (SIG_IGN), flags,
/// restorer and mask zero.
fn code_x86_64() -> Vec<u8> {
    let mut c = vec![
        0xbf, 0x11, 0x00, 0x00, 0x00, // mov edi, 17 (SIGCHLD)
        0x48, 0x8d, 0x35, 0x00, 0x00, 0x00, 0x00, // lea rsi, [rip + act] (patched below)
        0x31, 0xd2, // xor edx, edx (no old action)
        0x41, 0xba, 0x08, 0x00, 0x00, 0x00, // mov r10d, 8 (sigset size)
        0xb8, 0x0d, 0x00, 0x00, 0x00, // mov eax, 13 (rt_sigaction)
        0x0f, 0x05, // syscall
        0xb8, 0x22, 0x00, 0x00, 0x00, // loop: mov eax, 34 (pause)
        0x0f, 0x05, // syscall
        0xeb, 0xf7, // jmp loop
    ];
    // The displacement of `lea` counts from the end of that instruction (offset 12).
    let act = c.len() as u32;
    c[8..12].copy_from_slice(&(act - 12).to_le_bytes());
    c.extend_from_slice(&1u64.to_le_bytes());
    c.extend_from_slice(&[0; 24]);
    c
}

/// aarch64: rt_sigaction is syscall 134; there is no pause, so ppoll (73) with no descriptors
/// and no timeout waits for a signal.
fn code_aarch64() -> Vec<u8> {
    let words: [u32; 14] = [
        0xd280_0220, // mov x0, #17 (SIGCHLD)
        0x1000_01a1, // adr x1, act (52 bytes ahead)
        0xd280_0002, // mov x2, #0
        0xd280_0103, // mov x3, #8 (sigset size)
        0xd280_10c8, // mov x8, #134 (rt_sigaction)
        0xd400_0001, // svc #0
        0xd280_0000, // loop: mov x0, #0
        0xd280_0001, // mov x1, #0
        0xd280_0002, // mov x2, #0
        0xd280_0003, // mov x3, #0
        0xd280_0928, // mov x8, #73 (ppoll)
        0xd400_0001, // svc #0
        0x17ff_fffa, // b loop
        0xd503_201f, // nop (aligns act to 8 bytes)
    ];
    let mut c: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    c.extend_from_slice(&1u64.to_le_bytes());
    c.extend_from_slice(&[0; 24]);
    c
}

/// 32-bit ARM (ARM state, EABI): rt_sigaction is syscall 174, pause 29; the number goes in r7.
fn code_armv7() -> Vec<u8> {
    let words: [u32; 9] = [
        0xe3a0_0011, // mov r0, #17 (SIGCHLD)
        0xe28f_1018, // add r1, pc, #24 (act; pc reads 8 ahead)
        0xe3a0_2000, // mov r2, #0
        0xe3a0_3008, // mov r3, #8 (sigset size)
        0xe3a0_70ae, // mov r7, #174 (rt_sigaction)
        0xef00_0000, // svc #0
        0xe3a0_701d, // loop: mov r7, #29 (pause)
        0xef00_0000, // svc #0
        0xeaff_fffc, // b loop
    ];
    let mut c: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    c.extend_from_slice(&1u32.to_le_bytes());
    c.extend_from_slice(&[0; 16]);
    c
}

/// The whole executable for `arch`: an ELF header, one loadable read+execute segment holding
/// the file, and the code right after the headers.
pub fn elf(arch: Arch) -> Vec<u8> {
    match arch {
        Arch::X86_64 => elf64(62, 0, &code_x86_64()),
        Arch::Aarch64 => elf64(183, 0, &code_aarch64()),
        // EF_ARM_EABI_VER5 | EF_ARM_ABI_FLOAT_HARD.
        Arch::Armv7 => elf32(40, 0x0500_0400, &code_armv7()),
    }
}

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
    if docker.inspect_image(&name).await.is_ok() {
        return Ok(name);
    }
    let arch = Arch::current().ok_or_else(|| {
        format!(
            "no pause program for {}: pods need x86_64, aarch64 or arm",
            std::env::consts::ARCH
        )
    })?;
    let tar = rootfs(arch).map_err(|e| format!("building the pause image: {e}"))?;
    let opts = CreateImageOptions {
        from_src: Some("-".into()),
        repo: Some(REPOSITORY.into()),
        tag: Some(env!("CARGO_PKG_VERSION").into()),
        changes: vec![
            "CMD [\"/pause\"]".into(),
            format!("LABEL {}=pause", labels::IMAGE),
        ],
        ..Default::default()
    };
    let mut stream = docker.create_image(Some(opts), Some(bollard::body_full(tar.into())), None);
    while let Some(step) = stream.next().await {
        step.map_err(|e| format!("importing {name}: {e}"))?;
    }
    tracing::info!("imported the pod sandbox image {name}");
    Ok(name)
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
    fn code_points_at_an_ignore_action() {
        // x86_64: the lea displacement lands on the handler word SIG_IGN (1).
        let c = code_x86_64();
        let disp = u32_at(&c, 8) as usize;
        assert_eq!(u64_at(&c, 12 + disp), 1);
        // aarch64: adr at offset 4 with immhi 13 → 52 bytes ahead.
        let c = code_aarch64();
        assert_eq!(u64_at(&c, 4 + 52), 1);
        // arm: add r1, pc, #24 at offset 4 (pc = 12).
        let c = code_armv7();
        assert_eq!(u32_at(&c, 12 + 24), 1);
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
        child.kill().unwrap();
        child.wait().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
