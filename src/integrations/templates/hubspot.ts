import type { Template } from "./template";

/**
 * HubSpot, CRM: each developer a contact.
 *
 * API: "Upsert a batch of contacts", `POST /crm/v3/objects/contacts/batch/upsert` with
 * `{"inputs": [{"idProperty": "email", "id": "<email>", "properties": {...}}]}`: creates
 * the contact, or updates the one whose unique property (`email`) has that value.
 * `Authorization: Bearer <private app access token>` (scope `crm.objects.contacts.write`).
 * https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/upsert-contacts
 * Properties: `email`, `firstname`, `lastname` are HubSpot's default contact properties
 * (https://developers.hubspot.com/docs/guides/api/crm/objects/contacts).
 */
export const hubspot: Template = {
  ID: "hubspot",
  Name: "HubSpot: a contact for each developer",
  Description:
    "Creates or updates a HubSpot contact when a developer registers, is activated or deactivated, or becomes an organisation's admin. It uses HubSpot's batch upsert with idProperty email: the same person is one contact however often a delivery is sent. Add the header Authorization: Bearer <private app token> (scope crm.objects.contacts.write).",
  Events: ["UserRegistered", "UserAccountActivated", "UserAccountDeactivated", "OrganisationRequestApproved"],
  Method: "POST",
  URL: "https://api.hubapi.com/crm/v3/objects/contacts/batch/upsert",
  Transform: {
    Body: `{
  "inputs": [
    {
      "idProperty": "email",
      "id": Message.Email,
      "properties": {
        "email": Message.Email,
        "firstname": Message.First,
        "lastname": Message.Last
      }
    }
  ]
}`,
  },
  Auth: null,
  Headers: ["Authorization"],
};
