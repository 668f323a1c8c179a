//! A throw-away OpenLDAP server for tests and benchmarks: Debian's
//! `/usr/sbin/slapd` (installed with apt when missing) with a generated
//! `slapd.conf`, back-mdb, suffix `dc=example,dc=com`, data in a temp dir
//! loaded with `slapadd`, listening on a free loopback port, killed on drop.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub const SUFFIX: &str = "dc=example,dc=com";
pub const PEOPLE: &str = "ou=people,dc=example,dc=com";
pub const ADMIN: &str = "cn=admin,dc=example,dc=com";
pub const ADMIN_PASSWORD: &str = "admin-secret";
pub const SLAPD: &str = "/usr/sbin/slapd";
const SLAPADD: &str = "/usr/sbin/slapadd";

pub struct Slapd {
    child: Child,
    dir: PathBuf,
    pub port: u16,
    /// The `ldaps://` port, when started with TLS.
    pub tls_port: Option<u16>,
}

/// Installs slapd and ldap-utils from Debian when they are missing (tests
/// never skip for want of a server).
pub fn ensure_installed() {
    if Path::new(SLAPD).exists() && Path::new("/usr/bin/ldapsearch").exists() {
        return;
    }
    let status = Command::new("apt-get")
        .args(["install", "-y", "-q", "slapd", "ldap-utils"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .expect("run apt-get");
    assert!(status.success(), "apt-get install slapd ldap-utils failed");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Slapd {
    /// Starts slapd with the base entries, then the entries of `ldif`
    /// (written by the caller, e.g. with `generate::LdifSink`).
    pub fn start(write_entries: impl FnOnce(&mut dyn Write)) -> Self {
        Self::start_with(false, write_entries)
    }

    /// Like [`Self::start`]; with `tls`, a self-signed certificate for
    /// 127.0.0.1 (openssl), StartTLS on the plain port and an `ldaps://` port.
    pub fn start_with(tls: bool, write_entries: impl FnOnce(&mut dyn Write)) -> Self {
        Self::start_full(tls, "", write_entries)
    }

    /// Like [`Self::start`], with equality indexes on `attributes` too
    /// (comma-separated), as a site serving look-ups would have.
    pub fn start_indexed(attributes: &str, write_entries: impl FnOnce(&mut dyn Write)) -> Self {
        Self::start_full(false, attributes, write_entries)
    }

    fn start_full(tls: bool, indexed: &str, write_entries: impl FnOnce(&mut dyn Write)) -> Self {
        ensure_installed();
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "twp-slapd-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("data")).unwrap();
        let mut tls_conf = String::new();
        if tls {
            let made = Command::new("openssl")
                .args([
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                ])
                .args(["-subj", "/CN=127.0.0.1", "-keyout"])
                .arg(dir.join("key.pem"))
                .arg("-out")
                .arg(dir.join("cert.pem"))
                .output()
                .expect("run openssl");
            assert!(
                made.status.success(),
                "openssl: {}",
                String::from_utf8_lossy(&made.stderr)
            );
            tls_conf = format!(
                "TLSCertificateFile {d}/cert.pem\nTLSCertificateKeyFile {d}/key.pem\n",
                d = dir.display()
            );
        }
        let conf = dir.join("slapd.conf");
        std::fs::write(
            &conf,
            format!(
                "include /etc/ldap/schema/core.schema\n\
                 include /etc/ldap/schema/cosine.schema\n\
                 include /etc/ldap/schema/inetorgperson.schema\n\
                 modulepath /usr/lib/ldap\n\
                 moduleload back_mdb\n\
                 pidfile {d}/slapd.pid\n\
                 argsfile {d}/slapd.args\n\
                 sizelimit unlimited\n\
                 {tls_conf}\
                 database mdb\n\
                 maxsize 8589934592\n\
                 suffix \"{SUFFIX}\"\n\
                 rootdn \"{ADMIN}\"\n\
                 rootpw {ADMIN_PASSWORD}\n\
                 directory {d}/data\n\
                 index objectClass eq\n\
                 index uid eq\n\
                 {extra}",
                d = dir.display(),
                extra = if indexed.is_empty() {
                    String::new()
                } else {
                    format!("index {indexed} eq\n")
                }
            ),
        )
        .unwrap();
        let ldif = dir.join("data.ldif");
        {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&ldif).unwrap());
            write!(
                out,
                "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\n\
                 dc: example\no: Example\n\n\
                 dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
            )
            .unwrap();
            write_entries(&mut out);
            out.flush().unwrap();
        }
        let add = Command::new(SLAPADD)
            .arg("-q")
            .arg("-f")
            .arg(&conf)
            .arg("-l")
            .arg(&ldif)
            .output()
            .expect("run slapadd");
        assert!(
            add.status.success(),
            "slapadd failed: {}",
            String::from_utf8_lossy(&add.stderr)
        );
        let port = free_port();
        let tls_port = tls.then(free_port);
        let mut urls = format!("ldap://127.0.0.1:{port}/");
        if let Some(p) = tls_port {
            urls.push_str(&format!(" ldaps://127.0.0.1:{p}/"));
        }
        let child = Command::new(SLAPD)
            .arg("-h")
            .arg(urls)
            .arg("-f")
            .arg(&conf)
            .args(["-d", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start slapd");
        let server = Self {
            child,
            dir,
            port,
            tls_port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        for p in [Some(port), tls_port].into_iter().flatten() {
            while TcpStream::connect(("127.0.0.1", p)).is_err() {
                assert!(Instant::now() < deadline, "slapd did not listen on {p}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        server
    }

    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}/", self.port)
    }

    /// CPU seconds (user + system) slapd has used so far.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }

    /// CPU seconds used so far by this process and by slapd, for
    /// [`Slapd::cpu_since`]: figures that do not depend on what else the
    /// machine runs.
    pub fn cpu_now(&self) -> (f64, f64) {
        (cpu_seconds("/proc/self/stat"), self.cpu_seconds())
    }

    /// The CPU this process and slapd used since `before`, and the load.
    pub fn cpu_since(&self, before: (f64, f64)) -> String {
        let now = self.cpu_now();
        format!(
            "CPU: this process {:.2} s, slapd {:.2} s; load {}",
            now.0 - before.0,
            now.1 - before.1,
            load_average()
        )
    }

    /// The wall time of `ldapsearch` dumping the entries under [`PEOPLE`]
    /// that match `filter`, all attributes, in pages of `page`.
    pub fn dump(&self, filter: &str, page: u32) -> Duration {
        let t = Instant::now();
        let status = Command::new("ldapsearch")
            .args(["-x", "-LLL", "-H", &self.url(), "-D", ADMIN, "-w"])
            .arg(ADMIN_PASSWORD)
            .args(["-b", PEOPLE, "-E", &format!("pr={page}/noprompt"), filter])
            .stdout(Stdio::null())
            .status()
            .expect("ldapsearch (Debian package ldap-utils)");
        assert!(status.success(), "ldapsearch failed: {status}");
        t.elapsed()
    }
}

/// CPU seconds (user + system) of a process from its `/proc/…/stat`
/// (`/proc/self/stat`: this one, all threads), for the benchmarks; 0 when
/// unreadable.
pub fn cpu_seconds(stat: &str) -> f64 {
    let Ok(text) = std::fs::read_to_string(stat) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces): state is
    // field 3, utime 14, stime 15, in clock ticks (100 per second on Linux).
    let rest = text.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}

/// The 1-minute load average, for the benchmarks.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
