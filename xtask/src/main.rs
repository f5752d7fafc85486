//! `cargo xtask demo` and `cargo xtask test`: the two set-up commands of the
//! README. Each prepares what it needs on a fresh machine with only the Rust
//! toolchain: the `wasm32-wasip2` target, the connector components, and (for
//! the tests) a running PostgreSQL and schemathesis (from PyPI, in a virtual
//! environment under `target/`). Uses only the standard library, so it
//! builds in seconds.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode};
use std::time::Duration;

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let extra: Vec<String> = std::env::args().skip(2).collect();
    let result = match task.as_str() {
        "demo" => demo(&extra),
        "test" => test(&extra),
        _ => {
            Err("usage : cargo xtask demo | cargo xtask test [arguments de cargo test]".to_string())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask : {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("{what} : {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} a échoué ({status})"))
    }
}

/// Adds the wasm32-wasip2 target when it is missing.
fn ensure_wasm_target() -> Result<(), String> {
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("rustup introuvable : {e}"))?;
    if String::from_utf8_lossy(&listed.stdout)
        .lines()
        .any(|l| l.trim() == "wasm32-wasip2")
    {
        return Ok(());
    }
    run(
        Command::new("rustup").args(["target", "add", "wasm32-wasip2"]),
        "rustup target add wasm32-wasip2",
    )
}

fn demo(extra: &[String]) -> Result<(), String> {
    ensure_wasm_target()?;
    eprintln!("xtask : construction des connecteurs (wasm32-wasip2)…");
    run(
        cargo().args([
            "build",
            "--profile",
            "guest",
            "--target",
            "wasm32-wasip2",
            "-p",
            "guichet-connector-atal",
            "-p",
            "guichet-connector-espace-famille",
            "-p",
            "guichet-connector-sms",
        ]),
        "la construction des connecteurs",
    )?;
    eprintln!("xtask : construction de Guichet et des applications simulées…");
    run(
        cargo().args([
            "build",
            "-p",
            "guichet-host",
            "-p",
            "atal-sim",
            "-p",
            "espace-famille-sim",
            "-p",
            "sms-sim",
            "-p",
            "mail-sim",
        ]),
        "la construction de Guichet",
    )?;
    let bin = root().join("target").join("debug");
    let mut children = Children(Vec::new());
    for (name, port) in [
        ("atal-sim", 8091),
        ("espace-famille-sim", 8092),
        ("sms-sim", 8093),
        ("mail-sim", 8094),
    ] {
        // The mail sink also takes the demo's mails by SMTP on port 2525.
        let child = Command::new(bin.join(name))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .spawn()
            .map_err(|e| format!("{name} : {e}"))?;
        children.0.push(child);
        wait_for_port(port, name)?;
    }
    let status = Command::new(bin.join("guichet"))
        .current_dir(root())
        .arg("demo")
        .args(extra)
        .status()
        .map_err(|e| format!("guichet : {e}"))?;
    drop(children);
    if status.success() {
        Ok(())
    } else {
        Err(format!("guichet demo s'est arrêté ({status})"))
    }
}

/// Child processes killed when dropped (the demo's simulated vendors).
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_for_port(port: u16, name: &str) -> Result<(), String> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    for _ in 0..100 {
        if TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!(
        "{name} n'écoute pas sur le port {port} (port déjà pris ?)"
    ))
}

fn test(extra: &[String]) -> Result<(), String> {
    ensure_wasm_target()?;
    ensure_postgres()?;
    let schemathesis = ensure_schemathesis()?;
    let componentize_py = ensure_componentize_py()?;
    ensure_browser()?;
    let axe = ensure_axe()?;
    run(
        cargo()
            .args(["test", "--workspace", "--locked"])
            .args(extra)
            .env("GUICHET_SCHEMATHESIS", schemathesis)
            .env("GUICHET_COMPONENTIZE_PY", componentize_py)
            .env("GUICHET_AXE", axe),
        "cargo test",
    )
}

/// Debian's Chromium and ChromeDriver, for the portal's browser tests
/// (`tests/src/browser.rs`), installed with apt-get when missing.
fn ensure_browser() -> Result<(), String> {
    if Path::new("/usr/bin/chromedriver").exists() && Path::new("/usr/bin/chromium").exists() {
        return Ok(());
    }
    eprintln!("xtask : installation de chromium et chromium-driver (apt-get)…");
    let _ = Command::new("apt-get").arg("update").status();
    run(
        Command::new("apt-get").args(["install", "-y", "chromium", "chromium-driver"]),
        "apt-get install -y chromium chromium-driver",
    )
}

/// The axe-core release the browser tests check pages with.
const AXE: &str = "axe-core@4.10.3";

/// Installs axe-core from the npm registry under `target/axe-core` (once),
/// and returns the path of its script.
fn ensure_axe() -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let prefix = target.join("axe-core");
    let script = prefix.join("node_modules/axe-core/axe.min.js");
    let marker = prefix.join(AXE);
    if script.exists() && marker.exists() {
        return Ok(script);
    }
    eprintln!("xtask : installation de {AXE} dans {}…", prefix.display());
    run(
        Command::new("npm")
            .args([
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
            ])
            .arg(&prefix)
            .arg(AXE),
        "npm install axe-core",
    )?;
    std::fs::write(&marker, b"").map_err(|e| format!("{}: {e}", marker.display()))?;
    Ok(script)
}

/// The schemathesis release the API suite runs (`tests/tests/api/schemathesis.rs`).
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// The componentize-py release the vendor kit's Python connector is built
/// with (`tests/tests/vendor_kit/`, `examples/python-connector/`).
const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";

/// Installs schemathesis from PyPI (once) and returns its command.
fn ensure_schemathesis() -> Result<PathBuf, String> {
    ensure_python_tool("schemathesis", SCHEMATHESIS, "schemathesis")
}

/// Installs componentize-py from PyPI (once) and returns its command.
fn ensure_componentize_py() -> Result<PathBuf, String> {
    ensure_python_tool("componentize-py", COMPONENTIZE_PY, "componentize-py")
}

/// Installs the PyPI package `requirement` in a virtual environment under
/// `target/<dir>` (once), and returns the path of its command `command`.
fn ensure_python_tool(dir: &str, requirement: &str, command: &str) -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    let venv = target.join(dir);
    let program = venv.join("bin").join(command);
    let marker = venv.join(requirement);
    if program.exists() && marker.exists() {
        return Ok(program);
    }
    eprintln!(
        "xtask : installation de {requirement} dans {}…",
        venv.display()
    );
    let create = |venv: &Path| {
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(venv)
            .status()
            .is_ok_and(|status| status.success())
    };
    if !create(&venv) {
        // Debian ships venv apart from Python.
        eprintln!("xtask : python3 -m venv a échoué, installation de python3-venv…");
        let _ = Command::new("apt-get")
            .args(["install", "-y", "python3-venv"])
            .status();
        if !create(&venv) {
            return Err(
                "python3 -m venv a échoué : installez Python 3 et son module venv".to_string(),
            );
        }
    }
    run(
        Command::new(venv.join("bin").join("pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            requirement,
        ]),
        &format!("pip install {requirement}"),
    )?;
    std::fs::write(&marker, "").map_err(|e| format!("{} : {e}", marker.display()))?;
    Ok(program)
}

/// Starts the machine's PostgreSQL cluster when nothing listens on 5432.
fn ensure_postgres() -> Result<(), String> {
    let address = SocketAddr::from(([127, 0, 0, 1], 5432));
    if TcpStream::connect_timeout(&address, Duration::from_millis(300)).is_ok() {
        return Ok(());
    }
    eprintln!("xtask : PostgreSQL ne répond pas, démarrage du cluster…");
    let versions = std::fs::read_dir("/etc/postgresql")
        .map_err(|e| format!("PostgreSQL absent de cette machine (/etc/postgresql : {e})"))?;
    for version in versions.flatten() {
        let version = version.file_name().to_string_lossy().into_owned();
        let _ = Command::new("pg_ctlcluster")
            .args(["--skip-systemctl-redirect", &version, "main", "start"])
            .status();
    }
    for _ in 0..100 {
        if TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err("PostgreSQL n'a pas démarré sur 127.0.0.1:5432".into())
}
