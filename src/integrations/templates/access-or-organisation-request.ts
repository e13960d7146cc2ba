import { PORTAL_LINK, type Template } from "./template";

/**
 * What the ITSM templates (Jira Service Management, ServiceNow) share: each turns an
 * AccessRequestCreated or an OrganisationRequestCreated into a ticket a person acts on,
 * described the same way.
 */

/** The events the JSONata below handles (an access request, else an organisation request): a template's `Events`. */
export const REQUEST_EVENTS: Template["Events"] = ["AccessRequestCreated", "OrganisationRequestCreated"];

/**
 * JSONata that defines `$portalLink` (PORTAL_LINK) and sets `$isAccess` (the event is an
 * access request, else an organisation request) and `$link`, the request's page in the
 * portal's admin (undefined without `PORTAL_URL`). For the top of a Body's block: its
 * first line goes where it is placed, the others are indented 2.
 */
export const REQUEST_AND_LINK = `${PORTAL_LINK}
  $isAccess := Event = "AccessRequestCreated";
  $link := $isAccess ? $portalLink("/admin/access_requests/" & $string(Message.ID)) : $portalLink("/admin/organisation_requests");`;

/**
 * JSONata for the ticket's description, after `REQUEST_AND_LINK`: the request's lines (what
 * is asked, by whom, its status), the portal link when there is one, then the lines of
 * `more` (a JSONata array), joined by newlines. `indent` is that of the line it is placed
 * on: the request's lines are indented 4 more.
 */
export function requestDescription(indent: string, more: string): string {
  return `$join($append($append($isAccess ? [
${indent}    "Access request " & $string(Message.ID) & " is waiting for a decision.",
${indent}    "App: " & $string(Message.AppID),
${indent}    "Requested by user: " & $string(Message.ByUser),
${indent}    "Products: " & ($count(Message.ProductIDs) > 0 ? $join(Message.ProductIDs.$string(), ", ") : "none"),
${indent}    "Plan: " & $string(Message.PlanID),
${indent}    "Status: " & Message.Status
${indent}  ] : [
${indent}    "A request to create the organisation " & Message.Name & " is waiting for a decision.",
${indent}    "Requested by: " & Message.AdminEmail & " (user " & $string(Message.ByUser) & ")",
${indent}    "Status: " & Message.Status
${indent}  ], $link ? ["Decide in the portal: " & $link] : []), ${more}), "\\n")`;
}
