/* citygrid mobile app (移动端): report, verify, check, handle, review — one page, hash routes.
   Boot data comes from the json_script #m-boot; every read and write goes through the REST API
   (/api/v1/) with the session cookie and the CSRF cookie. All data text is inserted with
   textContent, never as HTML.

   Reports are never sent directly: each one is first stored in IndexedDB (the outbox) with its
   photos as Blobs and an idempotency key made when the report is made, and then sent. A report
   leaves the outbox only after the server answered 200 or 201 (the same key always gives the
   same case), so nothing is doubled or lost when the network drops. */
/* global gettext, ngettext, pgettext, interpolate */
(function () {
  "use strict";

  var boot = JSON.parse(document.getElementById("m-boot").textContent);
  var EN = boot.language === "en";
  var API = boot.api;
  var MAX_SIDE = 2000;
  var JPEG_QUALITY = 0.85;
  var RECENT_KEY = "cg.m.recent";
  var RECENT_MAX = 8;

  // ---- strings ------------------------------------------------------------------------------
  // Django's JavaScript catalogue (/m/jsi18n/<language>/, loaded before this file and cached by
  // the service worker) defines gettext(); the Chinese is in web/locale/zh_Hans/.../djangojs.po.
  var S = {
    app: gettext("City management"),
    back: gettext("Back"),
    report: gettext("Report a problem"),
    selfReport: gettext("Report and handle"),
    verify: gettext("Verify public reports"),
    check: gettext("Check handled cases"),
    deptCases: gettext("My department's cases"),
    streetCases: gettext("My street's cases"),
    review: gettext("Review and close"),
    outbox: gettext("Outbox"),
    roles: {
      city_inspector: gettext("Inspector"), district_inspector: gettext("District inspector"),
      street_staff: gettext("Street staff"), handler: gettext("Handler"),
      department_head: gettext("Department head"), shift_leader: gettext("Shift leader")
    },
    states: {
      to_verify: gettext("To verify"), to_file: gettext("To file"),
      to_dispatch: gettext("To dispatch"), dispatched: gettext("Dispatched"),
      handling: gettext("Handling"), postponement_requested: gettext("Postponement requested"),
      suspended: gettext("Suspended"), to_check: gettext("To check"), to_close: gettext("To close"),
      closed: gettext("Closed"), rejected: gettext("Rejected"), merged: gettext("Merged"),
      voided: gettext("Voided"), in_collaboration: gettext("In collaboration")
    },
    ops: {
      verify: gettext("Verified"), reject: gettext("Reject"), check_pass: gettext("Check passed"),
      check_fail: gettext("Check failed"), accept: gettext("Accept"), "return": gettext("Return"),
      request_postponement: gettext("Request postponement"), feedback: gettext("Feed back"),
      close: gettext("Close")
    },
    reviewFail: gettext("Send back for rework"),
    photos: gettext("Photos (required, several allowed)"),
    takePhoto: gettext("Take or choose photos"),
    removePhoto: gettext("Remove photo"),
    position: gettext("Position"),
    locating: gettext("Locating…"),
    located: gettext("Located; drag the marker to correct it"),
    noGps: gettext("No GPS position: tap the map to set it"),
    outside: gettext("This place is outside the area under supervision"),
    relocate: gettext("Locate me again"),
    mapLabel: gettext("Position map: drag the marker to correct it"),
    lon: gettext("Longitude"), lat: gettext("Latitude"),
    address: gettext("Address (optional)"),
    category: gettext("Class"),
    searchClass: gettext("Name, pinyin initials or code"),
    recent: gettext("Recent"),
    noClass: gettext("No class found"),
    urgency: gettext("Urgency"),
    urgencies: { ordinary: gettext("Ordinary"), urgent: gettext("Urgent"), emergency: gettext("Emergency") },
    description: gettext("Description"),
    component: gettext("Component (optional)"),
    noComponent: gettext("No component"),
    submit: gettext("Submit report"),
    needPhoto: gettext("Take at least one photo"),
    needPosition: gettext("Set the position"),
    needClass: gettext("Choose a class"),
    sent: gettext("Reported, case number"),
    queued: gettext("Saved on the phone; it is sent when the network returns"),
    selfHandleNow: gettext("Your street handles this case: feed back when done"),
    reportedUp: gettext("Sent up to the command centre (outside your remit)"),
    openCase: gettext("Open the case"),
    another: gettext("Report another"),
    empty: gettext("Nothing to do"),
    loading: gettext("Loading…"),
    loadFailed: gettext("Could not load; try again later"),
    left: gettext("%s left"), overdue: gettext("overdue by %s"),
    days: pgettext("time unit", "d"), hours: pgettext("time unit", "h"), minutes: pgettext("time unit", "min"),
    navigate: gettext("Navigate to the spot"),
    before: gettext("Before"), after: gettext("After"), noPhoto: gettext("No photo"),
    reason: gettext("Reason (required)"), note: gettext("Note (optional)"),
    extension: gettext("Extension"),
    afterPhoto: gettext("After photo (required)"),
    confirm: gettext("Confirm"), cancel: gettext("Cancel"),
    done: gettext("Done"),
    desk: gettext("Other operations on the desk"),
    noOps: gettext("Nothing for you to do on this case now"),
    offline: gettext("Offline"),
    waiting: gettext("Waiting to be sent"),
    failed: gettext("Refused by the server"),
    retry: gettext("Retry"), remove: gettext("Delete"),
    removeConfirm: gettext("Delete this unsent report?"),
    outboxEmpty: gettext("No unsent reports"),
    login: gettext("Your session has expired; log in again"),
    description_placeholder: gettext("Describe the problem briefly"),
    colon: pgettext("punctuation after a label", ": "),
    paren: pgettext("punctuation around a remark", " (%s)")
  };
  function t(text) { return text || ""; }
  function tr(group, key) { return S[group][key] || key; }

  // ---- DOM helpers --------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === "text") node.textContent = value;
      else if (name.indexOf("on") === 0) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }
  var view = document.getElementById("m-view");
  var titleEl = document.getElementById("m-title");
  var backEl = document.getElementById("m-back");
  var toastEl = document.getElementById("m-toast");
  var toastTimer = null;

  function toast(message, isError) {
    toastEl.textContent = message;
    toastEl.className = "m-toast" + (isError ? " error" : "");
    toastEl.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toastEl.hidden = true; }, 4000);
  }
  function screen(title, back) {
    titleEl.textContent = title;
    document.title = title === t(S.app) ? title : title + " · " + t(S.app);
    backEl.hidden = !back;
    if (back) { backEl.href = back; backEl.textContent = t(S.back); }
    view.textContent = "";
    view.removeAttribute("data-status");
    return view;
  }

  // ---- API ----------------------------------------------------------------------------------
  function csrf() {
    var m = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
    return m ? decodeURIComponent(m[1]) : "";
  }
  function api(method, path, body, headers) {
    var init = { method: method, credentials: "same-origin", headers: headers || {} };
    if (method !== "GET") init.headers["X-CSRFToken"] = csrf();
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path.indexOf("/") === 0 ? path : API + path, init).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        return { status: response.status, ok: response.ok, data: data };
      });
    });
  }
  function errorText(result) {
    if (result.status === 401) return t(S.login);
    var d = result.data || {};
    return d.message || (t(S.loadFailed) + " (" + result.status + ")");
  }

  // ---- time left and traffic light ----------------------------------------------------------
  function duration(ms) {
    var minutes = Math.floor(ms / 60000), hours = Math.floor(minutes / 60), days = Math.floor(hours / 24);
    if (days >= 1) return days + t(S.days) + (hours % 24 ? " " + (hours % 24) + t(S.hours) : "");
    if (hours >= 1) return hours + t(S.hours) + (minutes % 60 ? " " + (minutes % 60) + t(S.minutes) : "");
    return Math.max(minutes, 1) + t(S.minutes);
  }
  function timeLeft(deadline) {
    if (!deadline) return "";
    var ms = Date.parse(deadline) - Date.now();
    return interpolate(ms >= 0 ? S.left : S.overdue, [duration(Math.abs(ms))]);
  }
  function light(level, deadline) {
    var overdue = deadline && Date.parse(deadline) < Date.now();
    var value = overdue ? "red" : (level && level !== "none" ? level : "green");
    var label = { green: gettext("on time"), yellow: gettext("due soon"), red: gettext("overdue") }[value];
    return el("span", { "class": "light " + value, "data-light": value, role: "img", "aria-label": label });
  }

  // ---- photos -------------------------------------------------------------------------------
  function downscale(file) {
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        var w = img.naturalWidth, h = img.naturalHeight, scale = Math.min(1, MAX_SIDE / Math.max(w, h));
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(w * scale));
        canvas.height = Math.max(1, Math.round(h * scale));
        var ctx = canvas.getContext("2d");
        ctx.fillStyle = "#fff";
        ctx.fillRect(0, 0, canvas.width, canvas.height);
        ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
        URL.revokeObjectURL(url);
        canvas.toBlob(function (blob) {
          if (blob) resolve(blob); else reject(new Error("encode"));
        }, "image/jpeg", JPEG_QUALITY);
      };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("decode")); };
      img.src = url;
    });
  }
  function cameraInput(id, multiple, onBlobs) {
    var input = el("input", { type: "file", id: id, accept: "image/*", capture: "environment", multiple: multiple });
    input.addEventListener("change", function () {
      var files = Array.prototype.slice.call(input.files || []);
      Promise.all(files.map(downscale)).then(onBlobs, function () {
        toast(gettext("Could not read the photo"), true);
      }).then(function () { input.value = ""; });
    });
    return input;
  }
  function thumbs(container, blobs, onChange) {
    container.textContent = "";
    blobs.forEach(function (blob, i) {
      var url = URL.createObjectURL(blob);
      container.appendChild(el("figure", {}, [
        el("img", { src: url, alt: t(S.photos) + " " + (i + 1), onload: function () { URL.revokeObjectURL(url); } }),
        el("button", { type: "button", "aria-label": t(S.removePhoto) + " " + (i + 1), text: "×",
          onclick: function () { blobs.splice(i, 1); onChange(); } })
      ]));
    });
  }

  // ---- identifiers --------------------------------------------------------------------------
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // ---- the outbox (IndexedDB) ---------------------------------------------------------------
  var DB_NAME = "citygrid-mobile", STORE = "outbox";
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var open = indexedDB.open(DB_NAME, 1);
        open.onupgradeneeded = function () { open.result.createObjectStore(STORE, { keyPath: "key" }); };
        open.onsuccess = function () { resolve(open.result); };
        open.onerror = function () { reject(open.error); };
      });
    }
    return dbPromise;
  }
  function tx(mode, work) {
    return db().then(function (database) {
      return new Promise(function (resolve, reject) {
        var transaction = database.transaction(STORE, mode);
        var result = work(transaction.objectStore(STORE));
        transaction.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }
  var outbox = {
    // Only this user's reports: a report made by one user is never sent in another's session.
    all: function () {
      return tx("readonly", function (s) { return s.getAll(); }).then(function (items) {
        return (items || []).filter(function (item) { return item.user === boot.user.username; });
      });
    },
    put: function (item) { return tx("readwrite", function (s) { s.put(item); }); },
    remove: function (key) { return tx("readwrite", function (s) { s["delete"](key); }); }
  };

  var outboxLink = document.getElementById("m-outbox");
  var outboxCount = document.getElementById("m-outbox-count");
  function refreshOutboxBadge() {
    return outbox.all().then(function (items) {
      outboxCount.textContent = String(items.length);
      outboxLink.hidden = items.length === 0;
      outboxLink.setAttribute("aria-label", t(S.outbox) + " " + items.length);
      document.body.setAttribute("data-outbox", String(items.length));
      return items;
    });
  }

  var flushing = null, retryTimer = null, attempt = 0;
  var sentListeners = [];
  function scheduleRetry() {
    clearTimeout(retryTimer);
    var delay = Math.min(300000, 2000 * Math.pow(2, attempt));
    attempt += 1;
    retryTimer = setTimeout(flush, delay);
  }
  function formOf(item) {
    var form = new FormData();
    Object.keys(item.fields).forEach(function (name) {
      var value = item.fields[name];
      if (value !== "" && value !== null && value !== undefined) form.append(name, String(value));
    });
    item.photos.forEach(function (photo, i) { form.append("photos", photo, "photo-" + (i + 1) + ".jpg"); });
    return form;
  }
  function sendOne(item) {
    return fetch(API + "cases/with-photos", {
      method: "POST", credentials: "same-origin", body: formOf(item),
      headers: { "X-CSRFToken": csrf(), "Idempotency-Key": item.key }
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }
  function transient(status, data) {
    return status === 401 || status === 408 || status === 429 || status >= 500 ||
      (status === 403 && data && data.code === "csrf_failed");
  }
  /* Sends every waiting report, oldest first; one flush at a time. */
  function flush() {
    if (flushing) return flushing;
    flushing = outbox.all().then(function (items) {
      items.sort(function (a, b) { return a.created - b.created; });
      var chain = Promise.resolve(true);
      items.forEach(function (item) {
        chain = chain.then(function (goOn) {
          if (!goOn || item.failed) return goOn;
          return sendOne(item).then(function (result) {
            if (result.status === 200 || result.status === 201) {
              attempt = 0;
              return outbox.remove(item.key).then(function () {
                sentListeners.forEach(function (fn) { fn(item, result.data); });
                return true;
              });
            }
            if (transient(result.status, result.data)) {
              item.lastError = errorText(result);
              if (result.status === 401) toast(t(S.login), true);
              return outbox.put(item).then(function () { scheduleRetry(); return false; });
            }
            item.failed = { status: result.status, message: errorText(result) };
            return outbox.put(item).then(function () { return true; });
          }, function () {
            scheduleRetry();  // no network: try again later (and on the online event)
            return false;
          });
        });
      });
      return chain;
    }).then(refreshOutboxBadge, refreshOutboxBadge).then(function () { flushing = null; }, function () { flushing = null; });
    return flushing;
  }

  // ---- network status -----------------------------------------------------------------------
  var netEl = document.getElementById("m-net");
  function showNet() {
    var online = navigator.onLine;
    netEl.textContent = online ? "" : t(S.offline);
    netEl.classList.toggle("offline", !online);
    document.body.setAttribute("data-online", online ? "true" : "false");
  }
  window.addEventListener("online", function () { showNet(); attempt = 0; flush(); });
  window.addEventListener("offline", showNet);

  // ---- classes of the active standard -------------------------------------------------------
  var classesPromise = null;
  function loadClasses() {
    if (!classesPromise) {
      var city = boot.city ? "?city=" + encodeURIComponent(boot.city) : "";
      classesPromise = api("GET", "catalog/standards/active" + city).then(function (r) {
        if (!r.ok) throw new Error("standard");
        return api("GET", "catalog/standards/" + r.data.id + "/categories");
      }).then(function (r) {
        if (!r.ok) throw new Error("classes");
        var list = r.data.filter(function (c) { return c.level !== "major"; });
        try { localStorage.setItem("cg.m.classes", JSON.stringify(list)); } catch (e) { /* full */ }
        return list;
      }).catch(function () {
        classesPromise = null;
        var kept = localStorage.getItem("cg.m.classes");
        return kept ? JSON.parse(kept) : [];
      });
    }
    return classesPromise;
  }
  /* Pinyin initials (垃圾 → lj) with no pinyin table: the browser's ICU collation sorts Hanzi
     by pinyin, so the initial of a character is the letter of the last boundary character (the
     first character of each letter in pinyin order) that sorts before or equal to it. Where the
     browser has no pinyin collation, the self-check fails and only name and code search remain.
     Polyphonic characters take the collation's default reading (银行 → yx, not yh). */
  var PINYIN_LETTERS = "abcdefghjklmnopqrstwxyz";
  var PINYIN_BOUNDS = "阿八嚓哒妸发旮哈讥咔垃妈拏噢妑七呥仨它穵夕丫帀";
  var pinyin = (function () {
    try {
      var collator = new Intl.Collator("zh-Hans-CN-u-co-pinyin");
      var initials = function (text) {
        var out = "";
        for (var k = 0; k < text.length; k++) {
          var ch = text.charAt(k);
          if (/[\u3400-\u9fff]/.test(ch)) {
            var letter = "";
            for (var i = 0; i < PINYIN_BOUNDS.length; i++) {
              if (collator.compare(PINYIN_BOUNDS.charAt(i), ch) <= 0) letter = PINYIN_LETTERS.charAt(i);
              else break;
            }
            out += letter;
          } else if (/[a-z0-9]/i.test(ch)) {
            out += ch.toLowerCase();
          }
        }
        return out;
      };
      return initials("垃圾店面绿地") === "ljdmld" ? initials : null;
    } catch (e) {
      return null;
    }
  })();
  function searchClasses(list, query) {
    var q = query.trim().toLowerCase();
    if (!q) return [];
    var byInitials = pinyin && /^[a-z]+$/.test(q);
    var found = list.filter(function (c) {
      if (byInitials && c.initials === undefined) c.initials = pinyin(c.name);
      return c.name.toLowerCase().indexOf(q) >= 0 || c.code.indexOf(q) === 0 ||
        (byInitials && c.initials.indexOf(q) >= 0);
    });
    if (byInitials) {  // those whose initials start with the query first
      found.sort(function (a, b) { return (a.initials.indexOf(q) === 0 ? 0 : 1) - (b.initials.indexOf(q) === 0 ? 0 : 1); });
    }
    return found.slice(0, 30);
  }
  function recentClasses() {
    try { return JSON.parse(localStorage.getItem(RECENT_KEY) || "[]"); } catch (e) { return []; }
  }
  function rememberClass(c) {
    var list = recentClasses().filter(function (r) { return r.code !== c.code; });
    list.unshift({ code: c.code, name: c.name, kind: c.kind });
    localStorage.setItem(RECENT_KEY, JSON.stringify(list.slice(0, RECENT_MAX)));
  }

  // ---- home ---------------------------------------------------------------------------------
  function tasksFor(role) {
    if (role === "city_inspector" || role === "district_inspector") {
      return [
        { href: "#report/" + role, label: t(S.report), primary: true },
        { href: "#tasks/" + role + "/to_verify", label: t(S.verify), role: role, state: "to_verify" },
        { href: "#tasks/" + role + "/to_check", label: t(S.check), role: role, state: "to_check" }
      ];
    }
    if (role === "street_staff") {
      return [
        { href: "#report/street_staff", label: t(S.selfReport), primary: true },
        { href: "#tasks/street_staff/all", label: t(S.streetCases), role: role, state: "all" }
      ];
    }
    if (role === "handler" || role === "department_head") {
      return [{ href: "#tasks/" + role + "/all", label: t(S.deptCases), role: role, state: "all" }];
    }
    if (role === "shift_leader") {
      return [{ href: "#tasks/shift_leader/to_close", label: t(S.review), role: role, state: "to_close" }];
    }
    return [];
  }
  function queue(role, state) {
    return api("GET", "queues/" + role + "?limit=200").then(function (r) {
      if (!r.ok) throw r;
      return r.data.items.filter(function (c) { return state === "all" || c.state === state; });
    });
  }
  function renderHome() {
    screen(t(S.app), null);
    boot.roles.forEach(function (role) {
      view.appendChild(el("h2", { "class": "m-section-title", text: tr("roles", role) }));
      var tiles = el("ul", { "class": "m-tiles", "data-role": role });
      tasksFor(role).forEach(function (task) {
        var count = el("span", { "class": "count", text: task.state ? "…" : "" });
        tiles.appendChild(el("li", { "class": "m-tile" }, [
          el("a", { href: task.href, "class": task.primary ? "primary" : null }, [el("span", { text: task.label }), count])
        ]));
        if (task.state) {
          queue(task.role, task.state).then(function (items) { count.textContent = String(items.length); },
            function () { count.textContent = "–"; });
        }
      });
      view.appendChild(tiles);
    });
    if (!boot.roles.length) {
      view.appendChild(el("p", { "class": "m-empty", text: gettext("You hold no role this app serves.") }));
    }
    view.setAttribute("data-status", "ready");
  }

  // ---- task lists ---------------------------------------------------------------------------
  function listTitle(role, state) {
    var found = tasksFor(role).filter(function (task) { return task.state === state; })[0];
    return found ? found.label : tr("roles", role);
  }
  function renderTasks(role, state) {
    screen(listTitle(role, state), "#home");
    var status = el("p", { "class": "m-empty", text: t(S.loading) });
    view.appendChild(status);
    queue(role, state).then(function (items) {
      status.remove();
      if (!items.length) view.appendChild(el("p", { "class": "m-empty", text: t(S.empty) }));
      var list = el("ul", { "class": "m-list" });
      items.forEach(function (c) {
        list.appendChild(el("li", { "class": "m-item", "data-number": c.number, "data-state": c.state }, [
          el("a", { href: "#case/" + c.number + "/" + role + "/" + state }, [
            light(c.overdue_level, c.step_deadline),
            el("span", { "class": "title", text: c.category ? c.category.name : c.number }),
            el("span", { "class": "left", text: timeLeft(c.step_deadline) }),
            el("span", { "class": "sub", text: tr("states", c.state) + " · " +
              (c.address || (c.street ? c.street.name : "") || "") + " · " + c.number })
          ])
        ]));
      });
      view.appendChild(list);
      view.setAttribute("data-status", "ready");
    }, function (r) {
      status.textContent = r && r.status ? errorText(r) : t(S.loadFailed);
      view.setAttribute("data-status", "error");
    });
  }

  // ---- case detail and operations -----------------------------------------------------------
  var MOBILE_OPS = ["verify", "check_pass", "check_fail", "accept", "feedback", "close",
    "request_postponement", "return", "reject"];
  var NEEDS_REASON = { reject: true, "return": true, check_fail: true, request_postponement: true };
  var EXTENSIONS = [["4 hours", gettext("4 hours")], ["1 working days", gettext("1 working day")],
    ["2 working days", gettext("2 working days")], ["5 working days", gettext("5 working days")]];

  function photoColumn(title, photos, kind) {
    var fig = el("figure", { "data-kind": kind }, [el("figcaption", { text: title })]);
    if (!photos.length) fig.appendChild(el("div", { "class": "none", text: t(S.noPhoto) }));
    photos.forEach(function (p, i) {
      fig.appendChild(el("a", { href: p.url, target: "_blank", rel: "noopener" }, [
        el("img", { src: p.url, alt: title + " " + (i + 1), loading: "lazy" })]));
    });
    return fig;
  }
  function opLabel(op, caseData) {
    if (op === "check_fail" && caseData.state === "to_close") return t(S.reviewFail);
    return tr("ops", op);
  }

  function operate(caseData, op, role, form, back) {
    var path = "cases/" + caseData.number + "/" + (op === "check_pass" || op === "check_fail" ? "check" : op.replace(/_/g, "-"));
    var body;
    var multipart = op === "feedback" || op === "check_pass" || op === "check_fail";
    if (multipart) {
      body = new FormData();
      body.append("expected_version", String(caseData.version));
      body.append("role", role);
      if (op === "check_pass") body.append("passed", "true");
      if (op === "check_fail") { body.append("passed", "false"); body.append("reason", form.reason || ""); }
      if (op === "feedback") {
        if (form.afterPhoto) body.append("after_photo", form.afterPhoto, "after.jpg");
        if (form.note) body.append("note", form.note);
      }
    } else {
      body = { expected_version: caseData.version, role: role };
      if (NEEDS_REASON[op]) body.reason = form.reason || "";
      else if (form.note) body.note = form.note;
      if (op === "request_postponement") body.extension = form.extension;
    }
    return api("POST", path, body).then(function (r) {
      if (!r.ok) {
        toast(errorText(r), true);
        if (r.status === 409) route();  // someone acted first: show the case as it is now
        return r.status === 409;
      }
      toast(t(S.done) + S.colon + opLabel(op, caseData) + " · " + tr("states", r.data.state));
      location.hash = back;
      return true;
    }, function () { toast(t(S.loadFailed), true); return false; });
  }

  function opForm(caseData, op, role, back, holder) {
    holder.textContent = "";
    var state = { afterPhoto: null };
    var form = el("form", { "class": "m-op-form m-form", "data-op": op });
    form.appendChild(el("h3", { text: opLabel(op, caseData) }));
    var reason = null, note = null, extension = null, afterError = el("p", { "class": "m-error", role: "alert" });
    if (op === "request_postponement") {
      extension = el("select", { id: "op-extension", name: "extension" });
      EXTENSIONS.forEach(function (e) { extension.appendChild(el("option", { value: e[0], text: e[1] })); });
      form.appendChild(el("div", { "class": "m-field" }, [el("label", { "for": "op-extension", text: t(S.extension) }), extension]));
    }
    if (op === "feedback") {
      var preview = el("div", { "class": "m-thumbs", id: "op-after-preview" });
      var input = cameraInput("op-after-photo", false, function (blobs) {
        state.afterPhoto = blobs[0] || null;
        thumbs(preview, state.afterPhoto ? [state.afterPhoto] : [], function () { state.afterPhoto = null; preview.textContent = ""; });
      });
      form.appendChild(el("div", { "class": "m-field" }, [
        el("label", { "class": "label", "for": "op-after-photo", text: t(S.afterPhoto) }),
        el("div", { "class": "m-camera" }, [el("span", { text: t(S.takePhoto) }), input]), preview, afterError]));
    }
    if (NEEDS_REASON[op]) {
      reason = el("textarea", { id: "op-reason", name: "reason", required: true });
      form.appendChild(el("div", { "class": "m-field" }, [el("label", { "for": "op-reason", text: t(S.reason) }), reason]));
    } else {
      note = el("textarea", { id: "op-note", name: "note" });
      form.appendChild(el("div", { "class": "m-field" }, [el("label", { "for": "op-note", text: t(S.note) }), note]));
    }
    var submit = el("button", { type: "submit", "class": "m-btn primary", text: t(S.confirm) });
    form.appendChild(el("div", { "class": "m-actions" }, [
      el("button", { type: "button", "class": "m-btn", text: t(S.cancel), onclick: function () { holder.textContent = ""; } }),
      submit]));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (op === "feedback" && !state.afterPhoto) { afterError.textContent = t(S.needPhoto); return; }
      if (reason && !reason.value.trim()) { reason.focus(); return; }
      submit.disabled = true;
      operate(caseData, op, role, {
        reason: reason ? reason.value.trim() : "", note: note ? note.value.trim() : "",
        extension: extension ? extension.value : "", afterPhoto: state.afterPhoto
      }, back).then(function (ok) { if (!ok) submit.disabled = false; });
    });
    holder.appendChild(form);
    (reason || note).focus({ preventScroll: true });
    form.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  function renderCase(number, role, state) {
    var back = role ? "#tasks/" + role + "/" + state : "#home";
    screen(number, back);
    view.appendChild(el("p", { "class": "m-empty", text: t(S.loading) }));
    api("GET", "cases/" + encodeURIComponent(number)).then(function (r) {
      view.textContent = "";
      if (!r.ok) { view.appendChild(el("p", { "class": "m-empty", text: errorText(r) })); return; }
      var c = r.data;
      titleEl.textContent = c.category ? c.category.name : c.number;
      var deadline = c.deadlines ? c.deadlines.step_deadline : c.step_deadline;
      var level = c.deadlines ? c.deadlines.traffic_light : c.overdue_level;
      var place = [c.district, c.street, c.community].filter(Boolean).map(function (a) { return a.name; }).join(" ");
      view.appendChild(el("section", { "class": "m-case-head", "data-number": c.number, "data-version": String(c.version) }, [
        el("span", { "class": "number", text: c.number }),
        el("span", {}, [el("span", { "class": "state", id: "case-state", "data-state": c.state, text: tr("states", c.state) }),
          " ", light(level, deadline), " ", el("span", { text: timeLeft(deadline) })]),
        el("span", { text: place + (c.address ? " · " + c.address : "") }),
        c.description ? el("span", { text: c.description }) : null,
        el("a", { "class": "m-btn", id: "case-navigate", href: "geo:" + c.lat + "," + c.lon + "?q=" + c.lat + "," + c.lon,
          text: t(S.navigate) })
      ]));
      var photos = c.photos || [];
      view.appendChild(el("div", { "class": "m-photos", id: "case-photos" }, [
        photoColumn(t(S.before), photos.filter(function (p) { return p.kind === "before"; }), "before"),
        photoColumn(t(S.after), photos.filter(function (p) { return p.kind === "after"; }), "after")
      ]));
      var seen = {};
      var ops = (c.allowed_operations || []).filter(function (o) {
        if (MOBILE_OPS.indexOf(o.operation) < 0 || seen[o.operation]) return false;
        if (role && o.role !== role && (c.allowed_operations.some(function (x) {
          return x.operation === o.operation && x.role === role;
        }))) return false;
        seen[o.operation] = true;
        return true;
      });
      ops.sort(function (a, b) { return MOBILE_OPS.indexOf(a.operation) - MOBILE_OPS.indexOf(b.operation); });
      var holder = el("div", { id: "op-form" });
      var buttons = el("div", { "class": "m-actions", id: "case-ops" });
      ops.forEach(function (o) {
        var primary = ["verify", "check_pass", "accept", "feedback", "close"].indexOf(o.operation) >= 0;
        var danger = ["reject", "check_fail", "return"].indexOf(o.operation) >= 0;
        buttons.appendChild(el("button", {
          type: "button", "class": "m-btn" + (primary ? " primary" : "") + (danger ? " danger" : ""),
          "data-op": o.operation, text: opLabel(o.operation, c),
          onclick: function () { opForm(c, o.operation, o.role, back, holder); }
        }));
      });
      if (!ops.length) view.appendChild(el("p", { "class": "m-empty", text: t(S.noOps) }));
      view.appendChild(buttons);
      view.appendChild(holder);
      var others = (c.allowed_operations || []).filter(function (o) { return MOBILE_OPS.indexOf(o.operation) < 0; });
      if (others.length) view.appendChild(el("p", { "class": "m-place" }, [el("a", { href: "/cases/" + c.number + "/", text: t(S.desk) })]));
      view.setAttribute("data-status", "ready");
    }, function () {
      view.textContent = "";
      view.appendChild(el("p", { "class": "m-empty", text: t(S.loadFailed) }));
    });
  }

  // ---- the report form ----------------------------------------------------------------------
  function renderReport(role) {
    var selfReport = role === "street_staff";
    screen(selfReport ? t(S.selfReport) : t(S.report), "#home");
    var data = { photos: [], lon: null, lat: null, category: null };
    var form = el("form", { "class": "m-form", id: "report-form", novalidate: true });

    // photos
    var preview = el("div", { "class": "m-thumbs", id: "r-preview" });
    var photoError = el("p", { "class": "m-error", role: "alert" });
    function showPhotos() {
      thumbs(preview, data.photos, showPhotos);
      preview.setAttribute("data-count", String(data.photos.length));
    }
    var photoInput = cameraInput("r-photos", true, function (blobs) {
      Array.prototype.push.apply(data.photos, blobs);
      photoError.textContent = "";
      showPhotos();
    });
    form.appendChild(el("div", { "class": "m-field" }, [
      el("label", { "class": "label", "for": "r-photos", text: t(S.photos) }),
      el("div", { "class": "m-camera" }, [el("span", { text: t(S.takePhoto), "aria-hidden": "true" }), photoInput]),
      preview, photoError]));

    // position
    var mapEl = el("div", { "class": "m-map", id: "r-map", role: "application", "aria-label": t(S.mapLabel) });
    var posStatus = el("p", { "class": "m-place", id: "r-position", role: "status", text: t(S.locating) });
    var placeEl = el("p", { "class": "m-place", id: "r-place" });
    var lonIn = el("input", { type: "text", id: "r-lon", inputmode: "decimal", readonly: true, "aria-label": t(S.lon) });
    var latIn = el("input", { type: "text", id: "r-lat", inputmode: "decimal", readonly: true, "aria-label": t(S.lat) });
    var relocate = el("button", { type: "button", "class": "m-btn", id: "r-relocate", text: t(S.relocate) });
    var componentSelect = el("select", { id: "r-component" });
    var componentField = el("div", { "class": "m-field", hidden: true }, [
      el("label", { "for": "r-component", text: t(S.component) }), componentSelect]);
    form.appendChild(el("div", { "class": "m-field" }, [
      el("span", { "class": "label", text: t(S.position) }), mapEl, posStatus,
      el("div", { "class": "m-actions" }, [lonIn, latIn]), placeEl, relocate]));
    var address = el("input", { type: "text", id: "r-address", maxlength: "200" });
    form.appendChild(el("div", { "class": "m-field" }, [el("label", { "for": "r-address", text: t(S.address) }), address]));

    // class
    var chosen = el("div", { "class": "m-chosen", id: "r-chosen", hidden: true });
    var search = el("input", { type: "search", id: "r-class-q", placeholder: t(S.searchClass), autocomplete: "off" });
    var results = el("ul", { "class": "m-results", id: "r-class-results", hidden: true, role: "listbox", "aria-label": t(S.category) });
    var recent = el("div", { "class": "m-chips", id: "r-recent" });
    var classError = el("p", { "class": "m-error", role: "alert" });
    function choose(c) {
      data.category = c;
      chosen.hidden = false;
      chosen.textContent = "";
      chosen.appendChild(el("code", { text: c.code }));
      chosen.appendChild(document.createTextNode(c.name));
      chosen.setAttribute("data-code", c.code);
      chosen.setAttribute("data-kind", c.kind);
      results.hidden = true;
      search.value = "";
      classError.textContent = "";
      nearbyComponents();
    }
    function showRecent() {
      recent.textContent = "";
      var list = recentClasses();
      if (!list.length) return;
      recent.appendChild(el("span", { "class": "m-place", text: t(S.recent) + S.colon }));
      list.forEach(function (c) {
        recent.appendChild(el("button", { type: "button", "data-code": c.code, "data-kind": c.kind, text: c.name,
          onclick: function () { choose(c); } }));
      });
    }
    search.addEventListener("input", function () {
      loadClasses().then(function (list) {
        var found = searchClasses(list, search.value);
        results.textContent = "";
        results.hidden = !search.value.trim();
        if (!found.length) results.appendChild(el("li", { "class": "m-empty", text: t(S.noClass) }));
        found.forEach(function (c) {
          results.appendChild(el("li", { role: "option" }, [el("button", {
            type: "button", "data-code": c.code, "data-kind": c.kind, onclick: function () { choose(c); }
          }, [el("code", { text: c.code }), c.name])]));
        });
      });
    });
    form.appendChild(el("div", { "class": "m-field" }, [
      el("label", { "for": "r-class-q", text: t(S.category) }), chosen, search, results, recent, classError]));
    showRecent();
    loadClasses();

    // urgency, description, component
    var urgency = el("div", { "class": "m-seg", role: "radiogroup" });
    ["ordinary", "urgent", "emergency"].forEach(function (u, i) {
      urgency.appendChild(el("label", {}, [
        el("input", { type: "radio", name: "urgency", value: u, checked: i === 0 }),
        el("span", { text: tr("urgencies", u) })]));
    });
    form.appendChild(el("fieldset", { "class": "m-field" }, [el("legend", { text: t(S.urgency) }), urgency]));
    var description = el("textarea", { id: "r-description", maxlength: "2000", placeholder: t(S.description_placeholder) });
    form.appendChild(el("div", { "class": "m-field" }, [el("label", { "for": "r-description", text: t(S.description) }), description]));
    form.appendChild(componentField);

    var submit = el("button", { type: "submit", "class": "m-btn primary big", id: "r-submit", text: t(S.submit) });
    form.appendChild(submit);
    var result = el("div", { id: "r-result" });
    view.appendChild(result);
    view.appendChild(form);

    // map and GPS
    var map = L.map(mapEl, { zoomControl: true, attributionControl: (boot.tiles || []).length > 0 });
    (boot.tiles || []).forEach(function (tl) {
      L.tileLayer(tl.url, { subdomains: tl.subdomains, attribution: tl.attribution, maxZoom: tl.maxZoom }).addTo(map);
    });
    map.setView([boot.center[0], boot.center[1]], 12);
    var marker = null, gridBox = null, geocodeSeq = 0;
    function setPosition(lat, lon, source) {
      data.lat = Math.round(lat * 1e7) / 1e7;
      data.lon = Math.round(lon * 1e7) / 1e7;
      latIn.value = data.lat.toFixed(6);
      lonIn.value = data.lon.toFixed(6);
      if (!marker) {
        marker = L.marker([lat, lon], { draggable: true, keyboard: true, title: t(S.position) }).addTo(map);
        marker.on("dragend", function () {
          var p = marker.getLatLng();
          setPosition(p.lat, p.lng, "drag");
        });
        map.setView([lat, lon], 17);
      } else if (source !== "drag") {
        marker.setLatLng([lat, lon]);
      }
      if (source === "gps") posStatus.textContent = t(S.located);
      mapEl.setAttribute("data-status", "ready");
      describePlace();
      nearbyComponents();
    }
    function describePlace() {
      var seq = ++geocodeSeq;
      api("GET", "geocode?lon=" + data.lon + "&lat=" + data.lat + "&crs=wgs84").then(function (r) {
        if (seq !== geocodeSeq) return;
        placeEl.textContent = "";
        if (!r.ok) { placeEl.textContent = r.status === 404 ? t(S.outside) : ""; placeEl.removeAttribute("data-grid"); return; }
        var d = r.data;
        placeEl.setAttribute("data-grid", d.grid.code);
        placeEl.textContent = [d.district, d.street, d.community].filter(Boolean).map(function (a) { return a.name; }).join(" ") +
          " · " + d.grid.code;
        api("GET", "grids/" + d.grid.code).then(function (g) {
          if (!g.ok || seq !== geocodeSeq) return;
          var b = g.data.bbox;
          if (gridBox) gridBox.remove();
          gridBox = L.rectangle([[b[1], b[0]], [b[3], b[2]]], { color: "#c07a2c", weight: 1.5, fillOpacity: 0.08, interactive: false }).addTo(map);
        }, function () { /* the network went away after geocoding: no outline */ });
      }, function () { /* offline: the server geocodes when the report is sent */ });
    }
    /* Components within 50 m: all of them while no class is chosen (picking one chooses its
       class), those of the chosen class for a component class, none for an event class (the
       server accepts a component only on a report of its class). */
    var nearbySeq = 0, componentClasses = {};
    function nearbyComponents() {
      var seq = ++nearbySeq, c = data.category;
      if (data.lon === null || (c && c.kind !== "component")) { componentField.hidden = true; componentSelect.value = ""; return; }
      // Filtered here, not with the API's class parameter: a code names a class in each kind.
      api("GET", "components/near?lon=" + data.lon + "&lat=" + data.lat + "&radius=50&limit=50").then(function (r) {
        if (seq !== nearbySeq) return;
        var keep = componentSelect.value;
        componentSelect.textContent = "";
        var found = r.ok && Array.isArray(r.data) ? r.data.filter(function (n) {
          var code = n.component["class"] ? n.component["class"].code : "";
          return !c || (code && (c.code.indexOf(code) === 0 || code.indexOf(c.code) === 0));
        }) : [];
        if (!found.length) { componentField.hidden = true; return; }
        componentSelect.appendChild(el("option", { value: "", text: t(S.noComponent) }));
        found.forEach(function (n) {
          var comp = n.component, cls = comp["class"];
          componentClasses[comp.code] = cls ? { code: cls.code, name: cls.name, kind: "component" } : null;
          componentSelect.appendChild(el("option", { value: comp.code,
            text: (cls ? cls.name + " " : "") + comp.code + " · " + Math.round(n.distance_m) + "m" }));
        });
        componentSelect.value = componentClasses[keep] !== undefined ? keep : "";
        componentField.hidden = false;
      }, function () { componentField.hidden = true; });
    }
    componentSelect.addEventListener("change", function () {
      var cls = componentClasses[componentSelect.value];
      if (cls && (!data.category || data.category.kind !== "component")) choose(cls);
    });
    map.on("click", function (event) { setPosition(event.latlng.lat, event.latlng.lng, "tap"); });
    function locate() {
      if (!navigator.geolocation) { posStatus.textContent = t(S.noGps); mapEl.setAttribute("data-status", "ready"); return; }
      posStatus.textContent = t(S.locating);
      navigator.geolocation.getCurrentPosition(function (p) {
        setPosition(p.coords.latitude, p.coords.longitude, "gps");
        if (marker) map.setView(marker.getLatLng(), Math.max(map.getZoom(), 17));
      }, function () { posStatus.textContent = t(S.noGps); mapEl.setAttribute("data-status", "ready"); },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
    }
    relocate.addEventListener("click", locate);
    locate();
    setTimeout(function () { map.invalidateSize(); }, 50);

    // submit: into the outbox, then send
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var ok = true;
      if (!data.photos.length) { photoError.textContent = t(S.needPhoto); ok = false; }
      if (data.lon === null) { posStatus.textContent = t(S.needPosition); ok = false; }
      if (!data.category) { classError.textContent = t(S.needClass); ok = false; }
      if (!ok) {
        toast(!data.photos.length ? t(S.needPhoto) : (data.lon === null ? t(S.needPosition) : t(S.needClass)), true);
        return;
      }
      var key = uuid();
      var picked = form.querySelector("input[name=urgency]:checked");
      var item = {
        key: key, created: Date.now(), role: role, user: boot.user.username,
        label: data.category.name,
        fields: {
          source: role, role: role, kind: data.category.kind, category_code: data.category.code,
          lon: data.lon, lat: data.lat, crs: "wgs84", address: address.value.trim(),
          description: description.value.trim(), urgency: picked ? picked.value : "ordinary",
          component_id: componentField.hidden ? "" : componentSelect.value, idempotency_key: key
        },
        photos: data.photos.slice()
      };
      rememberClass(data.category);
      submit.disabled = true;
      outbox.put(item).then(function () {
        form.setAttribute("data-key", key);
        return refreshOutboxBadge();
      }).then(function () {
        var done = false;
        var onSent = function (sentItem, caseData) {
          if (sentItem.key !== key || done) return;
          done = true;
          sentListeners.splice(sentListeners.indexOf(onSent), 1);
          showReported(result, form, caseData, role);
        };
        sentListeners.push(onSent);
        return flush().then(function () {
          if (done) return;
          return outbox.all().then(function (items) {
            var mine = items.filter(function (i) { return i.key === key; })[0];
            if (mine && mine.failed) {
              sentListeners.splice(sentListeners.indexOf(onSent), 1);
              toast(mine.failed.message, true);
              submit.disabled = false;
              return;
            }
            // Kept for later; onSent stays registered and reports it if this screen is still open.
            form.hidden = true;
            result.textContent = "";
            result.appendChild(el("div", { "class": "m-result", id: "r-queued", "data-key": key }, [
              el("strong", { text: t(S.queued) }),
              el("a", { "class": "m-btn", href: "#outbox", text: t(S.outbox) }),
              el("a", { "class": "m-btn", href: "#report/" + role, text: t(S.another), onclick: rerender })
            ]));
          });
        });
      }, function () { submit.disabled = false; toast(t(S.loadFailed), true); });
    });
    view.setAttribute("data-status", "ready");
  }

  function rerender(event) {
    // The same hash would not fire hashchange: render anew.
    if (event) event.preventDefault();
    route();
  }

  function showReported(result, form, c, role) {
    form.hidden = true;
    result.textContent = "";
    var box = el("div", { "class": "m-result", id: "r-sent", "data-number": c.number, "data-process": c.process }, [
      el("strong", { text: t(S.sent) + " " + c.number })]);
    if (role === "street_staff") {
      box.appendChild(el("span", { text: c.process === "street_self_handle" ? t(S.selfHandleNow) : t(S.reportedUp) }));
    }
    box.appendChild(el("a", { "class": "m-btn primary", id: "r-open", href: "#case/" + c.number + "/" + role + "/all", text: t(S.openCase) }));
    box.appendChild(el("a", { "class": "m-btn", href: "#report/" + role, text: t(S.another), onclick: rerender }));
    result.appendChild(box);
  }

  // ---- outbox screen ------------------------------------------------------------------------
  function renderOutbox() {
    screen(t(S.outbox), "#home");
    var list = el("ul", { "class": "m-list", id: "outbox-list" });
    view.appendChild(list);
    outbox.all().then(function (items) {
      if (!items.length) view.appendChild(el("p", { "class": "m-empty", text: t(S.outboxEmpty) }));
      items.sort(function (a, b) { return a.created - b.created; }).forEach(function (item) {
        var status = item.failed ? t(S.failed) + S.colon + item.failed.message :
          t(S.waiting) + (item.lastError ? interpolate(S.paren, [item.lastError]) : "");
        list.appendChild(el("li", { "class": "m-item", "data-key": item.key }, [
          el("div", { "class": "m-card" }, [
            light(item.failed ? "red" : "yellow", null),
            el("span", { "class": "title", text: item.label }),
            el("span", { "class": "left", text: new Date(item.created).toLocaleString(EN ? "en" : "zh-CN") }),
            el("span", { "class": "sub", text: status + " · " + interpolate(ngettext("%s photo", "%s photos", item.photos.length), [item.photos.length]) }),
            el("span", { "class": "sub m-actions" }, [
              el("button", { type: "button", "class": "m-btn", text: t(S.retry), onclick: function () {
                delete item.failed;
                outbox.put(item).then(function () { attempt = 0; return flush(); }).then(renderOutbox);
              } }),
              el("button", { type: "button", "class": "m-btn danger", text: t(S.remove), onclick: function () {
                if (window.confirm(t(S.removeConfirm))) outbox.remove(item.key).then(refreshOutboxBadge).then(renderOutbox);
              } })
            ])
          ])
        ]));
      });
      view.setAttribute("data-status", "ready");
    });
  }

  // ---- routing ------------------------------------------------------------------------------
  function route() {
    var parts = (location.hash || "#home").slice(1).split("/");
    var name = parts[0];
    window.scrollTo(0, 0);
    if (name === "report" && parts[1]) renderReport(parts[1]);
    else if (name === "tasks" && parts[1]) renderTasks(parts[1], parts[2] || "all");
    else if (name === "case" && parts[1]) renderCase(parts[1], parts[2] || "", parts[3] || "all");
    else if (name === "outbox") renderOutbox();
    else renderHome();
    view.focus({ preventScroll: true });
  }
  window.addEventListener("hashchange", route);

  document.querySelector("form.m-logout").addEventListener("submit", function (event) {
    var form = event.target;
    if (form.getAttribute("data-confirmed")) return;
    event.preventDefault();
    outbox.all().then(function (items) {
      if (items.length && !window.confirm(interpolate(ngettext(
        "%s unsent report stays on this phone and is sent when you log in again. Log out?",
        "%s unsent reports stay on this phone and are sent when you log in again. Log out?",
        items.length), [items.length]))) return;
      var clear = window.caches ? caches.keys().then(function (names) {
        var app = boot.sw.replace(/sw\.js$/, "");
        return Promise.all(names.filter(function (n) { return n.indexOf("cg-mobile-") === 0; })
          .map(function (n) { return caches.open(n).then(function (c) { return c["delete"](app); }); }));
      }) : Promise.resolve();
      clear.catch(function () { return null; }).then(function () {
        form.setAttribute("data-confirmed", "1");
        form.submit();
      });
    });
  });

  // ---- start --------------------------------------------------------------------------------
  showNet();
  route();
  refreshOutboxBadge().then(flush);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(boot.sw, { scope: boot.sw.replace(/sw\.js$/, "") }).then(function () {
      document.body.setAttribute("data-sw", "registered");
    }, function () { document.body.setAttribute("data-sw", "failed"); });
  }
  window.citygridMobile = { flush: flush, outbox: outbox, version: boot.version };
})();
