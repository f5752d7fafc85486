//! A hostile connector for the sandbox tests. Its `check` misbehaves as the
//! instance setting `behaviour` says; every behaviour must end as a clear
//! error for that call alone.
//!
//! Its `transmit` is the hot-swap tests' version switch: the first version
//! accepts every demande (the receipt's remote id is the idempotency key,
//! its display id the version); the second misbehaves as `check` does, so
//! activating it is activating a hostile version.

use guichet_sdk::http::Request;
use guichet_sdk::{
    Availability, Connector, Demande, Description, Error, Operation, Receipt, config,
    export_connector, log,
};

/// The connector.
pub struct Hostile;

/// The hot-swap tests install this component twice: as built, and built with
/// the `second-version` feature.
const VERSION: &str = if cfg!(feature = "second-version") {
    "0.2.0"
} else {
    "0.1.0"
};

fn ok(message: String) -> Result<Availability, Error> {
    Ok(Availability {
        available: true,
        message,
        remote_version: None,
    })
}

/// The integer setting `key`, or `default`.
fn number(key: &str, default: u64) -> u64 {
    config::get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[allow(unconditional_recursion)]
fn recurse(depth: u64, pad: [u64; 32]) -> u64 {
    let pad = std::hint::black_box(pad);
    recurse(depth + 1, pad) + pad[(depth % 32) as usize]
}

impl Connector for Hostile {
    fn describe() -> Description {
        Description {
            name: "hostile".into(),
            version: VERSION.into(),
            vendor: "Tests".into(),
            summary: "Composant hostile pour les tests du bac à sable".into(),
            operations: vec![Operation::Check, Operation::Transmit],
            config_schema: serde_json::json!({
                "type": "object",
                "properties": {
                    "behaviour": { "type": "string" },
                    "url": { "type": "string" },
                    "count": { "type": "integer", "minimum": 0 },
                    "bytes": { "type": "integer", "minimum": 0 },
                    "token": { "type": "string", "x-secret": true }
                }
            })
            .to_string(),
            hosts: vec![],
            data_sources: vec![],
        }
    }

    fn check() -> Result<Availability, Error> {
        let behaviour = config::require("behaviour")?;
        match behaviour.as_str() {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1024 * 1024]);
                    std::hint::black_box(&hoard);
                }
            }
            "recursion" => ok(recurse(0, [7; 32]).to_string()),
            "panic" => panic!("le connecteur hostile panique volontairement"),
            "http" => {
                // Fetch the configured URL; the host decides whether it may.
                let url = config::require("url")?;
                let response = Request::get(url).send()?;
                ok(format!(
                    "HTTP {} ({} octets)",
                    response.status,
                    response.body.len()
                ))
            }
            "filesystem" => match std::fs::read_to_string("/etc/passwd") {
                Ok(text) => ok(format!("lu {} octets", text.len())),
                Err(e) => Err(Error::Other(format!("fichier illisible : {e}"))),
            },
            "socket" => {
                // A raw socket, around the host's HTTP: WASI sockets are denied.
                let address = config::require("url")?;
                match std::net::TcpStream::connect(address.as_str()) {
                    Ok(_) => ok("connecté".into()),
                    Err(e) => Err(Error::Other(format!("socket refusée : {e}"))),
                }
            }
            "environment" => ok(format!(
                "{} variables d'environnement",
                std::env::vars().count()
            )),
            "version" => ok(VERSION.to_string()),
            "busy-version" => {
                // Work for a while, then say which version did it.
                let until = std::time::Instant::now() + std::time::Duration::from_millis(300);
                while std::time::Instant::now() < until {
                    std::hint::black_box(0);
                }
                ok(VERSION.to_string())
            }
            "log-secret" => {
                let token = config::require_secret("token")?;
                log::info(&format!("le jeton est {}", token.expose()));
                Err(Error::Other(format!(
                    "échec avec le jeton {}",
                    token.expose()
                )))
            }
            "answer-secret" => {
                let token = config::require_secret("token")?;
                ok(format!("le jeton est {}", token.expose()))
            }
            "refused-loop" => {
                // Retry a forbidden request `count` times, as a buggy retry
                // loop would: a long URL, every attempt refused by the host.
                let count = number("count", 100_000);
                let url = format!("http://interdit.example/{}", "x".repeat(4096));
                let mut refused = 0u64;
                for _ in 0..count {
                    if Request::get(url.as_str()).send().is_err() {
                        refused += 1;
                    }
                }
                ok(format!("{refused} refus"))
            }
            "log-bomb" => {
                // `count` records, each with a message, a field key and a field
                // value of `bytes` bytes (the key starts with the secret), and
                // 100 small fields.
                let token = config::require_secret("token")?;
                let count = number("count", 8);
                let bytes = number("bytes", 8 * 1024 * 1024) as usize;
                let message = "m".repeat(bytes);
                let key = format!("{}{}", token.expose(), "k".repeat(bytes));
                let value = "v".repeat(bytes);
                let small: Vec<(String, String)> = (0..100)
                    .map(|i| (format!("champ-{i}"), i.to_string()))
                    .collect();
                for _ in 0..count {
                    let mut fields: Vec<(&str, &str)> = vec![(key.as_str(), value.as_str())];
                    fields.extend(small.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                    log::write(log::Level::Info, &message, &fields);
                }
                ok(format!("{count} enregistrements"))
            }
            "log-flood" => {
                // Many small records.
                for i in 0..number("count", 10_000) {
                    log::info(&format!("enregistrement {i}"));
                }
                ok("fini".into())
            }
            "error-bomb" => {
                // An error of `bytes` bytes, quoting the secret at its start.
                let token = config::require_secret("token")?;
                let bytes = number("bytes", 16 * 1024 * 1024) as usize;
                Err(Error::Other(format!(
                    "{} {}",
                    token.expose(),
                    "e".repeat(bytes)
                )))
            }
            "escape" => {
                // Terminal escape sequences in everything that gets printed.
                log::info("journal \u{1b}[2J\u{1b}]0;pirate\u{7}");
                Err(Error::Other("erreur \u{1b}[31mrouge\u{9b}6n".into()))
            }
            other => Err(Error::InvalidInput(format!(
                "comportement inconnu : {other}"
            ))),
        }
    }

    fn transmit(_demande: Demande, idempotency_key: &str) -> Result<Receipt, Error> {
        if cfg!(feature = "second-version") {
            Self::check()?;
        }
        Ok(Receipt {
            remote_id: idempotency_key.to_string(),
            display_id: Some(VERSION.to_string()),
        })
    }
}

export_connector!(Hostile);
