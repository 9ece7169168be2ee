//! The layer rule of ARCHITECTURE.md, checked on the manifests: every workspace crate's
//! (non-dev) dependencies on other workspace crates point to a lower layer.
//! domain ← rules ← storage ← services ← http ← binary.

use crate::common::workspace_root;
use serde_json::Value;
use std::process::Command;

fn layer(name: &str) -> Option<u8> {
    Some(match name {
        "hawker-domain" => 0,
        "hawker-media" | "hawker-room" | "hawker-commerce" | "hawker-money" | "hawker-trust" => 10,
        "hawker-storage" => 20,
        // Services; the books sit below the shop, which posts through them.
        "hawker-books" => 30,
        "hawker-broadcast" | "hawker-hub" | "hawker-shop" | "hawker-hooks" => 31,
        // WebRTC publishes through the broadcaster's go-live rules.
        "hawker-rtc" => 32,
        "hawker-http" => 40,
        "hawker" => 50,
        _ => return None,
    })
}

#[test]
fn dependencies_point_down_the_layers() {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut wrong = Vec::new();
    let mut seen = 0;
    for p in meta["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap();
        if name == "hawker-bench" {
            continue; // a tool beside the layers: it drives the binary and its peers
        }
        let Some(own) = layer(name) else {
            wrong.push(format!(
                "{name} has no layer: add it to ARCHITECTURE.md and here"
            ));
            continue;
        };
        seen += 1;
        for d in p["dependencies"].as_array().unwrap() {
            let dep = d["name"].as_str().unwrap();
            if !d["kind"].is_null() {
                continue; // dev and build dependencies
            }
            if let Some(l) = layer(dep) {
                if l >= own {
                    wrong.push(format!("{name} (layer {own}) depends on {dep} (layer {l})"));
                }
            }
        }
    }
    assert!(seen >= 13, "only {seen} workspace crates found");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
