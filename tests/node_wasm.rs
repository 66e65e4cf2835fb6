//! The npm export compiled to wasm and run in Node by wasm-bindgen-test, against a small
//! HTTP server each test starts in the same Node process.
//!
//! `cargo test --target wasm32-unknown-unknown --features node --test node_wasm`
#![cfg(all(target_arch = "wasm32", feature = "node"))]

use freedom_id_edge::drivers::node::{complete_sign_in, create_authorization_link};
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

/// Starts a one-route server on 127.0.0.1 answering every request with `status` and `body`,
/// and resolves to `{ url, close }`. Node's own http module, reached without `require`.
async fn start_server(status: u16, body: &str) -> Object {
    let start = Function::new_with_args(
        "status, body",
        "const http = process.getBuiltinModule('node:http');
         const server = http.createServer((req, res) => {
           req.resume();
           req.on('end', () => { res.writeHead(status, { 'content-type': 'application/json' }); res.end(body.replace('ORIGIN', 'http://127.0.0.1:' + server.address().port)); });
         });
         return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
           url: 'http://127.0.0.1:' + server.address().port + '/api/v1/oauth/authorize',
           close: () => new Promise((done) => server.close(done)),
         })));",
    );
    let promise: Promise = start
        .call2(
            &JsValue::NULL,
            &JsValue::from(status),
            &JsValue::from_str(body),
        )
        .unwrap()
        .unchecked_into();
    JsFuture::from(promise).await.unwrap().unchecked_into()
}

async fn close(server: &Object) {
    let close: Function = Reflect::get(server, &"close".into())
        .unwrap()
        .unchecked_into();
    JsFuture::from(close.call0(server).unwrap().unchecked_into::<Promise>())
        .await
        .unwrap();
}

fn options(authorize_url: &JsValue) -> JsValue {
    let options = Object::new();
    let set = |key: &str, value: JsValue| Reflect::set(&options, &key.into(), &value).unwrap();
    set("clientId", "demo-client".into());
    set("clientSecret", "demo-secret".into());
    set("redirectUri", "http://localhost:3000/callback".into());
    set(
        "grants",
        Array::of2(&"openid".into(), &"read.email".into()).into(),
    );
    set("authorizeUrl", authorize_url.clone());
    options.into()
}

fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &key.into()).unwrap()
}

#[wasm_bindgen_test]
async fn resolves_to_the_link_with_its_track_id_and_expiry() {
    let server = start_server(
        200,
        r#"{"redirect_uri":"ORIGIN/login?track_id=t-1&expire_at=1727246098"}"#,
    )
    .await;
    let link = create_authorization_link(options(&get(&server, "url")))
        .await
        .unwrap();
    close(&server).await;
    let url = get(&link, "url").as_string().unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:")
            && url.ends_with("/login?track_id=t-1&expire_at=1727246098"),
        "{url}"
    );
    assert_eq!(get(&link, "trackId").as_string().as_deref(), Some("t-1"));
    assert_eq!(get(&link, "expireAt").as_f64(), Some(1_727_246_098.0));
}

#[wasm_bindgen_test]
async fn rejects_with_an_error_carrying_code_and_status() {
    let server = start_server(503, r#"{"error":{"message":"down","code":1}}"#).await;
    let error = create_authorization_link(options(&get(&server, "url")))
        .await
        .unwrap_err();
    close(&server).await;
    assert!(error.is_instance_of::<js_sys::Error>());
    assert_eq!(
        get(&error, "code").as_string().as_deref(),
        Some("UPSTREAM_STATUS")
    );
    assert_eq!(get(&error, "status").as_f64(), Some(503.0));
    let message = get(&error, "message").as_string().unwrap();
    assert!(
        !message.contains("demo-secret") && !message.contains("down"),
        "{message}"
    );
}

#[wasm_bindgen_test]
async fn bad_options_reject_before_any_call() {
    let options = options(&"ftp://127.0.0.1/".into());
    let error = create_authorization_link(options).await.unwrap_err();
    assert_eq!(
        get(&error, "code").as_string().as_deref(),
        Some("INVALID_OPTIONS")
    );
    let message = get(&error, "message").as_string().unwrap();
    assert_eq!(
        message,
        "freedom-id-edge: invalid options: authorizeUrl is not an absolute http:// or https:// URL"
    );
}

/// A JS value made by `body` (a function body returning it), for shapes Rust cannot build.
fn js(body: &str) -> JsValue {
    Function::new_no_args(body).call0(&JsValue::NULL).unwrap()
}

fn invalid_options_message(error: &JsValue) -> String {
    assert_eq!(
        get(error, "code").as_string().as_deref(),
        Some("INVALID_OPTIONS")
    );
    get(error, "message").as_string().unwrap()
}

#[wasm_bindgen_test]
async fn only_own_readable_options_are_used() {
    // Inherited: never read. A throwing getter: named, what it threw never shown.
    let inherited = js("const o = Object.create({ clientSecret: 'inherited-secret' });
         return Object.assign(o, { clientId: 'c', redirectUri: 'https://a.kz/cb', grants: ['openid'] });");
    let error = create_authorization_link(inherited).await.unwrap_err();
    assert_eq!(
        invalid_options_message(&error),
        "freedom-id-edge: invalid options: clientSecret is missing"
    );
    let throwing = js("return Object.defineProperty(
           { clientId: 'c', redirectUri: 'https://a.kz/cb', grants: ['openid'] },
           'clientSecret', { get() { throw new Error('boom secret'); }, enumerable: true });");
    let error = create_authorization_link(throwing).await.unwrap_err();
    assert_eq!(
        invalid_options_message(&error),
        "freedom-id-edge: invalid options: clientSecret could not be read"
    );
    // An array item that throws makes no array of strings (and no uncaught exception).
    let grants = js("const grants = ['openid'];
         Object.defineProperty(grants, 1, { get() { throw new Error('boom'); } });
         return { clientId: 'c', clientSecret: 's', redirectUri: 'https://a.kz/cb', grants };");
    let error = create_authorization_link(grants).await.unwrap_err();
    assert_eq!(
        invalid_options_message(&error),
        "freedom-id-edge: invalid options: grants must be an array of strings"
    );
}

#[wasm_bindgen_test]
async fn complete_sign_in_checks_the_state_before_any_call() {
    // Port 1 refuses: had the code been sent, this would be UPSTREAM_NETWORK.
    let options = js(
        "return { clientId: 'c', clientSecret: 's', tokenUrl: 'http://127.0.0.1:1/token',
           callbackUrl: '/callback?state=forged&authorization_code=c0de', expectedState: 'kept' };",
    );
    let error = complete_sign_in(options).await.unwrap_err();
    assert_eq!(
        get(&error, "code").as_string().as_deref(),
        Some("STATE_MISMATCH")
    );
    let skip = js(
        "return { clientId: 'c', clientSecret: 's', tokenUrl: 'http://127.0.0.1:1/token',
           callbackUrl: '/callback?authorization_code=c0de', skipStateCheck: true };",
    );
    let error = complete_sign_in(skip).await.unwrap_err();
    assert_eq!(
        get(&error, "code").as_string().as_deref(),
        Some("UPSTREAM_NETWORK")
    );
}
