import { session } from "./api.js";
import { mount } from "./dom.js";
import { channelForm } from "./views/channel-form.js";
import { channelPage } from "./views/channel.js";
import { channelList } from "./views/channels.js";
import { connectPage } from "./views/connect.js";
import { eventsPage } from "./views/events.js";
import { signIn } from "./views/sign-in.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");

/** Hash routes: #/, #/channels?page=2, #/channels/new, #/channels/<id>, #/channels/<id>/edit, #/events?type=…, #/connect */
const routes = [
  [/^#?\/?$/, () => channelList()],
  [/^#\/channels(?:\?(.*))?$/, (query) => channelList(new URLSearchParams(query ?? ""))],
  [/^#\/channels\/new$/, () => channelForm()],
  [/^#\/channels\/([^/?]+)\/edit$/, (id) => channelForm(id)],
  [/^#\/channels\/([^/?]+)$/, (id) => channelPage(id)],
  [/^#\/events(?:\?(.*))?$/, (query) => eventsPage(new URLSearchParams(query ?? ""))],
  [/^#\/connect$/, () => connectPage()],
];

// A view may return a cleanup (to stop polling); it runs when the next view replaces it.
let cleanup = null;

async function render() {
  cleanup?.();
  cleanup = null;
  if (!session.token) {
    nav.hidden = true;
    mount(main, signIn(render));
    return;
  }
  nav.hidden = false;
  const hash = location.hash;
  for (const link of nav.querySelectorAll("[data-nav]")) {
    const section = hash.startsWith("#/events") ? "events" : hash.startsWith("#/connect") ? "connect" : "channels";
    const current = link.dataset.nav === section;
    link.toggleAttribute("aria-current", current);
    if (current) link.setAttribute("aria-current", "page");
  }
  for (const [pattern, view] of routes) {
    const match = hash.match(pattern);
    if (match) {
      const result = await view(...match.slice(1).map((part) => part && decodeURIComponent(part)));
      mount(main, result.element ?? result);
      cleanup = result.cleanup ?? null;
      main.focus({ preventScroll: true });
      return;
    }
  }
  location.hash = "#/";
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
