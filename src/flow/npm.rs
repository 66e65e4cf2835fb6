//! The npm package's flows: the authorization link and the complete-sign-in sequence, every
//! decision of `createAuthorizationLink` and `completeSignIn`, over I/O its driver performs.
