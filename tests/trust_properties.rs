//! Properties of the link trust rule, `authorize::trust_link`: whatever Freedom ID (or
//! anyone in its place) answers, the Worker only ever redirects to the authorize URL's own
//! origin, and to the link exactly as received.
//!
//! The oracle is [`reference_same_origin`], a short reading of the link written here
//! independently of `src/url.rs` (the crate has no URL library to compare with). It is
//! deliberately narrow: it only says "same origin" for printable-ASCII links a browser
//! cannot read any other way, and the properties check that `trust_link` accepts exactly
//! those. If the rule is ever loosened or tightened on purpose, update the reference too.
//!
//! Native only: proptest is not a wasm32 dev-dependency.
//!
//! One file: the generators and the properties they feed belong together (the generators are
//! checked below to reach both outcomes); split into "Generators" and "Properties".
#![cfg(not(target_arch = "wasm32"))]

#[path = "support/reference_origin.rs"]
mod reference_origin;
use freedom_id_edge::base::url::AbsoluteUrl;
use freedom_id_edge::freedom_id::authorize::{parse_body, trust_link};
use freedom_id_edge::Error;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reference_origin::reference_same_origin;

const AUTHORIZE: &str = "https://passport.freedompay.kz/api/v1/oauth/authorize";
const GOOD_HOST: &str = "passport.freedompay.kz";

fn passport() -> AbsoluteUrl {
    AbsoluteUrl::parse(AUTHORIZE).expect("the default authorize URL parses")
}

fn local(port: u16) -> AbsoluteUrl {
    AbsoluteUrl::parse(&format!("http://127.0.0.1:{port}/api/v1/oauth/authorize"))
        .expect("a loopback authorize URL parses")
}

/// `trust_link`'s answer, checked for the invariants every acceptance must have: the
/// reference agrees, the origin is the authorize URL's, and the link is not rewritten.
fn accepted(link: &str, authorize: &AbsoluteUrl, reference: bool) -> Result<bool, TestCaseError> {
    match trust_link(link, authorize) {
        Ok(trusted) => {
            prop_assert!(reference, "accepted, but the reference disagrees: {link:?}");
            prop_assert!(trusted.url.same_origin(authorize), "{link:?}");
            prop_assert_eq!(trusted.url.as_str(), link, "the link was rewritten");
            Ok(true)
        }
        Err(error) => {
            prop_assert_eq!(error, Error::UntrustedLink, "{:?}", link);
            prop_assert!(!reference, "refused, but the reference accepts: {link:?}");
            Ok(false)
        }
    }
}

// ---------------------------------------------------------------------------------------
// Generators.

/// Characters that matter to URL parsers, lookalikes and invisible ones included.
const TRICKY_CHARS: &[char] = &[
    '@', ':', '/', '\\', '?', '#', '%', '.', '[', ']', ' ', '\t', '\r', '\n', '\0', '\u{7f}',
    '\u{85}', '\u{a0}', '\u{2028}', '\u{2029}', '\u{feff}', '\u{200b}', '\u{202e}', '\u{3002}',
    '\u{ff0e}', '\u{ff0f}', '\u{ff20}', '\u{212a}', 'а', 'ı', 'A', 'K', 'Z', 'a', 'k', 'z', '0',
    '4', '9', '-', '_', '~', '&', '=', '+', ';', ',', '!', '$', '\'', '(', ')', '*',
];

/// Good links to mutate.
const GOOD_LINKS: &[&str] = &[
    "https://passport.freedompay.kz/login?track_id=t1&expire_at=1727246098",
    "https://passport.freedompay.kz",
    "HTTPS://Passport.FreedomPay.KZ:443/x#y",
    "https://passport.freedompay.kz?a=b",
    "https://passport.freedompay.kz#f",
    "https://passport.freedompay.kz:0443/",
];

/// Classic tricks to mutate, which must stay refused unless a mutation really fixes them.
const TRICK_LINKS: &[&str] = &[
    "https://evil.com@passport.freedompay.kz/",
    "https://passport.freedompay.kz@evil.com/",
    "https://evil.com#@passport.freedompay.kz",
    "https://evil.com\\@passport.freedompay.kz",
    "https://passport.freedompay.kz.evil.com/",
    "https://passport.freedompay.kz./login",
    "https://passport%2efreedompay.kz/",
    "//passport.freedompay.kz/login",
    " https://passport.freedompay.kz/login",
    "http://passport.freedompay.kz/login",
    "javascript:alert(1)//passport.freedompay.kz",
    "data:text/html,https://passport.freedompay.kz",
    "https://[::1]:443/",
    "https:passport.freedompay.kz/login",
    "https:///passport.freedompay.kz/login",
];

/// Pieces that concatenate into plausible and implausible links.
const TOKENS: &[&str] = &[
    "https",
    "HTTPS",
    "http",
    "javascript",
    "data",
    ":",
    "//",
    "/",
    "\\",
    "passport.freedompay.kz",
    "PASSPORT.FreedomPay.kz",
    "evil.com",
    ".",
    "@",
    "#",
    "?",
    ":443",
    ":0443",
    ":8443",
    ":65979",
    "%2e",
    "%40",
    "%2f",
    " ",
    "\t",
    "\n",
    "[::1]",
    "127.0.0.1",
    "login",
    "=",
    "&",
    "\u{3002}",
    "\u{2028}",
    "xn--80ak6aa92e",
];

#[derive(Clone, Debug)]
enum Edit {
    Insert(Index, char),
    Delete(Index),
    Replace(Index, char),
}

fn any_edit_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => select(TRICKY_CHARS),
        2 => (0x20u8..0x7f).prop_map(char::from),
        1 => any::<char>(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any_edit_char()).prop_map(|(at, c)| Edit::Insert(at, c)),
        any::<Index>().prop_map(Edit::Delete),
        (any::<Index>(), any_edit_char()).prop_map(|(at, c)| Edit::Replace(at, c)),
    ]
}

fn apply_edits(base: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    for edit in edits {
        match edit {
            Edit::Insert(at, c) => chars.insert(at.index(chars.len() + 1), *c),
            Edit::Delete(at) if !chars.is_empty() => {
                chars.remove(at.index(chars.len()));
            }
            Edit::Replace(at, c) if !chars.is_empty() => {
                let at = at.index(chars.len());
                chars[at] = *c;
            }
            Edit::Delete(_) | Edit::Replace(..) => {}
        }
    }
    chars.into_iter().collect()
}

/// Inserts each character at a position of `text` (in characters).
fn insert_chars(text: &str, insertions: &[(Index, char)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for (at, c) in insertions {
        chars.insert(at.index(chars.len() + 1), *c);
    }
    chars.into_iter().collect()
}

/// Any string at all, weighted towards near misses of the good origin.
fn link_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => any::<String>(),
        1 => "[ -~]{0,60}",
        5 => (select(GOOD_LINKS), prop::collection::vec(edit(), 0..3))
            .prop_map(|(base, edits)| apply_edits(base, &edits)),
        3 => (select(TRICK_LINKS), prop::collection::vec(edit(), 0..4))
            .prop_map(|(base, edits)| apply_edits(base, &edits)),
        3 => prop::collection::vec(select(TOKENS), 1..12).prop_map(|tokens| tokens.concat()),
    ]
}

/// Path, query and fragment tails: printable ASCII without `\`, after a delimiter.
fn tail_strategy() -> impl Strategy<Value = String> {
    let tricky_tail = select(
        &[
            "/@evil.com",
            "?@evil.com",
            "#@evil.com",
            "//evil.com",
            "/\u{2e}\u{2e}/evil.com",
            "?next=https://evil.com/",
            "#https://evil.com",
            "/:443@evil.com:80/",
            "/%2F%2Fevil.com",
            "?%00",
            "/%0d%0aLocation:%20https://evil.com",
        ][..],
    );
    prop_oneof![
        1 => Just(String::new()),
        4 => (select(&["/", "?", "#"][..]), "[!-\\[\\]-~]{0,40}")
            .prop_map(|(delimiter, rest)| format!("{delimiter}{rest}")),
        1 => tricky_tail.prop_map(str::to_owned),
    ]
}

/// Characters no trusted link may hold anywhere: controls, space, DEL, `\` and all of
/// non-ASCII (invisible, bidi, line separators, lookalikes of `/`, `.` and `@`).
fn forbidden_char() -> impl Strategy<Value = char> {
    prop_oneof![
        2 => select(&[
            '\t', '\r', '\n', '\0', '\u{7f}', ' ', '\\', '\u{85}', '\u{a0}', '\u{1680}',
            '\u{2028}', '\u{2029}', '\u{200b}', '\u{200e}', '\u{202e}', '\u{3000}', '\u{feff}',
            '\u{ff0f}', '\u{ff0e}', '\u{ff20}', '\u{2044}', 'é', 'а', '\u{212a}',
        ][..]),
        1 => (0u8..0x20).prop_map(char::from),
        1 => (0x80u32..=0x10_ffff).prop_filter_map("a char", char::from_u32),
    ]
}

/// (text, whether it is the good one) choices for each piece of a link.
type Choices = &'static [(&'static str, bool)];

const PREFIXES: Choices = &[
    ("", true),
    (" ", false),
    ("\t", false),
    ("\n", false),
    ("\u{feff}", false),
    ("\u{2028}", false),
    ("/", false),
    ("//", false),
    ("x", false),
];

const SCHEMES: Choices = &[
    ("https", true),
    ("HTTPS", true),
    ("HttpS", true),
    ("http", false),
    ("HTTP", false),
    ("javascript", false),
    ("data", false),
    ("ftp", false),
    ("wss", false),
    ("file", false),
    ("httpss", false),
    ("htps", false),
    ("", false),
];

const SEPARATORS: Choices = &[
    ("://", true),
    (":/", false),
    (":", false),
    (":///", false),
    (":\\\\", false),
    (":/\\", false),
    (":\\/", false),
    ("//", false),
    ("", false),
    (":%2f%2f", false),
];

const USERINFO: Choices = &[
    ("", true),
    ("user@", false),
    ("user:pw@", false),
    ("passport.freedompay.kz@", false),
    ("evil.com@", false),
    ("@", false),
    (":@", false),
    ("%40@", false),
    ("passport.freedompay.kz:443@", false),
];

const HOSTS: Choices = &[
    ("passport.freedompay.kz", true),
    ("PASSPORT.FREEDOMPAY.KZ", true),
    ("Passport.FreedomPay.Kz", true),
    ("evil.com", false),
    ("passport.freedompay.kz.evil.com", false),
    ("evilpassport.freedompay.kz", false),
    ("passport.freedompay.kz.", false),
    (".passport.freedompay.kz", false),
    ("passport..freedompay.kz", false),
    ("passport.freedompay.kz%2e", false),
    ("passport%2efreedompay.kz", false),
    ("%70assport.freedompay.kz", false),
    ("passport.freedompay.kz%00.evil.com", false),
    ("passport.freedompay.k\u{212a}", false),
    ("pаssport.freedompay.kz", false),
    ("passport\u{3002}freedompay.kz", false),
    ("passport\u{ff0e}freedompay.kz", false),
    ("ｐassport.freedompay.kz", false),
    ("xn--passport-9za.freedompay.kz", false),
    ("freedompay.kz", false),
    ("[::1]", false),
    ("[2001:db8::1]", false),
    ("[::ffff:127.0.0.1]", false),
    ("127.0.0.1", false),
    ("2130706433", false),
    ("0x7f.1", false),
    ("", false),
];

const PORTS: Choices = &[
    ("", true),
    (":443", true),
    (":0443", true),
    (":00443", true),
    (":", false),
    (":000443", false),
    (":80", false),
    (":8443", false),
    (":4430", false),
    (":44", false),
    (":443x", false),
    (":+443", false),
    (":-443", false),
    (":65979", false),
    (":99999", false),
    (":0", false),
    (":0x1bb", false),
];

#[derive(Clone, Debug)]
struct Pieces {
    prefix: (&'static str, bool),
    scheme: (&'static str, bool),
    separator: (&'static str, bool),
    userinfo: (&'static str, bool),
    host: (&'static str, bool),
    port: (&'static str, bool),
    tail: String,
    forbidden: Vec<(Index, char)>,
}

impl Pieces {
    fn link(&self) -> String {
        let clean = [
            self.prefix.0,
            self.scheme.0,
            self.separator.0,
            self.userinfo.0,
            self.host.0,
            self.port.0,
            &self.tail,
        ]
        .concat();
        insert_chars(&clean, &self.forbidden)
    }

    fn all_good(&self) -> bool {
        [
            self.prefix,
            self.scheme,
            self.separator,
            self.userinfo,
            self.host,
            self.port,
        ]
        .iter()
        .all(|(_, good)| *good)
            && self.forbidden.is_empty()
    }
}

fn pieces_strategy() -> impl Strategy<Value = Pieces> {
    // Each piece is the good one about four times in five, so a fair share of links is
    // good and each bad piece still shows up alone.
    let piece = |choices: Choices| prop_oneof![3 => Just(choices[0]), 1 => select(choices)];
    (
        piece(PREFIXES),
        piece(SCHEMES),
        piece(SEPARATORS),
        piece(USERINFO),
        piece(HOSTS),
        piece(PORTS),
        tail_strategy(),
        prop_oneof![
            3 => Just(Vec::new()),
            1 => prop::collection::vec((any::<Index>(), forbidden_char()), 1..3),
        ],
    )
        .prop_map(
            |(prefix, scheme, separator, userinfo, host, port, tail, forbidden)| Pieces {
                prefix,
                scheme,
                separator,
                userinfo,
                host,
                port,
                tail,
                forbidden,
            },
        )
}

/// A good link: the good origin in any case, maybe with `:443`, then any tail.
fn good_link_strategy() -> impl Strategy<Value = String> {
    (
        select(&["https://", "HTTPS://", "hTtPs://"][..]),
        select(
            &[
                GOOD_HOST,
                "PASSPORT.FREEDOMPAY.KZ",
                "Passport.FreedomPay.kz",
            ][..],
        ),
        select(&["", ":443", ":0443"][..]),
        tail_strategy(),
    )
        .prop_map(|(scheme, host, port, tail)| format!("{scheme}{host}{port}{tail}"))
}

/// Form-encodes a query value: space as `+`, every other byte but unreserved ones as `%XX`.
fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                char::from(b).to_string()
            } else if b == b' ' {
                "+".to_owned()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `text` as a JSON string literal with every character escaped as `\uXXXX`.
fn json_all_escaped(text: &str) -> String {
    let mut out = String::from("\"");
    for unit in text.encode_utf16() {
        out.push_str(&format!("\\u{unit:04x}"));
    }
    out.push('"');
    out
}

// ---------------------------------------------------------------------------------------
// Properties.

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16384))]

    /// (a) On any string, `trust_link` accepts exactly what the reference reads as the
    /// authorize URL's origin, and never rewrites what it accepts.
    #[test]
    fn any_string_is_trusted_exactly_when_its_origin_is_the_authorize_origin(
        link in link_strategy()
    ) {
        let reference = reference_same_origin(&link, "https", GOOD_HOST, 443);
        accepted(&link, &passport(), reference)?;
    }

    /// (b) A link built from pieces is trusted exactly when scheme, separator, host and
    /// port are the good ones, with no prefix, no userinfo and no forbidden character
    /// anywhere.
    #[test]
    fn a_link_from_pieces_is_trusted_exactly_when_every_piece_is_good(
        pieces in pieces_strategy()
    ) {
        let link = pieces.link();
        let expected = pieces.all_good();
        prop_assert_eq!(
            reference_same_origin(&link, "https", GOOD_HOST, 443),
            expected,
            "the reference disagrees with the pieces: {:?}", link
        );
        prop_assert_eq!(accepted(&link, &passport(), expected)?, expected, "{:?}", link);
    }

    /// (c) Any good link is trusted as is: same text, and its `track_id` read back.
    #[test]
    fn good_links_are_trusted_unchanged(
        prefix in good_link_strategy(),
        track_id in prop_oneof![any::<String>(), "[ -~]{0,30}"],
    ) {
        let plain = prefix.split(['?', '#']).next().unwrap_or_default().to_owned();
        let with_track_id = format!("{plain}?track_id={}", form_encode(&track_id));
        for link in [&prefix, &with_track_id] {
            prop_assert!(accepted(link, &passport(), true)?);
        }
        let trusted = trust_link(&with_track_id, &passport()).expect("just accepted");
        prop_assert_eq!(trusted.track_id, Some(track_id));
    }

    /// (d) A forbidden character anywhere in a good link makes it untrusted.
    #[test]
    fn a_forbidden_character_anywhere_is_refused(
        link in good_link_strategy(),
        insertions in prop::collection::vec((any::<Index>(), forbidden_char()), 1..3),
    ) {
        let link = insert_chars(&link, &insertions);
        prop_assert!(!reference_same_origin(&link, "https", GOOD_HOST, 443));
        prop_assert!(!accepted(&link, &passport(), false)?, "{:?}", link);
    }

    /// (e) The whole answer path agrees with the rule, however the link is escaped in
    /// the JSON body (plain, `\/`, or every character as `\uXXXX`, surrogates included).
    #[test]
    fn the_json_answer_path_applies_the_same_rule(
        link in link_strategy(),
        escaping in 0..3u8,
        other_member_first in any::<bool>(),
    ) {
        let plain = serde_json::to_string(&link).expect("a string serialises");
        let encoded = match escaping {
            0 => plain,
            1 => plain.replace('/', "\\/"),
            _ => json_all_escaped(&link),
        };
        let body = if other_member_first {
            format!(r#"{{"redirect_uri_x":"https://evil.com/","redirect_uri":{encoded},"error":null}}"#)
        } else {
            format!(r#" {{ "redirect_uri" : {encoded} , "other" : ["https://evil.com/"] }} "#)
        };
        prop_assert_eq!(
            parse_body(200, &body, &passport()),
            trust_link(&link, &passport()),
            "{}", body
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8192))]

    /// (f) With a local mock's `http://127.0.0.1:PORT` authorize URL, a link is trusted
    /// exactly when it is `http` on `127.0.0.1` written that way, on that very port.
    #[test]
    fn a_local_authorize_url_trusts_only_its_own_origin(
        authorize_port in 1u16..,
        scheme in select(&[("http", true), ("HTTP", true), ("https", false)][..]),
        host in select(&[
            ("127.0.0.1", true),
            ("localhost", false),
            ("127.1", false),
            ("2130706433", false),
            ("0x7f000001", false),
            ("0177.0.0.1", false),
            ("127.000.000.001", false),
            ("127.0.0.01", false),
            ("127.0.0.1.", false),
            ("[::1]", false),
            ("[::ffff:127.0.0.1]", false),
            ("127.0.0.2", false),
        ][..]),
        port in prop_oneof![
            Just(None),
            Just(Some(0u32)),
            Just(Some(80)),
            Just(Some(443)),
            any::<u16>().prop_map(|p| Some(u32::from(p))),
        ],
        use_authorize_port in any::<bool>(),
        zero_padding in 0usize..7,
        tail in tail_strategy(),
    ) {
        let port = if use_authorize_port { Some(u32::from(authorize_port)) } else { port };
        let written_port = port.map(|p| format!(":{p:0zero_padding$}")).unwrap_or_default();
        let link = format!("{}://{}{written_port}{tail}", scheme.0, host.0);
        let effective_port_is_good = match port {
            None => authorize_port == 80,
            Some(p) => p == u32::from(authorize_port) && written_port.len() <= 6,
        };
        let expected = scheme.1 && host.1 && effective_port_is_good;
        prop_assert_eq!(
            reference_same_origin(&link, "http", "127.0.0.1", authorize_port),
            expected,
            "the reference disagrees with the pieces: {:?}", link
        );
        let authorize = local(authorize_port);
        prop_assert_eq!(accepted(&link, &authorize, expected)?, expected, "{:?}", link);
        // The production origin never trusts a loopback link.
        prop_assert!(trust_link(&link, &passport()).is_err());
    }
}

/// The generators are not vacuous: the mixed one yields both trusted and untrusted links in
/// fair numbers, and the pieces one hits every outcome.
#[test]
fn the_generators_reach_both_outcomes() {
    let mut runner = TestRunner::deterministic();
    let authorize = passport();
    let links = link_strategy();
    let trusted = (0..4000)
        .filter(|_| {
            let link = links.new_tree(&mut runner).expect("a value").current();
            trust_link(&link, &authorize).is_ok()
        })
        .count();
    eprintln!("mixed generator: {trusted} of 4000 links trusted");
    assert!((400..3600).contains(&trusted), "{trusted} of 4000 trusted");

    let pieces = pieces_strategy();
    let good = (0..4000)
        .filter(|_| {
            pieces
                .new_tree(&mut runner)
                .expect("a value")
                .current()
                .all_good()
        })
        .count();
    eprintln!("pieces generator: {good} of 4000 links with every piece good");
    assert!((200..3800).contains(&good), "{good} of 4000 all good");
}

/// The reference itself, on the classic tricks (so a broken oracle cannot hide a bug).
#[test]
fn the_reference_reads_the_classic_tricks_right() {
    let same = [
        "https://passport.freedompay.kz",
        "https://passport.freedompay.kz/",
        "https://passport.freedompay.kz?x",
        "https://passport.freedompay.kz#x",
        "HTTPS://PASSPORT.FREEDOMPAY.KZ:443/login",
        "https://passport.freedompay.kz:00443/login?next=@evil.com",
    ];
    for link in same {
        assert!(
            reference_same_origin(link, "https", GOOD_HOST, 443),
            "{link}"
        );
    }
    let other = [
        "https://good@evil",
        "https://passport.freedompay.kz@evil.com",
        "https://evil.com#@passport.freedompay.kz",
        "https://evil.com\\@passport.freedompay.kz",
        "https://passport.freedompay.kz\\@evil.com",
        "https://passport.freedompay.kz.",
        "https://passport.freedompay.kz.evil.com",
        "https://passport.freedompay.kz:",
        "https://passport.freedompay.kz:8443",
        "https://passport.freedompay.kz:65979",
        "https://passport.freedompay.kz:000443",
        "https:///passport.freedompay.kz",
        "https:passport.freedompay.kz",
        "http://passport.freedompay.kz",
        "//passport.freedompay.kz",
        " https://passport.freedompay.kz",
        "https://passport.freedompay.kz/\t",
        "https://passport.freedompay.kz/\u{2028}",
        "https://passport%2efreedompay.kz",
        "https://[::1]",
        "javascript://passport.freedompay.kz/%0aalert(1)",
        "data:text/html,https://passport.freedompay.kz",
        "",
    ];
    for link in other {
        assert!(
            !reference_same_origin(link, "https", GOOD_HOST, 443),
            "{link:?}"
        );
    }
    assert!(reference_same_origin(
        "http://127.0.0.1:8788/login",
        "http",
        "127.0.0.1",
        8788
    ));
    assert!(!reference_same_origin(
        "http://127.0.0.1/login",
        "http",
        "127.0.0.1",
        8788
    ));
}
