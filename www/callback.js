// Shows what Freedom ID sent back to /callback. Reads only `authorization_code` and
// `error_code` from the query string (anything else, e.g. `state`, is ignored), writes
// with textContent only, and stores nothing (no cookies, no storage, no requests).
(function () {
  "use strict";

  var result = document.getElementById("result");
  if (!result) {
    return;
  }
  var retry = document.getElementById("retry");

  var params = new URLSearchParams(window.location.search);
  var authorizationCode = (params.get("authorization_code") || "").trim();
  var errorCode = (params.get("error_code") || "").trim();

  // A paragraph built from strings and {code: "..."} parts, as text only.
  function paragraph(parts, className) {
    var p = document.createElement("p");
    if (className) {
      p.className = className;
    }
    parts.forEach(function (part) {
      if (typeof part === "string") {
        p.appendChild(document.createTextNode(part));
      } else {
        var c = document.createElement("code");
        c.textContent = part.code;
        if (part.id) {
          c.id = part.id;
        }
        p.appendChild(c);
      }
    });
    return p;
  }

  function heading(text) {
    var h1 = document.createElement("h1");
    h1.textContent = text;
    return h1;
  }

  // Show values only in the shape Freedom ID uses, so a crafted link cannot put
  // arbitrary sentences on this page: error codes are short tokens (e.g. 100102),
  // authorization codes are visible ASCII without spaces.
  var errorCodeShape = /^[0-9A-Za-z_.-]{1,64}$/;
  var authorizationCodeShape = /^[\x21-\x7E]{1,2048}$/;

  var nodes;
  var retryText = "Sign in again";

  // If both are present, the error wins: the sign-in did not complete.
  if (errorCode) {
    retryText = "Try again";
    document.title = "Sign-in was not completed \u2013 Freedom ID demo";
    nodes = [heading("Sign-in was not completed")];
    if (errorCodeShape.test(errorCode)) {
      nodes.push(paragraph(["Freedom ID sent you back with this error code:"]));
      nodes.push(paragraph([{ code: errorCode, id: "error-code" }], "value"));
    } else {
      nodes.push(paragraph(["Freedom ID sent you back with an error code in an unexpected format, so it is not shown."]));
    }
    nodes.push(paragraph([
      "Freedom ID documents what each code means. For example, ",
      { code: "100102" },
      " means you declined the sign-in or the request was rejected."
    ]));
  } else if (authorizationCode && !authorizationCodeShape.test(authorizationCode)) {
    document.title = "Sign-in result not recognised \u2013 Freedom ID demo";
    nodes = [
      heading("Sign-in result not recognised"),
      paragraph([
        "This page\u2019s address has an authorization code in an unexpected format, so it is not shown. ",
        "Please sign in again."
      ])
    ];
  } else if (authorizationCode) {
    document.title = "Signed in \u2013 Freedom ID demo";
    nodes = [
      heading("You\u2019re signed in with Freedom ID"),
      paragraph(["Freedom ID sent you back with this authorization code:"]),
      paragraph([{ code: authorizationCode, id: "authorization-code" }], "value"),
      paragraph([
        "A real app\u2019s backend would now exchange this one-time code for tokens with Freedom ID\u2019s ",
        { code: "POST /api/v1/oauth/token" },
        ", using the client secret that only the server knows. The code works once and expires quickly."
      ]),
      paragraph(["This demo stops here: it does not exchange the code and keeps nothing."], "note")
    ];
  } else {
    document.title = "Nothing to show here \u2013 Freedom ID demo";
    nodes = [
      heading("Nothing to show here"),
      paragraph([
        "This is the page Freedom ID sends you back to after you sign in. ",
        "There is no sign-in result to show right now."
      ])
    ];
  }

  while (result.firstChild) {
    result.removeChild(result.firstChild);
  }
  nodes.forEach(function (node) {
    result.appendChild(node);
  });
  if (retry) {
    retry.textContent = retryText;
  }
})();
