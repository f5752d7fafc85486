//! A real browser for the portal's tests: Debian's Chromium driven through
//! its ChromeDriver (WebDriver, crate `fantoccini`), headless, each page
//! checked by axe-core and screenshotted.
//!
//! `cargo xtask test` installs `chromium` and `chromium-driver` when
//! missing and axe-core from the npm registry, whose script it names in
//! `GUICHET_AXE`. Screenshots go to `target/screenshots/`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

/// The flags every run of Chromium takes (no sandbox: tests run as root).
const FLAGS: [&str; 8] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,900",
];

/// A browser session and its driver, which stops with it.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    /// Whether pages run JavaScript.
    javascript: bool,
    /// Chromium's profile directory, unique to this browser: it names its
    /// processes, which [`Drop`] ends.
    profile: PathBuf,
    /// The root element of the page a click or keys were last sent to:
    /// [`Browser::wait_for_address`] waits until it is gone, so that a
    /// navigation to an address that the page left already holds (the
    /// table `/back-office/demandes` from a demande's page
    /// `/back-office/demandes/{id}`) is not taken as done before it starts.
    left: std::sync::Mutex<Option<fantoccini::elements::Element>>,
}

impl Drop for Browser {
    /// Ends ChromeDriver and every Chromium process it started (Chromium
    /// leaves ChromeDriver's process group; its processes are found by
    /// their unique profile directory), so that no browser outlives its
    /// test, even one that panicked.
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let pattern = format!("user-data-dir={}", self.profile.display());
        let _ = Command::new("pkill")
            .args(["-KILL", "-f", &pattern])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        // Wait (2 s at most) until they are gone, then remove their profile.
        for _ in 0..40 {
            let alive = Command::new("pgrep")
                .args(["-f", &pattern])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if !alive {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `target/screenshots/` of the running test's build.
fn screenshots() -> PathBuf {
    // Tests run from target/<profile>/deps/.
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join("screenshots")))
        .unwrap_or_else(|| std::env::temp_dir().join("guichet-screenshots"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium, with or without
    /// JavaScript.
    ///
    /// # Panics
    /// When `/usr/bin/chromedriver` is missing (`cargo xtask test` installs
    /// it) or does not start.
    pub async fn start(javascript: bool) -> Browser {
        // Several rustls providers are linked in the workspace: name one
        // (a second install, by another test, is refused and harmless).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("/usr/bin/chromedriver (apt-get install -y chromium chromium-driver)");
        let profile =
            std::env::temp_dir().join(format!("guichet-chromium-{}-{port}", std::process::id()));
        let mut args: Vec<String> = FLAGS.iter().map(|f| (*f).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let mut options = json!({ "binary": "/usr/bin/chromium", "args": args });
        if !javascript {
            options["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".to_owned(), options);
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::rustls()
                .expect("TLS roots")
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        driver,
                        javascript,
                        profile,
                        left: std::sync::Mutex::new(None),
                    };
                }
                Err(error) => last = Some(error),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("ChromeDriver did not answer: {last:?}");
    }

    /// Opens `url`.
    ///
    /// # Panics
    /// When the browser cannot.
    pub async fn open(&self, url: &str) {
        self.left.lock().expect("not poisoned").take();
        self.client.goto(url).await.expect("the page opens");
    }

    /// Waits (5 s at most) until the browser is at an address containing
    /// `part`, on a new page if a click or keys were sent since the last
    /// wait: a click's navigation has ended.
    ///
    /// # Panics
    /// When it never gets there.
    pub async fn wait_for_address(&self, part: &str) {
        let left = self.left.lock().expect("not poisoned").take();
        for _ in 0..100 {
            // The page the click was sent to is gone once its root element
            // is stale (WebDriver answers with an error).
            let replaced = match &left {
                Some(root) => root.tag_name().await.is_err(),
                None => true,
            };
            if replaced
                && let Ok(url) = self.client.current_url().await
                && url.as_str().contains(part)
            {
                // The address changes when the new page starts; let it load.
                let _ = self
                    .client
                    .wait()
                    .for_element(fantoccini::Locator::Css("footer.site"))
                    .await;
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let at = self.client.current_url().await.map(|u| u.to_string());
        let source = self.client.source().await.unwrap_or_default();
        panic!(
            "the browser never reached a new page at an address with {part}: at {at:?}, showing {source}"
        );
    }

    /// Remembers the current page's root element before an action that may
    /// leave it (see [`Browser::wait_for_address`]).
    async fn leaving(&self) {
        let root = self
            .client
            .find(fantoccini::Locator::Css("html"))
            .await
            .ok();
        *self.left.lock().expect("not poisoned") = root;
    }

    /// Types `text` into the input whose id is `id`, after clearing it.
    ///
    /// # Panics
    /// When there is no such input.
    pub async fn fill(&self, id: &str, text: &str) {
        let input = self
            .client
            .find(fantoccini::Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"));
        input.clear().await.unwrap_or_else(|e| panic!("#{id}: {e}"));
        input
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"));
    }

    /// Chooses the option of value `value` in the list whose id is `id`.
    ///
    /// # Panics
    /// When there is no such list or option.
    pub async fn select(&self, id: &str, value: &str) {
        self.client
            .find(fantoccini::Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"))
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("#{id} = {value}: {e}"));
    }

    /// Ticks the checkbox whose id is `id`, if it is not ticked.
    ///
    /// # Panics
    /// When there is no such box.
    pub async fn check_box(&self, id: &str) {
        let input = self
            .client
            .find(fantoccini::Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id}: {e}"));
        if !input.is_selected().await.unwrap_or(false) {
            input.click().await.unwrap_or_else(|e| panic!("#{id}: {e}"));
        }
    }

    /// Registers an usager on the portal at `base` by its form, with an
    /// address; the browser is then logged in, on *Mon compte*.
    ///
    /// # Panics
    /// When the registration does not succeed.
    pub async fn register(&self, base: &str, login: &str, first: &str, last: &str) {
        self.open(&format!("{base}/inscription")).await;
        self.fill("login", login).await;
        for id in ["password", "password_confirmation"] {
            self.fill(id, "une phrase de passe assez longue").await;
        }
        self.fill("first_name", first).await;
        self.fill("last_name", last).await;
        self.fill("phone", "06 12 34 56 78").await;
        self.fill("street", "5 place du Marché").await;
        self.fill("postcode", "13002").await;
        self.fill("city", "Marseille").await;
        self.click("main form button[type=submit]").await;
        self.wait_for_address("/mon-compte").await;
    }

    /// Waits (5 s at most) until the page's source holds `text`.
    ///
    /// # Panics
    /// When it never does.
    pub async fn wait_for_text(&self, text: &str) {
        for _ in 0..100 {
            if self.source().await.contains(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page never showed {text}: {}", self.source().await);
    }

    /// Makes the window `width` CSS pixels wide (a phone: 320).
    ///
    /// # Panics
    /// When the browser refuses.
    pub async fn resize(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("the window resizes");
    }

    /// How much wider than the window the page is, in CSS pixels (0: no
    /// horizontal scrolling); JavaScript must run.
    ///
    /// # Panics
    /// When the browser cannot say.
    pub async fn overflow(&self) -> i64 {
        self.client
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
                vec![],
            )
            .await
            .expect("the page's width")
            .as_i64()
            .expect("a number")
    }

    /// Presses Tab until the focus is on the element whose id is `id`
    /// (40 presses at most), as a keyboard user moves through the page.
    ///
    /// # Panics
    /// When the element is never reached.
    pub async fn tab_to(&self, id: &str) {
        for _ in 0..40 {
            let focused = self
                .client
                .active_element()
                .await
                .expect("a focused element");
            if focused.attr("id").await.ok().flatten().as_deref() == Some(id) {
                return;
            }
            focused.send_keys("\u{E004}").await.expect("Tab pressed");
        }
        panic!("#{id} is never reached with the Tab key");
    }

    /// Types `keys` into the focused element (`\u{E007}` is Enter).
    ///
    /// # Panics
    /// When the browser cannot.
    pub async fn type_keys(&self, keys: &str) {
        self.leaving().await;
        self.client
            .active_element()
            .await
            .expect("a focused element")
            .send_keys(keys)
            .await
            .expect("keys typed");
    }

    /// Clicks the first element `css` selects.
    ///
    /// # Panics
    /// When there is none, or it cannot be clicked.
    pub async fn click(&self, css: &str) {
        self.leaving().await;
        self.client
            .find(fantoccini::Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
    }

    /// The page's HTML source.
    ///
    /// # Panics
    /// When the browser cannot.
    pub async fn source(&self) -> String {
        self.client.source().await.expect("the page's source")
    }

    /// Checks the page with axe-core (WCAG 2.0 and 2.1, A and AA) when
    /// JavaScript runs, and writes its screenshot as `<name>.png`.
    ///
    /// # Panics
    /// On a serious or critical violation, listed; when axe-core is not
    /// found (`GUICHET_AXE`).
    pub async fn check(&self, name: &str) {
        let dir = screenshots();
        std::fs::create_dir_all(&dir).expect("the screenshots' directory");
        let suffix = if self.javascript { "" } else { "-sans-js" };
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(dir.join(format!("{name}{suffix}.png")), png).expect("written");
        if !self.javascript {
            return;
        }
        let path = std::env::var("GUICHET_AXE")
            .expect("GUICHET_AXE: axe.min.js (cargo xtask test installs axe-core)");
        let axe = std::fs::read_to_string(&path).expect("axe.min.js");
        let script = format!(
            "{axe}\nreturn axe.run(document, {{ runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }})\
             .then(r => r.violations.map(v => ({{ id: v.id, impact: v.impact, \
             nodes: v.nodes.map(n => n.target.join(' ')) }})));"
        );
        let violations = self
            .client
            .execute(&script, vec![])
            .await
            .expect("axe runs");
        let serious: Vec<&Value> = violations
            .as_array()
            .unwrap_or_else(|| panic!("{name}: axe-core answered {violations}"))
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(serious.is_empty(), "{name}: axe-core finds {serious:#?}");
    }
}
