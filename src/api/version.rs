//! `/version`: the Kubernetes version k2d speaks for, with k2d's own version as semver build
//! metadata (`v1.35.0+k2d.0.1.0`). Never a `-` pre-release suffix: Helm rejects charts'
//! `kubeVersion` constraints against one.

use serde::Serialize;

/// The Kubernetes release whose API the spec was trimmed from.
pub const KUBERNETES_MAJOR: &str = "1";
/// Minor version of that release.
pub const KUBERNETES_MINOR: &str = "35";
/// Patch version of that release.
pub const KUBERNETES_PATCH: &str = "0";

/// The `/version` document.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Info {
    /// Major version.
    pub major: &'static str,
    /// Minor version.
    pub minor: &'static str,
    /// Emulated major version.
    pub emulation_major: &'static str,
    /// Emulated minor version.
    pub emulation_minor: &'static str,
    /// Oldest compatible major version.
    pub min_compatibility_major: &'static str,
    /// Oldest compatible minor version.
    pub min_compatibility_minor: &'static str,
    /// `v1.35.0+k2d.<k2d version>`.
    pub git_version: String,
    /// Source commit, when the build knows it.
    pub git_commit: &'static str,
    /// `clean`.
    pub git_tree_state: &'static str,
    /// Build date, when the build knows it.
    pub build_date: &'static str,
    /// The toolchain field clients print; k2d is not built with Go.
    pub go_version: &'static str,
    /// `rustc`.
    pub compiler: &'static str,
    /// `linux/amd64`, `linux/arm64`, `linux/arm`.
    pub platform: String,
}

/// The architecture in Go's words, as clients expect it in `platform`.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "arm" => "arm",
        "x86" => "386",
        other => other,
    }
}

/// The version document.
pub fn info() -> Info {
    Info {
        major: KUBERNETES_MAJOR,
        minor: KUBERNETES_MINOR,
        emulation_major: KUBERNETES_MAJOR,
        emulation_minor: KUBERNETES_MINOR,
        min_compatibility_major: KUBERNETES_MAJOR,
        min_compatibility_minor: "34",
        git_version: git_version(),
        git_commit: option_env!("K2D_GIT_COMMIT")
            .unwrap_or("0000000000000000000000000000000000000000"),
        git_tree_state: "clean",
        build_date: option_env!("K2D_BUILD_DATE").unwrap_or("1970-01-01T00:00:00Z"),
        go_version: "none",
        compiler: "rustc",
        platform: format!("{}/{}", std::env::consts::OS, go_arch()),
    }
}

/// `v1.35.0+k2d.0.1.0`.
pub fn git_version() -> String {
    format!(
        "v{KUBERNETES_MAJOR}.{KUBERNETES_MINOR}.{KUBERNETES_PATCH}+k2d.{}",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn git_version_is_semver_without_prerelease() {
        let v = super::git_version();
        let core = v.strip_prefix('v').unwrap().split('+').next().unwrap();
        assert!(!core.contains('-'), "{v}");
        assert_eq!(core.split('.').count(), 3);
        let meta = v.split_once('+').unwrap().1;
        assert!(
            meta.split('.')
                .all(|id| !id.is_empty()
                    && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        );
    }
}
