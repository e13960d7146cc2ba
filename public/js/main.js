import { session } from "./api.js";
import { confirmDialog, h, mount, toast } from "./dom.js";
import { channelPage } from "./views/channel.js";
import { channelForm } from "./views/channel-form.js";
import { channelList } from "./views/channels.js";
import { connectPage } from "./views/connect.js";
import { dashboard } from "./views/dashboard.js";
import { deliveriesPage } from "./views/deliveries-page.js";
import { eventsPage } from "./views/events.js";
import { signIn } from "./views/sign-in.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const params = (query) => new URLSearchParams(query ?? "");

/** Hash routes, each with the nav section it belongs to. */
const routes = [
  [/^#?\/?(?:\?(.*))?$/, "dashboard", (query) => dashboard(params(query))],
  [/^#\/channels(?:\?(.*))?$/, "channels", (query) => channelList(params(query))],
  [/^#\/channels\/new$/, "channels", () => channelForm()],
  [/^#\/channels\/([^/?]+)\/edit$/, "channels", (id) => channelForm(id)],
  [/^#\/channels\/([^/?]+)(?:\?(.*))?$/, "channels", (id, query) => channelPage(id, params(query))],
  [/^#\/deliveries(?:\?(.*))?$/, "deliveries", (query) => deliveriesPage(params(query))],
  [/^#\/events(?:\?(.*))?$/, "events", (query) => eventsPage(params(query))],
  [/^#\/connect$/, "connect", () => connectPage()],
];

// A view may return a cleanup (to stop polling); it runs when the next view replaces it.
let cleanup = null;
// A view may say it holds unsaved changes (`dirty()`): leaving it then asks first.
let dirty = null;
// Each render supersedes the one before: a slow view must not land after a faster one.
let renders = 0;
// The address of the view on screen: the same one rendered again (after a Pause, say)
// keeps its scroll position and focus; another starts at the top, focus on its heading.
let shown = null;

async function render() {
  if (dirty?.() && location.hash !== shown) {
    const leave = await confirmDialog("Leave this page? Your changes are not saved.", "Leave without saving");
    if (!leave) {
      // Back to the form's address, without a render: its unsaved values are still on screen.
      history.pushState(null, "", shown || "#/");
      return;
    }
  }
  dirty = null;
  const current = ++renders;
  cleanup?.();
  cleanup = null;
  toast.clear();
  if (!session.token) {
    nav.hidden = true;
    mount(main, signIn(render));
    done("sign-in");
    shown = null;
    return;
  }
  nav.hidden = false;
  const hash = location.hash;
  const route = routes.find(([pattern]) => pattern.test(hash));
  if (!route) {
    for (const link of nav.querySelectorAll("[data-nav]")) link.removeAttribute("aria-current");
    mount(main, notFound("page"));
    done(hash);
    arrive(hash);
    return;
  }
  const [pattern, section, view] = route;
  for (const link of nav.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  // Until the view's data arrives, say so (and tell assistive tech the region is busy):
  // a slow request must not leave the previous page looking current.
  // What to keep if this is the same view again: its scroll position, and the control in focus.
  const scrollY = window.scrollY;
  const keep = document.activeElement?.closest?.("[data-keep-focus]")?.dataset.keepFocus;
  main.setAttribute("aria-busy", "true");
  mount(main, h("p", { class: "loading", role: "status" }, "Loading…"));
  let result;
  try {
    result = await view(
      ...hash
        .match(pattern)
        .slice(1)
        .map((part) => part && decodeURIComponent(part)),
    );
  } catch (err) {
    if (current !== renders) return;
    if (err.status === 401) return; // signed out meanwhile: the sign-in form is on its way
    mount(main, err.status === 404 ? notFound(section) : failed(err));
    done(hash);
    arrive(hash);
    return;
  }
  if (current !== renders) {
    result.cleanup?.();
    return;
  }
  // The same view again (refreshed after a Pause, another page of its list, new filters):
  // it keeps its scroll position and focus. Another view starts at the top.
  const again = shown != null && hash.split("?")[0] === shown.split("?")[0];
  mount(main, result.element ?? result);
  done(hash);
  cleanup = result.cleanup ?? null;
  dirty = result.dirty ?? null;
  const kept = again && keep ? main.querySelector(`[data-keep-focus="${CSS.escape(keep)}"]`) : null;
  if (again) {
    shown = hash;
    window.scrollTo(0, scrollY);
    (kept ?? heading()).focus({ preventScroll: true });
    sayPending();
  } else arrive(hash);
}

/** The view's heading: where focus lands when a view opens (a screen reader reads it out). */
function heading() {
  const h1 = main.querySelector("h1") ?? main;
  if (h1 !== main) h1.tabIndex = -1;
  return h1;
}

/** Another view: it opens at its top, with focus on its heading. */
function arrive(hash) {
  shown = hash;
  window.scrollTo(0, 0);
  heading().focus({ preventScroll: true });
  sayPending();
}

/** A message said just before the navigation ("Channel created.") is said on the page it led to. */
function sayPending() {
  if (!toast.pending) return;
  const { message, kind } = toast.pending;
  toast.pending = null;
  toast(message, kind);
}

/** The view for `route` is on screen: not busy any more, and which one it is (tests wait for this). */
function done(route) {
  main.setAttribute("aria-busy", "false");
  main.dataset.route = route;
}

function notFound(section) {
  const what = { channels: "channel", deliveries: "delivery", events: "event" }[section] ?? "page";
  return h(
    "section",
    { class: "card empty state-page", dataset: { state: "not-found" } },
    h("h1", {}, `This ${what} does not exist`),
    h("p", { class: "muted" }, what === "channel" ? "It may have been deleted. Its deliveries stay listed under Deliveries." : "The link may be out of date."),
    h("a", { class: "button", href: section === "channels" ? "#/channels" : "#/" }, section === "channels" ? "All channels" : "Dashboard"),
  );
}

function failed(err) {
  // A page link from an old bookmark or a hand-edited address: trying again cannot help, the first page can.
  const [route, query = ""] = location.hash.split("?");
  if (err.status === 422 && new URLSearchParams(query).has("cursor")) {
    return h(
      "section",
      { class: "card empty state-page", dataset: { state: "error" } },
      h("h1", {}, "This page of the list is out of date"),
      h("p", { class: "muted" }, "The address names a position this list did not give. Start again from its first page."),
      h("a", { class: "button", href: route }, "First page"),
    );
  }
  return h(
    "section",
    { class: "card empty state-page", dataset: { state: "error" } },
    h("h1", {}, "This page could not be loaded"),
    h("p", { class: "muted" }, err.message),
    h("button", { type: "button", onclick: render }, "Try again"),
  );
}

document.getElementById("sign-out").addEventListener("click", () => {
  session.signOut();
  location.hash = "#/";
  render();
});
window.addEventListener("unauthorized", () => {
  session.signOut();
  render();
});
window.addEventListener("hashchange", render);
window.addEventListener("beforeunload", (event) => {
  if (dirty?.()) event.preventDefault();
});
render();
