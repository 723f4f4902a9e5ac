//! environment.yml (the conda route) parses and names the same tools as the pip route.

use std::collections::BTreeSet;
use std::path::Path;

use yaml_rust2::YamlLoader;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The package name of a requirement such as `nbclient>=0.10,<0.12` or `evcxr=0.22`.
fn name_of(requirement: &str) -> String {
    requirement
        .split(|c: char| "<>=!~ ".contains(c))
        .next()
        .unwrap_or_default()
        .trim()
        .to_lowercase()
}

#[test]
fn environment_yml_names_the_same_tools_as_the_pip_route() {
    let text = std::fs::read_to_string(root().join("environment.yml"))
        .expect("environment.yml is missing");
    let docs = YamlLoader::load_from_str(&text).expect("environment.yml does not parse as YAML");
    let env = &docs[0];
    assert_eq!(env["name"].as_str(), Some("parlab"));
    let channels: Vec<&str> = env["channels"]
        .as_vec()
        .expect("no channels")
        .iter()
        .filter_map(|c| c.as_str())
        .collect();
    assert_eq!(channels, ["conda-forge"]);
    let conda: BTreeSet<String> = env["dependencies"]
        .as_vec()
        .expect("no dependencies list")
        .iter()
        .map(|d| name_of(d.as_str().expect("a dependency that is not a string")))
        .collect();

    let pip = std::fs::read_to_string(root().join("src/bin/parlab/requirements.txt")).unwrap();
    let mut expected: BTreeSet<String> = pip
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(name_of)
        .collect();
    // Beyond the Python packages, setup installs the kernel and needs Python, Rust and rust-src;
    // in steps of their own, numpy and numba (the live Python side) and maturin (the extension).
    expected.extend(
        [
            "python", "evcxr", "rust", "rust-src", "numpy", "numba", "maturin",
        ]
        .map(String::from),
    );
    assert_eq!(
        conda, expected,
        "environment.yml and the pip route (requirements.txt + setup) disagree"
    );
}

#[test]
fn requirement_names_are_read_without_versions() {
    assert_eq!(name_of("nbclient>=0.10,<0.12"), "nbclient");
    assert_eq!(name_of("evcxr=0.22"), "evcxr");
    assert_eq!(name_of("rust-src"), "rust-src");
}
