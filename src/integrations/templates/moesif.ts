import type { Template } from "./template";

/**
 * Moesif, API analytics and usage billing: each developer a Moesif user, in the company
 * of their organisation.
 *
 * API (Collector API, `api.moesif.net`, header `X-Moesif-Application-Id`): "Update a
 * User", `POST /v1/users` with `{"user_id", "company_id", "email", "metadata"}`, which
 * creates the user or merges into the one with that `user_id` (an upsert).
 * https://www.moesif.com/docs/api#update-a-user
 */
export const moesif: Template = {
  ID: "moesif",
  Name: "Moesif: users and companies",
  Description:
    "Keeps Moesif's user profiles in step with the portal: a user registered, activated or deactivated updates the Moesif user tyk-user-<ID>, in the company tyk-org-<OrgID>, with their name, status and custom attributes as metadata. Moesif's Update a User creates or merges by user_id, so a repeated delivery changes nothing. Add the header X-Moesif-Application-Id with your Collector Application Id.",
  Events: ["UserRegistered", "UserAccountActivated", "UserAccountDeactivated"],
  Method: "POST",
  URL: "https://api.moesif.net/v1/users",
  Transform: {
    Body: `{
  "user_id": "tyk-user-" & $string(Message.ID),
  "company_id": "tyk-org-" & $string(Message.OrgID),
  "email": Message.Email,
  "metadata": {
    "first_name": Message.First,
    "last_name": Message.Last,
    "status": Message.Status,
    "source": "tyk-portal",
    "custom_attributes": $merge(Message.CustomAttributes.{ Identifier: Value })
  }
}`,
  },
  Auth: null,
  Headers: ["X-Moesif-Application-Id"],
};
