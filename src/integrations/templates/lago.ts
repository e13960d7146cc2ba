import type { Template } from "./template";

/**
 * Lago, billing: a developer who signs up becomes a Lago customer.
 *
 * API: "Create a customer", `POST /api/v1/customers` with `{"customer": {"external_id",
 * "name", "email", "firstname", "lastname", "customer_type", "metadata": [{key, value,
 * display_in_invoice}]}}`, `Authorization: Bearer <API key>`; "If the customer already
 * exists, this request will trigger an update": an upsert keyed by `external_id`.
 * https://docs.getlago.com/api-reference/customers/create
 * (and https://doc.getlago.com/docs/api/customers/create-customer)
 */
export const lago: Template = {
  ID: "lago",
  Name: "Lago: a customer for each developer",
  Description:
    "Creates or updates a Lago customer when a developer registers, is activated or deactivated. The customer's external_id is tyk-user-<portal user ID>, and Lago's create is an upsert by external_id: a delivery sent twice updates the same customer. Replace the host (https://api.getlago.com for Lago Cloud, or your own) and add the header Authorization: Bearer <your Lago API key>.",
  Events: ["UserRegistered", "UserAccountActivated", "UserAccountDeactivated"],
  Method: "POST",
  URL: "https://api.getlago.example.com/api/v1/customers",
  Transform: {
    Body: `{
  "customer": {
    "external_id": "tyk-user-" & $string(Message.ID),
    "name": $trim(Message.First & " " & Message.Last),
    "firstname": Message.First,
    "lastname": Message.Last,
    "email": Message.Email,
    "customer_type": "individual",
    "metadata": [
      { "key": "tyk_org_id", "value": $string(Message.OrgID), "display_in_invoice": false },
      { "key": "tyk_status", "value": Message.Status, "display_in_invoice": false }
    ]
  }
}`,
  },
  Auth: null,
  Headers: ["Authorization"],
};
