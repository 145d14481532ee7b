//! Dependencies point one way (DESIGN §1, ADR 0028): a service never imports another
//! service's crate; it talks to it through HTTP or events whose payloads the owner publishes
//! in its `-api` crate, and an `-api` crate depends on no service and no database. Read from
//! the workspace's `cargo metadata`, so a new service is covered without being listed here.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// The folders whose crates are services (with their `-api` crates beside them).
const SERVICE_ROOTS: [&str; 3] = ["services", "tenants", "vendors"];

/// Service → service edges allowed for now, each with its reason.
const ALLOWED: [(&str, &str); 1] = [
    // Payments is a provider library (the test provider, Stripe) that checkout calls in
    // process; allowed until it moves to platform/ (docs/adr/0028-contract-crates.md).
    ("mercato-orders", "mercato-payments"),
];

/// What an `-api` crate must not pull in: it holds payloads, DTOs and pure rules.
const NOT_IN_CONTRACTS: [&str; 2] = ["mercato-db", "sea-orm"];

struct Package {
    name: String,
    /// Each dependency's package name and kind (`normal`, `dev`, `build`).
    deps: Vec<(String, String)>,
    /// Under one of [`SERVICE_ROOTS`].
    in_service_root: bool,
}

impl Package {
    fn is_contract(&self) -> bool {
        self.name.ends_with("-api")
    }

    fn is_service(&self) -> bool {
        self.in_service_root && !self.is_contract()
    }
}

fn workspace_packages() -> Vec<Package> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata's json");
    let root = Path::new(metadata["workspace_root"].as_str().expect("workspace_root"));
    let packages = metadata["packages"].as_array().expect("packages");
    packages
        .iter()
        .map(|package| {
            let manifest = Path::new(package["manifest_path"].as_str().expect("manifest_path"));
            let top = manifest
                .strip_prefix(root)
                .ok()
                .and_then(|path| path.components().next())
                .and_then(|first| first.as_os_str().to_str());
            let deps = package["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .map(|dep| {
                    let name = dep["name"].as_str().expect("dependency name").to_owned();
                    let kind = dep["kind"].as_str().unwrap_or("normal").to_owned();
                    (name, kind)
                })
                .collect();
            Package {
                name: package["name"].as_str().expect("name").to_owned(),
                deps,
                in_service_root: top.is_some_and(|top| SERVICE_ROOTS.contains(&top)),
            }
        })
        .collect()
}

#[test]
fn no_service_depends_on_another_service() {
    let packages = workspace_packages();
    let services: BTreeSet<&str> = packages
        .iter()
        .filter(|p| p.is_service())
        .map(|p| p.name.as_str())
        .collect();
    // Guards the derivation itself: a layout change must not make this test check nothing.
    for expected in ["mercato-orders", "mercato-vendors", "mercato-payments"] {
        assert!(
            services.contains(expected),
            "{expected} not found among the service crates {services:?}"
        );
    }

    let mut offending = Vec::new();
    for package in packages
        .iter()
        .filter(|p| p.is_service() || p.is_contract())
    {
        for (dep, kind) in &package.deps {
            let allowed = ALLOWED.contains(&(package.name.as_str(), dep.as_str()));
            if dep != &package.name && services.contains(dep.as_str()) && !allowed {
                offending.push(format!("{} -> {dep} ({kind})", package.name));
            }
        }
    }
    assert!(
        offending.is_empty(),
        "a service (or -api) crate depends on a service crate; depend on its -api crate \
         instead (ADR 0028):\n  {}",
        offending.join("\n  ")
    );
}

#[test]
fn contract_crates_hold_no_database() {
    let packages = workspace_packages();
    let mut offending = Vec::new();
    for package in packages.iter().filter(|p| p.is_contract()) {
        for (dep, kind) in &package.deps {
            if NOT_IN_CONTRACTS.contains(&dep.as_str()) {
                offending.push(format!("{} -> {dep} ({kind})", package.name));
            }
        }
    }
    assert!(
        offending.is_empty(),
        "an -api crate depends on the database (ADR 0028):\n  {}",
        offending.join("\n  ")
    );
}
