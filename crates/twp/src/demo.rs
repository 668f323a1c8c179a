//! `twp demo`: sample data a newcomer can explore at once — one company with
//! two domains, a dozen users with devices, groups, and a second company to
//! show that tenants never see each other. Like the guide's chapter 3.3
//! walk-through, the demo has a license (signed by a demo key kept in the
//! data folder and trusted by the demo server only) and grants TWP Caller
//! to each domain's group "All", so the sample users can log in.

use std::net::SocketAddr;
use std::path::Path;

use twp_access::authz::{Application, Object, Principal};
use twp_access::license::{
    Date, LicenseFile, VerifyingKey, keygen, parse_secret_key, secret_key_text, sign,
};
use twp_api::crypto::{SecretBox, hash_password};
use twp_domain::{
    AdminScope, DeviceData, DeviceProtocol, DeviceSecrets, DomainId, LinkProtocol, LinkRole,
    LinkSession, PbxLinkData, SecretChange, SipSettings, UserData,
};
use twp_store::users::UserSecrets;
use twp_store::{Store, admins, companies, domains, grants, groups, licenses, pbx_links, users};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A login printed in the banner.
pub struct Login {
    pub name: &'static str,
    pub password: &'static str,
    pub role: &'static str,
}

const LOGINS: [Login; 2] = [
    Login {
        name: "admin",
        password: "demo-admin",
        role: "super user: every company",
    },
    Login {
        name: "paris",
        password: "paris-admin",
        role: "administrator of 'Exemple SA' only",
    },
];

/// The demo users' TWP password.
pub const USER_PASSWORD: &str = "welcome";

const PARIS: [(&str, &str, &str, &str); 8] = [
    ("jdupont", "Jean", "Dupont", "1000"),
    ("mmartin", "Marie", "Martin", "1001"),
    ("pdurand", "Pierre", "Durand", "1002"),
    ("slefevre", "Sophie", "Lefèvre", "1003"),
    ("lmoreau", "Luc", "Moreau", "1004"),
    ("cgarcia", "Camille", "Garcia", "1005"),
    ("nroux", "Nathalie", "Roux", "1006"),
    ("tfournier", "Thomas", "Fournier", "1007"),
];

const LYON: [(&str, &str, &str, &str); 4] = [
    ("abernard", "Alice", "Bernard", "2000"),
    ("egirard", "Émile", "Girard", "2001"),
    ("hbonnet", "Hélène", "Bonnet", "2002"),
    ("vmercier", "Victor", "Mercier", "2003"),
];

fn user(domain: DomainId, (login, first, last, _): (&str, &str, &str, &str)) -> UserData {
    UserData {
        domain_id: domain,
        user_name: login.into(),
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        gsm: None,
        email: Some(format!("{login}@exemple.fr")),
        ip: None,
        enabled: true,
        culture: Some("fr-FR".into()),
        external_key: None,
    }
}

/// The PBX type the demo's links carry; the demo points them at its
/// simulator each time it starts.
const SIMULATOR_PBX_TYPE: &str = "TWP PBX simulator";

fn simulator_link(site: &str, callback_device: &str) -> PbxLinkData {
    PbxLinkData {
        role: LinkRole::Csta,
        protocol: LinkProtocol::Csta,
        host: "127.0.0.1".into(),
        // replaced by the simulator's port at each start
        port: 3211,
        capacity: 500,
        sites: vec![site.into()],
        session: LinkSession::ApplicationSession,
        pbx_type: Some(SIMULATOR_PBX_TYPE.into()),
        user_name: None,
        callback_device: Some(callback_device.into()),
        enabled: true,
    }
}

fn device(number: &str) -> DeviceData {
    DeviceData {
        number: number.into(),
        protocol: DeviceProtocol::Csta,
        ip: None,
        video: false,
        site: Some(
            if number.starts_with('2') {
                "2.1"
            } else {
                "1.1"
            }
            .into(),
        ),
        sip: SipSettings::default(),
    }
}

/// Creates the sample data on an empty store; leaves an existing demo as it is.
pub async fn seed(store: &Store, secrets: &SecretBox) -> Result<&'static [Login], BoxError> {
    let mut tx = store.begin().await?;
    if admins::count(&mut tx).await? > 0 {
        return Ok(&LOGINS);
    }
    println!("Creating the demo data…");
    let user_hash = hash_password(USER_PASSWORD)?;
    let company = companies::create(&mut tx, "Exemple SA").await?;
    let paris = domains::create(&mut tx, company.id, "Paris", 4).await?;
    let lyon = domains::create(&mut tx, company.id, "Lyon", 4).await?;
    let all_paris = groups::create(
        &mut tx,
        company.id,
        paris.id,
        "All",
        Some("Every user of Paris"),
    )
    .await?;
    let sales = groups::create(&mut tx, company.id, paris.id, "Sales", None).await?;
    let all_lyon = groups::create(
        &mut tx,
        company.id,
        lyon.id,
        "All",
        Some("Every user of Lyon"),
    )
    .await?;
    let mut paris_ids = Vec::new();
    for (i, u) in PARIS.iter().enumerate() {
        let mut data = user(paris.id, *u);
        data.gsm = Some(format!("+336123456{i:02}"));
        let secrets_u = UserSecrets {
            password_hash: SecretChange::Set(user_hash.clone()),
            vm_password: SecretChange::Set(secrets.seal("1234")),
        };
        let created = users::create(
            &mut tx,
            company.id,
            &data,
            secrets_u,
            &[(device(u.3), DeviceSecrets::default())],
        )
        .await?;
        paris_ids.push(created.id);
    }
    let mut lyon_ids = Vec::new();
    for u in LYON {
        let secrets_u = UserSecrets {
            password_hash: SecretChange::Set(user_hash.clone()),
            vm_password: SecretChange::Keep,
        };
        let created = users::create(
            &mut tx,
            company.id,
            &user(lyon.id, u),
            secrets_u,
            &[(device(u.3), DeviceSecrets::default())],
        )
        .await?;
        lyon_ids.push(created.id);
    }
    pbx_links::create(
        &mut tx,
        company.id,
        paris.id,
        &simulator_link("1.*", "1019"),
        None,
    )
    .await?;
    pbx_links::create(
        &mut tx,
        company.id,
        lyon.id,
        &simulator_link("2.*", "2009"),
        None,
    )
    .await?;
    groups::add_members(&mut tx, company.id, all_paris.id, &paris_ids).await?;
    groups::add_members(&mut tx, company.id, sales.id, &paris_ids[..3]).await?;
    groups::add_members(&mut tx, company.id, all_lyon.id, &lyon_ids).await?;
    // Guide 3.3: TWP Caller for every user, through the groups "All".
    for g in [all_paris.id, all_lyon.id] {
        let caller = Object::Application(Application::Caller);
        grants::insert(&mut tx, company.id, Principal::Group(g), caller).await?;
    }

    // A second, independent company.
    let other = companies::create(&mut tx, "Autre Société").await?;
    let nice = domains::create(&mut tx, other.id, "Nice", 3).await?;
    for u in [
        ("kblanc", "Karim", "Blanc", "300"),
        ("ofaure", "Olivia", "Faure", "301"),
    ] {
        users::create(
            &mut tx,
            other.id,
            &user(nice.id, u),
            UserSecrets::default(),
            &[(device(u.3), DeviceSecrets::default())],
        )
        .await?;
    }

    admins::create(
        &mut tx,
        LOGINS[0].name,
        &hash_password(LOGINS[0].password)?,
        &AdminScope::SuperUser,
        false,
    )
    .await?;
    admins::create(
        &mut tx,
        LOGINS[1].name,
        &hash_password(LOGINS[1].password)?,
        &AdminScope::Companies(vec![company.id]),
        false,
    )
    .await?;
    tx.commit().await?;
    Ok(&LOGINS)
}

/// The demo's seats per application (12 sample users in Exemple SA).
const DEMO_SEATS: u32 = 20;

/// The demo signing key (`<data>/demo-license.key`, created once) and a
/// license for this installation, loaded unless the one in force is
/// already signed by it and valid. Returns the key the server must trust.
pub async fn ensure_license(store: &Store, data: &Path) -> Result<VerifyingKey, BoxError> {
    let path = data.join("demo-license.key");
    let key = if path.exists() {
        parse_secret_key(&std::fs::read_to_string(&path)?)?
    } else {
        let key = keygen()?;
        std::fs::create_dir_all(data)?;
        std::fs::write(&path, secret_key_text(&key))?;
        key
    };
    let public = key.verifying_key();
    let mut tx = store.begin().await?;
    let id = twp_api::access::installation_id(&mut tx)
        .await
        .map_err(|e| e.body.message)?;
    let today = Date::today();
    if let Some(current) = licenses::current(&mut tx).await?
        && twp_access::license::verify(&current.text, &[public], &id, today).is_ok()
    {
        tx.commit().await?;
        return Ok(public);
    }
    let expires = Date::from_days_since_epoch(today.days_since_epoch() + 365);
    let mut body =
        format!("TWP LICENSE 1\ncustomer: TWP demo\ninstallation: {id}\nexpires: {expires}\n");
    for app in Application::ALL {
        body.push_str(&format!("seats.{}: {DEMO_SEATS}\n", app.key()));
    }
    let text = sign(&body, &key)?;
    let file = LicenseFile::parse(&text)?;
    licenses::insert(
        &mut tx,
        &text,
        &file.body.customer,
        &file.body.expires.to_string(),
        "twp demo",
    )
    .await?;
    tx.commit().await?;
    Ok(public)
}

pub fn print_banner(addr: SocketAddr, data: &Path, logins: &[Login]) {
    let base = format!("http://{addr}");
    println!();
    println!("TWP demo is running on {base}");
    println!();
    println!("  API reference   {base}/api/docs/");
    println!("  Health          {base}/healthz");
    println!("  Data folder     {}", data.display());
    println!();
    println!("Administrator logins:");
    for l in logins {
        println!("  {:<8} / {:<12} {}", l.name, l.password, l.role);
    }
    println!("Telephony: a simulated PBX (CSTA XML) behind the domains' CSTA links;");
    println!(
        "  links {base}/api/v1/companies/1/domains/1/links, states {base}/api/v1/telephony/providers"
    );
    println!(
        "  live events: curl -N '{base}/api/v1/companies/1/domains/1/events/sse?devices=1000' -H \"authorization: Bearer $TOKEN\""
    );
    println!(
        "  an outside call: POST {base}/api/v1/demo/pbx/calls {{\"from\":\"0612345678\",\"to\":\"1000\"}}"
    );
    println!(
        "  then POST …/companies/1/domains/1/phones/1000/calls/current/answer (…/transfer {{\"to\":\"1001\"}}, …/hangup)"
    );
    println!(
        "Directories of Paris: TWP users and 'Sample CSV' (<data>/directories/contacts.csv), synchronised at start;"
    );
    println!(
        "  who calls? curl -s '{base}/api/v1/companies/1/domains/1/lookup?number=0612345678' -H \"authorization: Bearer $TOKEN\""
    );
    println!(
        "  search:    curl -s '{base}/api/v1/companies/1/domains/1/search?q=fon' -H \"authorization: Bearer $TOKEN\""
    );
    println!("Users (company 'Exemple SA'): jdupont … tfournier in Paris (1000–1007),");
    println!("abernard … vmercier in Lyon (2000–2003); TWP password '{USER_PASSWORD}'.");
    println!(
        "A demo license ({DEMO_SEATS} seats each) is loaded; group 'All' of each domain has TWP Caller."
    );
    println!("A user logs in for the web apps with:");
    println!("  curl -s {base}/api/v1/user-auth/login -H 'content-type: application/json' \\");
    println!(
        "       -d '{{\"domain\":\"Paris\",\"userName\":\"jdupont\",\"password\":\"{USER_PASSWORD}\"}}'"
    );
    println!();
    println!("Try:");
    println!("  TOKEN=$(curl -s {base}/api/v1/auth/login -H 'content-type: application/json' \\");
    println!(
        "          -d '{{\"name\":\"admin\",\"password\":\"demo-admin\"}}' | sed 's/.*\"token\":\"\\([^\"]*\\)\".*/\\1/')"
    );
    println!("  curl -s {base}/api/v1/companies -H \"authorization: Bearer $TOKEN\"");
    println!();
    println!("Stop with Ctrl+C.");
}

/// The demo's PBX: the simulator on a free loopback port. The demo
/// domains' links are pointed at it; the server's telephony hub supervises
/// the sample users' extensions through them, as `twp serve` would a PBX.
pub struct DemoPbx {
    pub address: SocketAddr,
    pub simulator: twp_pbx_sim::Simulator,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl DemoPbx {
    pub async fn start(store: &Store) -> Result<Self, BoxError> {
        let mut sim = twp_pbx_sim::SimConfig::demo();
        sim.listen = vec![SocketAddr::from(([127, 0, 0, 1], 0))];
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = twp_pbx_sim::run(sim, async move {
            let _ = stopped.await;
        })
        .await?;
        let address = *running
            .addrs
            .first()
            .ok_or("the PBX simulator did not listen")?;
        point_links_at(store, address).await?;
        Ok(Self {
            address,
            simulator: running.simulator.clone(),
            stop,
            task: running.task,
        })
    }

    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Points every simulator link of the demo at the simulator's address.
async fn point_links_at(store: &Store, address: SocketAddr) -> Result<(), BoxError> {
    let mut tx = store.begin().await?;
    for l in pbx_links::list_enabled(&mut tx).await? {
        if l.data.pbx_type.as_deref() == Some(SIMULATOR_PBX_TYPE) {
            let mut data = l.data.clone();
            data.host = address.ip().to_string();
            data.port = address.port();
            pbx_links::update(
                &mut tx,
                l.company_id,
                l.domain_id,
                l.id,
                &data,
                SecretChange::Keep,
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The simulator as the API's scenario interface.
pub struct SimScenario(pub twp_pbx_sim::Simulator);

impl twp_api::scenario::PbxScenario for SimScenario {
    fn external_call(&self, from: &str, to: &str) -> Result<String, String> {
        self.0.external_call(from, to).map_err(|e| e.to_string())
    }
    fn answer(&self, device: &str) -> Result<String, String> {
        self.0.answer(device).map_err(|e| e.to_string())
    }
    fn hang_up(&self, device: &str) -> Result<String, String> {
        self.0.hang_up(device).map_err(|e| e.to_string())
    }
    fn drop_links(&self) -> usize {
        self.0.drop_links(None)
    }
}

/// Callers of the demo PBX's outside calls, named by the demo's CSV
/// directory: `(id, last name, first name, company, mobile, work, VIP)`.
const DEMO_CALLERS: [(&str, &str, &str, &str, &str, &str, &str); 3] = [
    (
        "demo-1",
        "Fontaine",
        "Claire",
        "Fontaine Conseil",
        "06 12 34 56 78",
        "",
        "",
    ),
    (
        "demo-2",
        "Garnier",
        "Paul",
        "Garnier & Fils",
        "",
        "+33 (0)4 78 00 11 22",
        "Key account",
    ),
    (
        "demo-3",
        "Lambert",
        "Sophie",
        "Clinique du Parc",
        "+33 6 98 76 54 32",
        "01.44.55.66.77",
        "",
    ),
];

/// Writes the demo's CSV directory: generated people (seeded, messy
/// real-world formats) and the demo callers.
fn write_demo_csv(path: &Path) -> Result<(), BoxError> {
    use twp_directory::generate::{
        COLUMNS, Config as GenConfig, CsvEncoding, CsvSink, People, RecordSink, Row,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut sink = CsvSink::new(file, b';', CsvEncoding::Utf8)?;
    let column = |name: &str| COLUMNS.iter().position(|c| *c == name);
    for (id, last, first, company, mobile, work, vip) in DEMO_CALLERS {
        let mut values: [String; COLUMNS.len()] = std::array::from_fn(|_| String::new());
        for (col, v) in [
            ("id", id),
            ("sn", last),
            ("givenName", first),
            ("company", company),
            ("mobile", mobile),
            ("telephoneNumber", work),
            ("vip", vip),
        ] {
            if let Some(i) = column(col) {
                values[i] = v.to_owned();
            }
        }
        sink.write(&Row {
            directory: 0,
            values,
        })?;
    }
    let people = GenConfig {
        seed: 2024,
        people: 2000,
        duplicate_share: 0.0,
    };
    for person in People::new(people) {
        for row in person.rows.iter().filter(|r| r.directory == 0) {
            sink.write(row)?;
        }
    }
    sink.finish()?;
    Ok(())
}

/// The generated CSV's mapping, as the API writes it.
fn demo_csv_mapping() -> String {
    serde_json::json!({
        "fields": {
            "id": "id", "lastName": "sn", "firstName": "givenName", "displayName": "displayName",
            "company": "company", "email1": "mail", "workPhone": "telephoneNumber",
            "mobilePhone": "mobile", "homePhone": "homePhone", "standardPhone": "switchboard",
            "assistant": "assistant", "url": "url", "address": "postalAddress | a",
            "pictureUrl": "photo", "custom0": "vip",
            "redList.workPhone": "private", "redList.mobilePhone": "private", "redList.homePhone": "private"
        },
        "customNames": { "custom0": "[VIP]" }
    })
    .to_string()
}

/// The demo's directories in Paris: a CSV directory (written into the data
/// folder) and the TWP users; created once, synchronised at each start.
pub async fn directories(state: &twp_api::AppState, data: &Path) -> Result<(), BoxError> {
    use twp_store::directories::{self, DirectoryData};
    let csv = std::path::absolute(data.join("directories").join("contacts.csv"))?;
    if !csv.exists() {
        write_demo_csv(&csv)?;
    }
    let mut c = state.store.read().await?;
    let page = twp_store::PageRequest::new(None, Some(100));
    let Some(company) = companies::list(&mut c, &AdminScope::SuperUser, Some("Exemple SA"), &page)
        .await?
        .items
        .into_iter()
        .find(|c| c.name == "Exemple SA")
    else {
        return Ok(());
    };
    let Some(paris) = domains::list(&mut c, company.id, Some("Paris"), &page)
        .await?
        .items
        .into_iter()
        .find(|d| d.name == "Paris")
    else {
        return Ok(());
    };
    let existing = directories::list(&mut c, company.id, paris.id).await?;
    // Guide 7.4.2: the groups "All" of Paris and Lyon may read them (a
    // directory is shared between domains of the company).
    let all_groups: Vec<_> = groups::list(&mut c, company.id, None, Some("All"), None, &page)
        .await?
        .items
        .into_iter()
        .filter(|g| g.name == "All")
        .map(|g| g.id)
        .collect();
    drop(c);
    let mut ids: Vec<i64> = existing.iter().map(|d| d.id).collect();
    if existing.is_empty() {
        let mut tx = state.store.begin().await?;
        for (name, server_type, settings, mapping, priority) in [
            (
                "TWP users",
                "twp-users",
                "{}".to_owned(),
                r#"{"fields":{},"customNames":{}}"#.to_owned(),
                10,
            ),
            (
                "Sample CSV",
                "csv",
                serde_json::json!({ "path": csv.display().to_string() }).to_string(),
                demo_csv_mapping(),
                20,
            ),
        ] {
            let d = directories::create(
                &mut tx,
                company.id,
                paris.id,
                &DirectoryData {
                    name: name.into(),
                    kind: "public".into(),
                    priority,
                    server_type: server_type.into(),
                    settings,
                    mapping,
                    sync_mode: "manual".into(),
                    sync_every_minutes: None,
                    merge_contacts: false,
                },
                None,
            )
            .await?;
            for g in &all_groups {
                let object = Object::Directory(twp_access::authz::DirectoryId(d.id));
                grants::insert(&mut tx, company.id, Principal::Group(*g), object).await?;
            }
            ids.push(d.id);
        }
        tx.commit().await?;
        // written beside the API: the access engine must see the new grants
        state.engines.bump();
    }
    for id in ids {
        match twp_api::directories::run::start(state, company.id, paris.id, id, "start").await {
            Ok(h) => {
                let r = h.await?;
                tracing::info!(directory = id, outcome = %r.outcome, contacts = r.created + r.updated + r.unchanged, "demo directory synchronised");
            }
            Err(e) => {
                tracing::warn!(directory = id, error = %e.body.message, "demo directory not synchronised")
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use twp_api::{ApiSettings, AppState};
    use twp_domain::UserId;
    use twp_store::StoreOptions;

    /// The chapter 3.3 walk-through in the demo: a license signed by the
    /// demo key for this installation, TWP Caller granted to "All", so a
    /// sample user holds Caller; a second start reuses key and license.
    #[tokio::test]
    async fn demo_has_key_license_and_caller_for_all() {
        let dir = std::env::temp_dir().join(format!("twp-demo-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&StoreOptions {
            url: format!("sqlite://{}", dir.join("twp.db").display()),
            max_connections: 2,
        })
        .await
        .unwrap();
        let secrets = SecretBox::from_base64(&SecretBox::generate_key()).unwrap();
        seed(&store, &secrets).await.unwrap();
        let key = ensure_license(&store, &dir).await.unwrap();
        assert!(dir.join("demo-license.key").exists());
        let first = licenses::current(&mut store.read().await.unwrap())
            .await
            .unwrap()
            .unwrap();
        // A restart: same key, same license.
        assert_eq!(ensure_license(&store, &dir).await.unwrap(), key);
        let again = licenses::current(&mut store.read().await.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(first.id, again.id);

        let state = AppState::new(store.clone(), secrets, ApiSettings::default())
            .with_trusted_keys(vec![key]);
        let mut c = store.read().await.unwrap();
        let license = twp_api::access::current_license(&state, &mut c)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(license.body.seats_of(Application::Caller), DEMO_SEATS);
        drop(c);
        let engine = twp_api::access::engine(&state).await.unwrap();
        let caller = Object::Application(Application::Caller);
        // Users 1 (jdupont, Paris) and 9 (abernard, Lyon) hold Caller via "All".
        assert!(engine.check(UserId(1), &caller));
        assert!(engine.check(UserId(9), &caller));
        // The other company's users do not.
        assert!(!engine.check(UserId(13), &caller));
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
