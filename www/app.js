// The start page's sign-in status. Asks the Worker's GET /session whether this browser is
// signed in ({"signedIn": true, "accessExpiresAt": n, "refreshExpiresAt": n or null,
// "user": {"id", "firstname", "lastname", ...} or null} or {"signedIn": false}; unix seconds)
// and shows one of the panels in index.html, greeting the user by name when it is known. It never
// sees a code or a token (the session cookie is HttpOnly and sealed), writes text only
// (textContent), and stores nothing. Signing out is a plain form: it works without this file.
(function () {
  "use strict";

  var status = document.getElementById("status");
  if (!status || !window.fetch) {
    return;
  }
  var panels = {
    loading: document.getElementById("status-loading"),
    signedOut: document.getElementById("status-signed-out"),
    signedIn: document.getElementById("status-signed-in"),
    error: document.getElementById("status-error")
  };
  var accessAt = document.getElementById("access-expires");
  var accessIn = document.getElementById("access-expires-in");
  var refreshAt = document.getElementById("refresh-expires");
  var retry = document.getElementById("retry");
  var greeting = document.getElementById("signed-in-as");
  var renewNote = document.getElementById("renew-note");
  var renewText = renewNote ? renewNote.textContent : "";

  var TIMEOUT_MS = 10000;
  var ticker = null;
  var checking = false;

  function show(name) {
    Object.keys(panels).forEach(function (key) {
      if (panels[key]) {
        panels[key].hidden = key !== name;
      }
    });
    status.setAttribute("aria-busy", name === "loading" ? "true" : "false");
    status.setAttribute("data-state", name);
  }

  // A whole number of seconds since the epoch that a Date can hold, or null.
  function seconds(value) {
    return typeof value === "number" && isFinite(value) && value >= 0 && value < 1e11 &&
      Math.floor(value) === value ? value : null;
  }

  // The page's language for Intl. Some Chromium builds carry no Kazakh date data and fall
  // back to the root locale ("+60 min", "M11"); Russian reads better to most Kazakh readers.
  function locale() {
    var lang = document.documentElement.lang || undefined;
    if (lang !== "kk") {
      return lang;
    }
    try {
      var probe = new Date(2020, 10, 15);
      var root = new Intl.DateTimeFormat("und", { month: "long" }).format(probe);
      var kazakh = new Intl.DateTimeFormat("kk", { month: "long" }).format(probe);
      // Without Kazakh data the month is the root locale's ("M11"), or, where "und" follows
      // the browser's own language, still a bare "M11", and relative times read "+60 min".
      var bare = kazakh === root || /^M\d+$/.test(kazakh) ||
        /^\+/.test(new Intl.RelativeTimeFormat("kk").format(1, "hour"));
      return bare ? "ru" : lang;
    } catch (e) {
      return lang;
    }
  }

  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() &&
      a.getDate() === b.getDate();
  }

  // "5:45:12 PM" today, "Nov 28, 2026, 5:45 PM" on another day.
  function when(date, withSeconds) {
    var options = sameDay(date, new Date())
      ? { hour: "numeric", minute: "2-digit" }
      : { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" };
    if (withSeconds) {
      options.second = "2-digit";
    }
    try {
      return new Intl.DateTimeFormat(locale(), options).format(date);
    } catch (e) {
      return date.toLocaleString();
    }
  }

  // "in 30 seconds", "in 59 minutes", "2 minutes ago".
  function relative(date) {
    var diff = Math.round((date.getTime() - Date.now()) / 1000);
    var units = [["day", 86400], ["hour", 3600], ["minute", 60]];
    var unit = "second";
    var amount = diff;
    for (var i = 0; i < units.length; i += 1) {
      if (Math.abs(diff) >= units[i][1]) {
        unit = units[i][0];
        amount = Math.round(diff / units[i][1]);
        break;
      }
    }
    try {
      return new Intl.RelativeTimeFormat(locale(), { numeric: "auto" }).format(amount, unit);
    } catch (e) {
      return diff >= 0 ? "in " + diff + " s" : diff + " s ago";
    }
  }

  function setTime(element, date, withSeconds) {
    element.dateTime = date.toISOString();
    element.textContent = when(date, withSeconds);
  }

  // "Aida Seitkali", or the id when Freedom ID shared no name; null without a user.
  function displayName(user) {
    if (!user || typeof user !== "object" || typeof user.id !== "string") {
      return null;
    }
    var parts = [user.firstname, user.lastname].filter(function (part) {
      return typeof part === "string" && part.trim() !== "";
    });
    return parts.length > 0 ? parts.join(" ") : user.id;
  }

  function greet(user) {
    var name = displayName(user);
    if (!greeting) {
      return;
    }
    greeting.hidden = name === null;
    greeting.textContent = name === null ? "" :
      greeting.getAttribute("data-template").replace("{name}", function () { return name; });
  }

  // A session that cannot be refreshed (the OIDC flavour) lasts as long as its access token.
  function showSignedIn(accessSeconds, refreshSeconds, user) {
    var access = new Date(accessSeconds * 1000);
    var refresh = new Date((refreshSeconds === null ? accessSeconds : refreshSeconds) * 1000);
    greet(user);
    if (renewNote) {
      renewNote.textContent = refreshSeconds === null ?
        renewNote.getAttribute("data-no-renew") : renewText;
    }
    setTime(accessAt, access, true);
    setTime(refreshAt, refresh, false);
    var update = function () {
      accessIn.textContent = "(" + relative(access) + ")";
    };
    update();
    window.clearInterval(ticker);
    ticker = window.setInterval(update, 5000);
    show("signedIn");
  }

  // After "Check again", focus follows the answer (the button itself is hidden by then).
  function focusTitle(name) {
    var title = panels[name] && panels[name].querySelector(".status-title");
    if (title) {
      title.setAttribute("tabindex", "-1");
      title.focus();
    }
  }

  function check(event) {
    var moveFocus = Boolean(event && event.type === "click");
    if (checking) {
      return;
    }
    checking = true;
    window.clearInterval(ticker);
    show("loading");
    var controller = window.AbortController ? new AbortController() : null;
    var timer = window.setTimeout(function () {
      if (controller) {
        controller.abort();
      }
    }, TIMEOUT_MS);
    fetch("/session", {
      method: "GET",
      headers: { Accept: "application/json" },
      credentials: "same-origin",
      cache: "no-store",
      signal: controller ? controller.signal : undefined
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (body) {
        if (body && body.signedIn === false) {
          show("signedOut");
          return;
        }
        var access = body && body.signedIn === true ? seconds(body.accessExpiresAt) : null;
        var refresh = body && body.signedIn === true ? seconds(body.refreshExpiresAt) : null;
        if (access === null || (refresh === null && body.refreshExpiresAt !== null)) {
          throw new Error("unexpected answer");
        }
        showSignedIn(access, refresh, body.user);
      })
      .catch(function () {
        show("error");
      })
      .then(function () {
        window.clearTimeout(timer);
        checking = false;
        if (moveFocus) {
          focusTitle(status.getAttribute("data-state"));
        }
      });
  }

  if (retry) {
    retry.addEventListener("click", check);
  }
  // Back/forward cache: a restored page may show a stale state.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      check();
    }
  });
  check();
})();
