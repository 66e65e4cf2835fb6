//! The Worker's HTTP side as data: which route a request is for, who the answer is for
//! (HTML or JSON, which language), the answers and error pages, the start page, the texts
//! in three languages, and what a request forwarded through the gate carries.

pub mod answer;
pub mod assertion;
pub mod assertion_verify;
pub mod forward;
pub mod i18n;
pub mod negotiate;
pub mod pages;
pub mod problem;
pub mod route;

pub use answer::{
    healthz, healthz_with_warnings, no_content, public_key_set, redirect, see_other,
    session_status, sign_in_redirect, Answer, SessionStatus, HTML_CSP,
};
pub use negotiate::{prefers_html, Client};
pub use pages::{lang_cookie, start_page};
pub use problem::{
    access_denied, app_unreachable, login_answer, method_not_allowed, problem, problem_type,
    public_detail, rate_limited, sign_in_required, Message,
};
pub use route::{route, Allow, NoRoute, Route};
