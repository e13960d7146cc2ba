import { REQUEST_AND_LINK, REQUEST_EVENTS, requestDescription } from "./access-or-organisation-request";
import type { Template } from "./template";

/**
 * ServiceNow, ITSM: an access request or an organisation request becomes an incident
 * for the service desk to act on.
 *
 * API: the Table API, "Table - POST /now/table/{tableName}", `POST /api/now/table/incident`
 * with the record's fields (`short_description`, `description`, `correlation_id`,
 * `correlation_display`, `urgency`, `impact`); basic auth.
 * https://www.servicenow.com/docs/r/zurich/api-reference/rest-apis/c_TableAPI.html
 * https://www.servicenow.com/docs/r/zurich/api-reference/rest-api-explorer/t_GetStartedCreateInt.html
 * The Table API inserts; `correlation_id` holds the event ID, which ServiceNow provides
 * for exactly this (the ID of the record in the system that raised it), so a duplicate
 * can be refused by a business rule.
 */
export const servicenow: Template = {
  ID: "servicenow",
  Name: "ServiceNow: an incident to act on",
  Description:
    "Opens a ServiceNow incident for each new access request (app, requesting user, products, plan) and each request to create an organisation, with a link to the portal when PORTAL_URL is set. The Table API has no upsert, so correlation_id holds the event ID: a before-insert business rule that aborts when an incident with the same correlation_id exists makes a repeated delivery create nothing. Replace the instance name and use basic auth with an integration user that has the itil role.",
  Events: REQUEST_EVENTS,
  Method: "POST",
  URL: "https://instance.service-now.example.com/api/now/table/incident",
  Transform: {
    Body: `(
  ${REQUEST_AND_LINK}
  {
    "short_description": $isAccess
      ? "Tyk portal: access request #" & $string(Message.ID) & " for app " & $string(Message.AppID)
      : "Tyk portal: organisation request " & Message.Name,
    "description": ${requestDescription("    ", "[]")},
    "correlation_id": $eventId,
    "correlation_display": "Tyk portal",
    "urgency": "3",
    "impact": "3"
  }
)`,
  },
  Auth: { Type: "basic" },
  Headers: [],
};
