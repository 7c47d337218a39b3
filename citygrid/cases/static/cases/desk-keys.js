/* citygrid desk: keyboard shortcuts for the command centre's queue (/cases/) and case detail
   (/cases/<number>/). The page declares its shortcuts in its markup and this file only acts on
   them, so what the help lists, what aria-keyshortcuts says and what a key does are one thing:

   - any element with data-key="x" is activated by the key x: a <details> (an operation panel)
     opens, scrolls into view and focuses its first field; a link is followed; a field is
     focused; a button is clicked;
   - on the queue (#queue-results): j / ArrowDown and k / ArrowUp move through the cases (the
     current row is marked and its link focused), Enter or o opens the current case,
     [ and ] go to the previous / next role tab;
   - ? opens the help (the <dialog id="keys-help"> the template renders, in the page's language);
   - in an operation form, Ctrl+Enter (⌘+Enter) submits it and Escape closes the panel;
     Escape in any other field leaves it.

   No shortcut fires while the user types in a field, holds Ctrl, Alt or ⌘, or composes text
   with an input method. */
(function () {
  "use strict";

  var help = document.getElementById("keys-help");
  var TYPING_INPUTS = /^(text|search|email|number|password|tel|url|date|datetime-local|month|time|week)$/;

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable) return true;
    return tag === "INPUT" && TYPING_INPUTS.test(target.type || "text");
  }
  function inField(target) {
    return isTyping(target) || (target && target.tagName === "INPUT");
  }

  // ---- declared shortcuts ------------------------------------------------------------------------
  function declared(key) {
    var found = null;
    Array.prototype.forEach.call(document.querySelectorAll("[data-key]"), function (node) {
      if (!found && node.getAttribute("data-key") === key && !node.closest("[hidden]")) found = node;
    });
    return found;
  }
  function firstField(container) {
    return container.querySelector(
      "select:not([disabled]), textarea:not([disabled]), input:not([type=hidden]):not([disabled])");
  }
  function activate(node) {
    if (node.tagName === "DETAILS") {
      node.open = true;
      node.scrollIntoView({ block: "nearest" });
      var field = firstField(node) || node.querySelector("button[type=submit]");
      if (field) field.focus();
    } else if (node.tagName === "A") {
      node.click();
    } else if (/^(INPUT|SELECT|TEXTAREA)$/.test(node.tagName)) {
      node.focus();
      if (node.select && node.tagName !== "SELECT") node.select();
    } else {
      node.click();
    }
  }

  // ---- the queue ---------------------------------------------------------------------------------
  var current = null;  // the number of the current case (rows are replaced by the live refresh)
  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-results tr[data-number]"));
  }
  function mark(row) {
    rows().forEach(function (r) {
      r.classList.remove("kb-current");
      r.removeAttribute("aria-current");
    });
    if (!row) return;
    current = row.getAttribute("data-number");
    row.classList.add("kb-current");
    row.setAttribute("aria-current", "true");
    var link = row.querySelector("a");
    if (link) link.focus();
    row.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    var list = rows();
    if (!list.length) return false;
    var at = list.findIndex(function (r) { return r.getAttribute("data-number") === current; });
    var next = at < 0 ? (step > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + step));
    mark(list[next]);
    return true;
  }
  function openCurrent() {
    var row = rows().filter(function (r) { return r.getAttribute("data-number") === current; })[0];
    var link = row && row.querySelector("a");
    if (!link) return false;
    link.click();
    return true;
  }
  function switchTab(step) {
    var tabs = Array.prototype.slice.call(document.querySelectorAll("nav.tabs a"));
    var at = tabs.findIndex(function (a) { return a.getAttribute("aria-current") === "page"; });
    var next = tabs[at + step];
    if (!next) return false;
    next.click();
    return true;
  }
  // The live refresh replaces the list: keep the mark on the same case if it is still there.
  document.addEventListener("htmx:afterSwap", function () {
    if (!current) return;
    var row = rows().filter(function (r) { return r.getAttribute("data-number") === current; })[0];
    if (row) { row.classList.add("kb-current"); row.setAttribute("aria-current", "true"); }
  });

  // ---- help ----------------------------------------------------------------------------------------
  function showHelp() {
    if (!help || help.open) return false;
    if (help.showModal) help.showModal(); else help.setAttribute("open", "");
    return true;
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-keys-help]"), function (button) {
    button.addEventListener("click", showHelp);
  });

  // ---- keys ----------------------------------------------------------------------------------------
  function onFieldKey(event) {
    var target = event.target;
    var panel = target.closest("details.op");
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && target.form) {
      event.preventDefault();
      if (target.form.requestSubmit) target.form.requestSubmit(); else target.form.submit();
      return;
    }
    if (event.key === "Escape" && !event.defaultPrevented) {
      if (panel) {
        panel.open = false;
        panel.querySelector("summary").focus();
      } else {
        target.blur();
      }
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.isComposing || event.keyCode === 229) return;
    if (inField(event.target)) { onFieldKey(event); return; }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (help && help.open) return;  // the dialog has the keyboard (Escape closes it)
    var key = event.key;
    var done = false;
    if (key === "?") done = showHelp();
    else if (key === "j" || key === "ArrowDown") done = move(1);
    else if (key === "k" || key === "ArrowUp") done = move(-1);
    else if ((key === "Enter" && !/^(A|BUTTON|SUMMARY)$/.test(event.target.tagName)) || key === "o") {
      done = openCurrent();
    }
    else if (key === "[") done = switchTab(-1);
    else if (key === "]") done = switchTab(1);
    if (!done && key.length === 1) {
      var node = declared(key);
      if (node) { activate(node); done = true; }
    }
    if (done) event.preventDefault();
  });

  document.documentElement.setAttribute("data-keys", "ready");
})();
