import { REQUEST_AND_LINK, REQUEST_EVENTS, requestDescription } from "./access-or-organisation-request";
import type { Template } from "./template";

/**
 * Jira Service Management, ITSM: an access request or an organisation request becomes a
 * customer request a person approves.
 *
 * API: "Create customer request", `POST /rest/servicedeskapi/request` with
 * `{"serviceDeskId", "requestTypeId", "requestFieldValues": {"summary", "description",
 * "labels"}}`; basic auth with an Atlassian account's email and API token.
 * https://developer.atlassian.com/cloud/jira/service-desk/rest/api-group-request/#api-rest-servicedeskapi-request-post
 * Jira has no idempotency key: the event ID goes into a label (`tyk-event-<id>`), which
 * a JQL search or an automation rule uses to find a duplicate.
 */
export const jiraServiceManagement: Template = {
  ID: "jira-service-management",
  Name: "Jira Service Management: a request to approve",
  Description:
    'Opens a Jira Service Management request for each new access request (app, requesting user, products, plan) and each request to create an organisation, with a link to the portal when PORTAL_URL is set. Jira has no idempotency key, so each request carries the label tyk-event-<event ID>: a duplicate (a delivery sent twice) is found with the JQL labels = "tyk-event-…" and can be closed by an automation rule. Replace your-domain, set serviceDeskId and requestTypeId in the Transform (GET /rest/servicedeskapi/servicedesk lists them), and use basic auth with your email and an API token.',
  Events: REQUEST_EVENTS,
  Method: "POST",
  URL: "https://your-domain.atlassian.example.com/rest/servicedeskapi/request",
  Transform: {
    Body: `(
  ${REQUEST_AND_LINK}
  {
    "serviceDeskId": "1",
    "requestTypeId": "10",
    "requestFieldValues": {
      "summary": $isAccess
        ? "Access request #" & $string(Message.ID) & " for app " & $string(Message.AppID) & " (plan " & $string(Message.PlanID) & ")"
        : "Organisation request: " & Message.Name,
      "description": ${requestDescription("      ", `["Tyk portal event " & $eventId]`)},
      "labels": ["tyk-portal", "tyk-event-" & $eventId]
    }
  }
)`,
  },
  Auth: { Type: "basic" },
  Headers: [],
};
