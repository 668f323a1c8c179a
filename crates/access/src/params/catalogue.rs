//! Every parameter the guide names (chapters 6, 8, 9, 10.2), per application,
//! as data. Where the guide gives no default, the one chosen here is marked
//! `guide_default: false` so the console can say so.

use super::value::ParamType;

/// The applications of the *Applications parameters* menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ParamApp {
    SystemSettings,
    Server,
    Caller,
    Alerter,
    Rules,
    MediaServer,
    Stats,
}

impl ParamApp {
    pub const ALL: [ParamApp; 7] = [
        Self::SystemSettings,
        Self::Server,
        Self::Caller,
        Self::Alerter,
        Self::Rules,
        Self::MediaServer,
        Self::Stats,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::SystemSettings => "System settings",
            Self::Server => "TWP Server",
            Self::Caller => "TWP Caller",
            Self::Alerter => "TWP Alerter",
            Self::Rules => "TWP Rules",
            Self::MediaServer => "TWP MediaServer",
            Self::Stats => "TWP Stats",
        }
    }
}

/// One parameter of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamDef {
    pub app: ParamApp,
    pub key: &'static str,
    /// The spelling printed in the guide when it differs (typos such as
    /// "AuhtorizeNote"); accepted on look-up.
    pub alias: Option<&'static str>,
    pub ty: ParamType,
    pub default: &'static str,
    /// Whether `default` is stated by the guide (else chosen here).
    pub guide_default: bool,
    /// Shown only in Expert mode (guide 10.2).
    pub expert: bool,
    /// The guide's chapter.
    pub chapter: &'static str,
    pub description: &'static str,
}

const YES_NO: ParamType = ParamType::YesNo;
const TEXT: ParamType = ParamType::Text;
const TIME: ParamType = ParamType::Time;
const PORT: ParamType = ParamType::Integer { min: 1, max: 65535 };
const COUNT: ParamType = ParamType::Integer {
    min: 0,
    max: 1_000_000,
};
const SECONDS: ParamType = ParamType::Integer {
    min: 0,
    max: 86_400,
};
const PIXELS: ParamType = ParamType::Integer {
    min: 1,
    max: 10_000,
};

/// The values AuthMethods accepts (guide 6.1; "WindowsSecurity" is the
/// guide's spelling of the Windows method).
pub const AUTH_METHOD_WORDS: &[&str] = &["TWS", "LDAP", "None", "Windows", "WindowsSecurity"];

/// The values AuthLdapSecurity accepts.
pub const LDAP_SECURITY_WORDS: &[&str] = &["None", "StartTLS", "LDAPS"];

macro_rules! p {
    ($app:ident, $key:literal, $ty:expr, $default:literal, guide=$g:literal, expert=$e:literal, $ch:literal, $desc:literal) => {
        p!(
            $app,
            $key,
            None,
            $ty,
            $default,
            guide = $g,
            expert = $e,
            $ch,
            $desc
        )
    };
    ($app:ident, $key:literal, $alias:expr, $ty:expr, $default:literal, guide=$g:literal, expert=$e:literal, $ch:literal, $desc:literal) => {
        ParamDef {
            app: ParamApp::$app,
            key: $key,
            alias: $alias,
            ty: $ty,
            default: $default,
            guide_default: $g,
            expert: $e,
            chapter: $ch,
            description: $desc,
        }
    };
}

/// A Caller feature switch of guide 9.1.8 ("Yes or No the user, the users
/// of a group or the users of a domain have the rights to …").
macro_rules! feature {
    ($key:literal, $alias:expr, expert=$e:literal, $desc:literal) => {
        p!(
            Caller,
            $key,
            $alias,
            YES_NO,
            "Yes",
            guide = false,
            expert = $e,
            "9.1.8",
            $desc
        )
    };
}

pub static CATALOGUE: &[ParamDef] = &[
    // System settings
    p!(
        SystemSettings,
        "DisplayCalendarSummary",
        YES_NO,
        "Yes",
        guide = false,
        expert = false,
        "9.1.3",
        "Whether the calendar event details of a contact are visible"
    ),
    p!(
        SystemSettings,
        "DisplayCalendarPrivate",
        YES_NO,
        "No",
        guide = false,
        expert = false,
        "9.1.3",
        "Whether PRIVATE calendar events (state and details) are visible to other users"
    ),
    p!(
        SystemSettings,
        "timeSynchronizationDirectories",
        TIME,
        "02:00",
        guide = false,
        expert = true,
        "8",
        "Time of day of the automatic directory synchronization"
    ),
    p!(
        SystemSettings,
        "CallLog-StartCleaningHour",
        TIME,
        "01:00",
        guide = false,
        expert = false,
        "10.2.1",
        "Time of day when call logs cleaning starts"
    ),
    p!(
        SystemSettings,
        "CallLog-NumberMaxOfStorage",
        COUNT,
        "30",
        guide = true,
        expert = false,
        "10.2.1",
        "Lines kept per type of call (incoming, outgoing, missed) after a day"
    ),
    p!(
        SystemSettings,
        "CallLog-NumberDaysOfStorage",
        COUNT,
        "30",
        guide = true,
        expert = false,
        "10.2.1",
        "Days calls are kept in the logs"
    ),
    p!(
        SystemSettings,
        "Stats-StartCleaningHour",
        TIME,
        "03:00",
        guide = false,
        expert = false,
        "10.2.2",
        "Time of day when statistics cleaning starts"
    ),
    p!(
        SystemSettings,
        "Stats-NumberDaysOfStorage",
        COUNT,
        "365",
        guide = false,
        expert = false,
        "10.2.2",
        "Days statistical data are kept"
    ),
    // TWP Server
    p!(
        Server,
        "AuthMethods",
        ParamType::List {
            allowed: Some(AUTH_METHOD_WORDS)
        },
        "TWS",
        guide = false,
        expert = false,
        "6.1",
        "Authentication methods tried in order, separated by |: TWS, LDAP, None, Windows"
    ),
    p!(
        Server,
        "AuthLdapServer",
        TEXT,
        "",
        guide = false,
        expert = false,
        "6.3",
        "IP address of the LDAP server"
    ),
    p!(
        Server,
        "AuthLdapPort",
        PORT,
        "389",
        guide = false,
        expert = false,
        "6.3",
        "Port of the LDAP server"
    ),
    p!(
        Server,
        "AuthLdapDn",
        TEXT,
        "?",
        guide = true,
        expert = false,
        "6.3",
        "Bind DN; ? is replaced by the user name (e.g. CN=?,OU=PARIS,DC=SSDEI,DC=local)"
    ),
    p!(
        Server,
        "AuthLdapSecurity",
        ParamType::Enumeration(LDAP_SECURITY_WORDS),
        "None",
        guide = false,
        expert = false,
        "6.3",
        "Connection to the LDAP server: None (plain), StartTLS, or LDAPS (TLS from the start)"
    ),
    p!(
        Server,
        "AuthLdapCheckCertificate",
        YES_NO,
        "Yes",
        guide = false,
        expert = true,
        "6.3",
        "Check the LDAP server's TLS certificate (No only for test servers with a self-signed one)"
    ),
    p!(
        Server,
        "smtp",
        TEXT,
        "",
        guide = false,
        expert = false,
        "9.1.5",
        "SMTP server address for e-mail alerts"
    ),
    p!(
        Server,
        "SmtpAuthUserName",
        TEXT,
        "",
        guide = false,
        expert = true,
        "9.1.5",
        "User name of the SMTP account"
    ),
    p!(
        Server,
        "SmtpAuthPassword",
        TEXT,
        "",
        guide = false,
        expert = true,
        "9.1.5",
        "Password of the SMTP account"
    ),
    p!(
        Server,
        "SmtpServerPort",
        PORT,
        "25",
        guide = false,
        expert = true,
        "9.1.5",
        "Port of the SMTP server"
    ),
    // TWP Caller
    p!(
        Caller,
        "vmNumber",
        TEXT,
        "",
        guide = false,
        expert = false,
        "9.1.4",
        "Voicemail number called from the sidebar button"
    ),
    p!(
        Caller,
        "MapServiceURL",
        TEXT,
        "",
        guide = false,
        expert = false,
        "8",
        "Mapping web site opened for address fields (option a)"
    ),
    p!(
        Caller,
        "AuthorizeSupervisionInformation",
        TEXT,
        "",
        guide = false,
        expert = false,
        "9.1.7",
        "Name of the group whose incoming call information the user sees"
    ),
    p!(
        Caller,
        "AuthorizeShareRulesGroup",
        TEXT,
        "",
        guide = false,
        expert = false,
        "9.1.7",
        "Name of the group whose first active forward rule the user sees"
    ),
    p!(
        Caller,
        "SupervisionInformationIGroup",
        TEXT,
        "",
        guide = false,
        expert = true,
        "9.1.7",
        "Intercom group whose directories resolve names in supervision information"
    ),
    feature!(
        "AuthorizeChat",
        None,
        expert = false,
        "Text chat with contacts"
    ),
    feature!(
        "AuthorizeContactFavorite",
        None,
        expert = false,
        "Create private contacts"
    ),
    feature!(
        "AuthorizeHotKeys",
        None,
        expert = false,
        "Keyboard shortcuts Ctrl+F1 to Ctrl+F11 to call contacts"
    ),
    feature!(
        "AuthorizeHotKeysExe",
        None,
        expert = false,
        "Keyboard shortcut Ctrl+F12 to call a highlighted number"
    ),
    feature!(
        "AuthorizeInterception",
        None,
        expert = false,
        "Intercept calls arriving at contacts' devices"
    ),
    feature!(
        "AuthorizeNote",
        Some("AuhtorizeNote"),
        expert = false,
        "Post public notes"
    ),
    feature!(
        "AuthorizeP2pAppSharing",
        None,
        expert = false,
        "Start an application sharing from the PC"
    ),
    feature!(
        "AuthorizePublicList",
        None,
        expert = false,
        "Make a contact list public"
    ),
    feature!(
        "AuthorizeSimpleRules",
        None,
        expert = false,
        "Create, modify or delete forwarding rules"
    ),
    feature!(
        "AuthorizeSms",
        None,
        expert = false,
        "Send SMS to a contact's mobile number"
    ),
    feature!(
        "AuthorizedCurrentDevice",
        Some("AuhtorizedCurrentDevice"),
        expert = false,
        "Create a new current device"
    ),
    feature!(
        "AuthorizedAdvancedSearch",
        None,
        expert = true,
        "Advanced search in the Caller"
    ),
    feature!(
        "AuthorizedCalendarPresences",
        None,
        expert = true,
        "View calendar events of contacts in contact lists"
    ),
    feature!(
        "AuthorizedCreateProfil",
        None,
        expert = true,
        "Create a new profile in the preferences"
    ),
    feature!(
        "AuthorizedCustomMessagePresences",
        None,
        expert = true,
        "Create and use custom presence messages"
    ),
    feature!(
        "AuthorizedEmailNotification",
        None,
        expert = true,
        "E-mail notifications of missed calls or voicemails"
    ),
    feature!(
        "AuthorizedExternalChat",
        None,
        expert = true,
        "Chat with external parties"
    ),
    feature!(
        "AuthorizedMultiChat",
        None,
        expert = true,
        "Chat during a conference session"
    ),
    feature!(
        "AuthorizedSaveChat",
        None,
        expert = true,
        "Configure the backup of instant messages"
    ),
    feature!(
        "AuthorizedPhoneSupervisionPresences",
        None,
        expert = true,
        "View phone supervision events of contacts"
    ),
    feature!(
        "DisplaySimpleRules",
        None,
        expert = true,
        "View forward rules set from the telephone"
    ),
    feature!(
        "AuthorizedForwardOriginAll",
        None,
        expert = true,
        "Forward rules on calls of any origin"
    ),
    feature!(
        "AuthorizedForwardOriginExternal",
        None,
        expert = true,
        "Forward rules on external calls"
    ),
    feature!(
        "AuthorizedForwardOriginInternal",
        None,
        expert = true,
        "Forward rules on internal calls"
    ),
    feature!(
        "AuthorizedForwardPresenceAbsent",
        Some("AuthorizedForwardPresenceAsbsent"),
        expert = true,
        "Forward rules on presence Absent"
    ),
    feature!(
        "AuthorizedForwardPresenceBusy",
        None,
        expert = true,
        "Forward rules on presence Busy"
    ),
    feature!(
        "AuthorizedForwardPresenceCalendar",
        None,
        expert = true,
        "Forward rules on calendar presence"
    ),
    feature!(
        "AuthorizedForwardPresenceOffline",
        None,
        expert = true,
        "Forward rules on presence Offline"
    ),
    feature!(
        "AuthorizedForwardPresenceOnline",
        None,
        expert = true,
        "Forward rules on presence Online"
    ),
    feature!(
        "AuthorizedForwardTypeBusy",
        None,
        expert = true,
        "Forward on busy"
    ),
    feature!(
        "AuthorizedForwardTypeImmediate",
        None,
        expert = true,
        "Immediate forward"
    ),
    feature!(
        "AuthorizedForwardTypeNoAnswer",
        None,
        expert = true,
        "Forward on no answer"
    ),
    // TWP Alerter
    p!(
        Alerter,
        "AlerterWidth",
        PIXELS,
        "400",
        guide = false,
        expert = false,
        "9.2.1",
        "Width of the Alerter window in pixels"
    ),
    p!(
        Alerter,
        "AlerterHeight",
        PIXELS,
        "300",
        guide = false,
        expert = false,
        "9.2.1",
        "Height of the Alerter window in pixels"
    ),
    p!(
        Alerter,
        "AlerterMode",
        ParamType::Enumeration(&["XML", "URL"]),
        "XML",
        guide = false,
        expert = false,
        "9.2.1",
        "XML: caller information laid out by AlerterXml; URL: the page AlerterUrl"
    ),
    p!(
        Alerter,
        "AlerterXml",
        TEXT,
        "",
        guide = false,
        expert = false,
        "9.2.1",
        "XML file customizing the display when AlerterMode is XML"
    ),
    p!(
        Alerter,
        "AlerterUrl",
        TEXT,
        "",
        guide = false,
        expert = false,
        "9.2.1",
        "Web address shown when AlerterMode is URL; [-Field-] placeholders allowed"
    ),
    // TWP Rules
    p!(
        Rules,
        "CIRCULARLEVEL",
        ParamType::Integer { min: 0, max: 100 },
        "2",
        guide = false,
        expert = false,
        "9.6.2",
        "Chained forwards refused before a call returns to its first device (0 = no check)"
    ),
    p!(
        Rules,
        "CreateOnlyRUL",
        YES_NO,
        "No",
        guide = false,
        expert = false,
        "9.6.2",
        "Users only have advanced rules; no forward is applied in the PBX"
    ),
    p!(
        Rules,
        "EMERGENCYNUMBER",
        TEXT,
        "",
        guide = false,
        expert = false,
        "9.6.2",
        "Number called when forward targets do not answer (with TRANSFERVERIFICATION)"
    ),
    p!(
        Rules,
        "EMERGENCYNUMBERCALLTIMES",
        ParamType::Integer { min: 0, max: 100 },
        "1",
        guide = false,
        expert = false,
        "9.6.2",
        "Times the emergency number is called when nobody answers"
    ),
    p!(
        Rules,
        "IsUserAuthorizedToCreateWithAdminRules",
        YES_NO,
        "Yes",
        guide = false,
        expert = false,
        "9.6.2",
        "The user may create forward rules when the administrator imposes others"
    ),
    p!(
        Rules,
        "TRANSFERVERIFICATION",
        YES_NO,
        "No",
        guide = false,
        expert = false,
        "9.6.2",
        "Check that forwarded calls are answered; else divert to the emergency number"
    ),
    p!(
        Rules,
        "WAITTIMENOREPLY",
        SECONDS,
        "20",
        guide = false,
        expert = false,
        "9.6.2",
        "Seconds an advanced rule waits before forwarding on no answer"
    ),
    p!(
        Rules,
        "WAITTIMENOREPLYPBX",
        SECONDS,
        "20",
        guide = false,
        expert = false,
        "9.6.2",
        "Seconds a PBX/simple rule waits before forwarding on no answer (copy the PBX value)"
    ),
    // TWP MediaServer
    p!(
        MediaServer,
        "AppSharingRouterIP",
        TEXT,
        "127.0.0.1",
        guide = false,
        expert = false,
        "9.7.2",
        "IP address of the application sharing router service"
    ),
    p!(
        MediaServer,
        "AppSharingRouterPort",
        PORT,
        "8202",
        guide = true,
        expert = false,
        "9.7.2",
        "Port of the application sharing router service"
    ),
    p!(
        MediaServer,
        "MediaServerSIP_IP",
        TEXT,
        "127.0.0.1",
        guide = false,
        expert = true,
        "9.7.2",
        "IP address of the conference service"
    ),
    p!(
        MediaServer,
        "MediaServerSIP_Port",
        PORT,
        "8201",
        guide = true,
        expert = true,
        "9.7.2",
        "Port of the conference service for audio/video conferencing"
    ),
];
