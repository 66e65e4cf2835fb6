//! Which route a request is for. [`Route`] lists the Worker's own routes, with no catch-all:
//! every `match` on it is exhaustive, so a new route is one variant that the compiler then
//! asks for everywhere (its path, its methods, its handler). "No route" is kept apart, as
//! [`NoRoute`].

/// The routes the Worker handles itself. Static files in `www/` are served before the
/// Worker runs, so [`NoRoute::NotFound`] means no file matched either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Route {
    /// `GET`/`HEAD /`: the start page, in the visitor's language.
    Home,
    /// `GET`/`HEAD /login`: redirect to Freedom ID.
    Login,
    /// `GET /callback`: check the state, exchange the code, keep the session.
    Callback,
    /// `GET`/`HEAD /session`: is this browser signed in?
    Session,
    /// `POST /logout`: end the session.
    Logout,
    /// `POST /revoke`: Freedom ID's back-channel sign-out.
    Revoke,
    /// `GET`/`HEAD /healthz`: are the settings valid?
    Healthz,
    /// `GET`/`HEAD /.well-known/jwks.json`: the public keys of the gate's assertion.
    Jwks,
}

/// Why a request has no [`Route`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NoRoute {
    /// A route's path with another method: answer `405` with this `Allow`.
    MethodNotAllowed(Allow),
    /// No route has this path.
    NotFound,
}

/// The methods a route answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Allow {
    /// `GET` only (`/callback`: a `HEAD` must not spend a code).
    Get,
    /// `GET` and `HEAD`.
    GetHead,
    /// `POST` only.
    Post,
}

impl Allow {
    /// The `Allow` header's value.
    pub fn header(self) -> &'static str {
        match self {
            Allow::Get => "GET",
            Allow::GetHead => "GET, HEAD",
            Allow::Post => "POST",
        }
    }

    /// The key of the `405` page's text.
    pub fn message_key(self) -> &'static str {
        match self {
            Allow::Get => "detail.only_get",
            Allow::GetHead => "detail.only_get_head",
            Allow::Post => "detail.only_post",
        }
    }

    /// Whether `method` is one of these.
    pub fn admits(self, method: &str) -> bool {
        match self {
            Allow::Get => method == "GET",
            Allow::GetHead => matches!(method, "GET" | "HEAD"),
            Allow::Post => method == "POST",
        }
    }
}

impl Route {
    /// Every route (wrangler.toml's `run_worker_first` must list each path).
    pub const ALL: [Route; 8] = [
        Route::Home,
        Route::Login,
        Route::Callback,
        Route::Session,
        Route::Logout,
        Route::Revoke,
        Route::Healthz,
        Route::Jwks,
    ];

    /// The route's path.
    pub fn path(self) -> &'static str {
        match self {
            Route::Home => "/",
            Route::Login => "/login",
            Route::Callback => "/callback",
            Route::Session => "/session",
            Route::Logout => "/logout",
            Route::Revoke => "/revoke",
            Route::Healthz => "/healthz",
            Route::Jwks => crate::web::assertion::JWKS_PATH,
        }
    }

    /// The methods it answers.
    pub fn allow(self) -> Allow {
        match self {
            Route::Home | Route::Login | Route::Session | Route::Healthz | Route::Jwks => {
                Allow::GetHead
            }
            Route::Callback => Allow::Get,
            Route::Logout | Route::Revoke => Allow::Post,
        }
    }
}

/// Maps a request's method and path to a [`Route`] (paths match exactly, case included).
pub fn route(method: &str, path: &str) -> Result<Route, NoRoute> {
    let route = Route::ALL
        .into_iter()
        .find(|route| route.path() == path)
        .ok_or(NoRoute::NotFound)?;
    if route.allow().admits(method) {
        Ok(route)
    } else {
        Err(NoRoute::MethodNotAllowed(route.allow()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_table() {
        let not_allowed = |allow| Err(NoRoute::MethodNotAllowed(allow));
        let cases = [
            ("GET", "/login", Ok(Route::Login)),
            ("HEAD", "/login", Ok(Route::Login)),
            ("POST", "/login", not_allowed(Allow::GetHead)),
            ("PUT", "/login", not_allowed(Allow::GetHead)),
            ("GET", "/healthz", Ok(Route::Healthz)),
            ("DELETE", "/healthz", not_allowed(Allow::GetHead)),
            ("GET", "/callback", Ok(Route::Callback)),
            ("HEAD", "/callback", not_allowed(Allow::Get)),
            ("POST", "/callback", not_allowed(Allow::Get)),
            ("GET", "/session", Ok(Route::Session)),
            ("HEAD", "/session", Ok(Route::Session)),
            ("POST", "/logout", Ok(Route::Logout)),
            ("GET", "/logout", not_allowed(Allow::Post)),
            ("GET", "/login/", Err(NoRoute::NotFound)),
            ("GET", "/LOGIN", Err(NoRoute::NotFound)),
            ("GET", "/nope", Err(NoRoute::NotFound)),
            ("GET", "/.well-known/jwks.json", Ok(Route::Jwks)),
            (
                "POST",
                "/.well-known/jwks.json",
                not_allowed(Allow::GetHead),
            ),
            ("POST", "/nope", Err(NoRoute::NotFound)),
        ];
        for (method, path, expected) in cases {
            assert_eq!(route(method, path), expected, "{method} {path}");
        }
        assert_eq!(
            (
                Allow::GetHead.header(),
                Allow::Get.header(),
                Allow::Post.header()
            ),
            ("GET, HEAD", "GET", "POST")
        );
    }
}
