import { session } from "./api.js";
import { h, mount, toast } from "./dom.js";
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
  [/^#\/channels\/([^/?]+)$/, "channels", (id) => channelPage(id)],
  [/^#\/deliveries(?:\?(.*))?$/, "deliveries", (query) => deliveriesPage(params(query))],
  [/^#\/events(?:\?(.*))?$/, "events", (query) => eventsPage(params(query))],
  [/^#\/connect$/, "connect", () => connectPage()],
];

// A view may return a cleanup (to stop polling); it runs when the next view replaces it.
let cleanup = null;
// Each render supersedes the one before: a slow view must not land after a faster one.
let renders = 0;

async function render() {
  const current = ++renders;
  cleanup?.();
  cleanup = null;
  toast.clear();
  if (!session.token) {
    nav.hidden = true;
    mount(main, signIn(render));
    done("sign-in");
    return;
  }
  nav.hidden = false;
  const hash = location.hash;
  const route = routes.find(([pattern]) => pattern.test(hash));
  if (!route) {
    location.hash = "#/";
    return;
  }
  const [pattern, section, view] = route;
  for (const link of nav.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  // Until the view's data arrives, say so (and tell assistive tech the region is busy):
  // a slow request must not leave the previous page looking current.
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
    main.focus({ preventScroll: true });
    return;
  }
  if (current !== renders) {
    result.cleanup?.();
    return;
  }
  mount(main, result.element ?? result);
  done(hash);
  cleanup = result.cleanup ?? null;
  main.focus({ preventScroll: true });
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
render();
